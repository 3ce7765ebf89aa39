"""NLU quality: `python -m bench.nlu` runs 3-fold cross-validation and writes bench/nlu/REPORT.md.

The baseline in the same run is the majority class (what a model that learned nothing would score).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bot.settings import ROOT
from bot.model import cross_validate

REPORT = ROOT / "bench" / "nlu" / "REPORT.md"
FOLDS = 3  # the same as the regression test; ~13 min on 2 cores with ~2,000 examples


def main() -> int:
    report = cross_validate(FOLDS, Path(tempfile.mkdtemp(prefix="bianmin-crossval-")))
    intents = {name: s for name, s in report.items() if isinstance(s, dict) and "support" in s
               and name not in ("micro avg", "macro avg", "weighted avg")}
    total = sum(s["support"] for s in intents.values())
    majority = max(s["support"] for s in intents.values()) / total
    lines = [
        "# NLU intent classification (cross-validation)", "",
        f"Command: `.venv/bin/python -m bench.nlu`; {FOLDS}-fold cross-validation of the pipeline in config.yml "
        f"over data/nlu ({total} examples, {len(intents)} intents).", "",
        f"- weighted F1: **{report['weighted avg']['f1-score']:.3f}**, macro F1: {report['macro avg']['f1-score']:.3f}, "
        f"accuracy: {report.get('accuracy', 0):.3f}",
        f"- baseline (majority class) accuracy: {majority:.3f}", "",
        "| intent | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {name} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1-score']:.2f} | {s['support']} |"
              for name, s in sorted(intents.items())]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
