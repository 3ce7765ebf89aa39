"""Routing benchmark: bot.routing against a plain TF-IDF + logistic-regression baseline on real messages.

`.venv/bin/python -m bench.routing` reads the hand labels in bench/routing/labels.csv (ids and top-level
categories only), the message texts from ../shared/data/citizen-messages at run time, and writes
bench/routing/REPORT.md. `--dev` scores the separate development sample (dev_labels.csv, the only one
looked at while improving the examples and settings) and writes nothing. Both systems learn from the same data/routing examples; no real message is
ever used for training.
"""
from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline

from bot.categories import CATEGORIES
from bot.routing import Router
from bot.routing.taxonomy import Taxonomy, split_label
from bot.settings import ROOT

HERE = Path(__file__).resolve().parent
MESSAGES_DIR = ROOT.parent / "shared" / "data" / "citizen-messages"
MESSAGE_FILES = ("messages-a.jsonl", "messages-with-replies.jsonl")
MIN_SUPPORT = 5


def load_labels(path: Path) -> Dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        return {row["id"]: row["category"] for row in csv.DictReader(handle)}


def load_messages(ids: Sequence[str]) -> Dict[str, dict]:
    wanted, found = set(ids), {}
    for name in MESSAGE_FILES:
        with (MESSAGES_DIR / name).open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row["id"] in wanted:
                    found.setdefault(row["id"], row)
    return found


def baseline(taxonomy: Taxonomy):
    """TF-IDF character n-grams + logistic regression on the top-level categories, no keyword priors."""
    texts = [text for text, _ in taxonomy.examples]
    targets = [split_label(name)[0] for _, name in taxonomy.examples]
    model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                          LogisticRegression(C=20.0, max_iter=2000))
    return model.fit(texts, targets)


def scores(gold: List[str], predicted: List[str]) -> dict:
    present = [c for c in CATEGORIES if c in gold]
    frequent = [c for c in present if gold.count(c) >= MIN_SUPPORT]
    per_category = f1_score(gold, predicted, labels=present, average=None, zero_division=0)
    return {
        "accuracy": accuracy_score(gold, predicted),
        "macro_f1": f1_score(gold, predicted, labels=present, average="macro", zero_division=0),
        "macro_f1_frequent": f1_score(gold, predicted, labels=frequent, average="macro", zero_division=0),
        "per_category": dict(zip(present, per_category)),
    }


def timed(function, *args) -> Tuple[object, float]:
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def report(n: int, gold: List[str], ours: dict, base: dict, confusions: Counter, timing: dict) -> str:
    support = Counter(gold)
    lines = [
        "# Routing benchmark",
        "",
        f"{n} real citizen messages: `random.Random(12345).sample(sorted(ids), 340)` over the union of ids of",
        "messages-a.jsonl and messages-with-replies.jsonl in ../shared/data/citizen-messages, each read",
        "(title, text, reply) and hand-labelled with its top-level category; only ids and labels are committed",
        "(`labels.csv`), texts are read at run time. Both systems are trained only on the project-written",
        "examples in data/routing (no real message is used for training); input is title + text.",
        "",
        "How the figures were kept honest: the examples are written by the project. A first version, written",
        "while this test sample was being labelled, turned out to paraphrase many test messages (it scored",
        "macro-F1 0.80 here); those ~190 examples were deleted and replaced by new ones, which dropped the",
        "score to 0.57 and shows how much the paraphrases inflated it. All later changes (keywords, the",
        "keyword weight, title weight, C, and examples for the error types seen) were made by looking only at",
        "a separate development sample: `dev_labels.csv`, 148 messages drawn with `random.Random(777)` from",
        "the ids not in this sample, de-duplicated against it (`--dev` scores it; it reads about 0.80 there,",
        "an optimistic figure since it was tuned on). This sample was then scored once for the table below.",
        "The corpus repeats some complaints under several ids (e.g. one mixing plant near one estate), so",
        "dev-driven examples can still touch topics of test messages.",
        "Macro-F1 over all present categories averages classes with 1–4 test messages, where one message",
        "moves a class's F1 by up to 0.5; the ≥5 column is the steadier figure.",
        "Regenerate with `.venv/bin/python -m bench.routing`.",
        "",
        "| system | accuracy | macro-F1 (all present categories) | macro-F1 (categories with ≥5 messages) |",
        "| --- | --- | --- | --- |",
        f"| bot.routing (char+word TF-IDF, linear SVM, keyword priors, calibrated) | {ours['accuracy']:.3f} "
        f"| {ours['macro_f1']:.3f} | {ours['macro_f1_frequent']:.3f} |",
        f"| baseline (char TF-IDF + logistic regression, no priors) | {base['accuracy']:.3f} "
        f"| {base['macro_f1']:.3f} | {base['macro_f1_frequent']:.3f} |",
        "",
        "## Per-category F1",
        "",
        "| category | messages | bot.routing | baseline |",
        "| --- | --- | --- | --- |",
    ]
    for category in ours["per_category"]:
        lines.append(f"| {category} | {support[category]} | {ours['per_category'][category]:.2f} "
                     f"| {base['per_category'][category]:.2f} |")
    lines += ["", "## Most frequent confusions of bot.routing (true → predicted)", ""]
    lines += [f"- {t} → {p}: {count}" for (t, p), count in confusions.most_common(10)]
    lines += [
        "",
        "## Speed (this machine, 2 shared cores)",
        "",
        f"- training from data/routing: {timing['train']:.1f} s (once; later starts load the cached model "
        f"in {timing['load']:.2f} s)",
        f"- classification: {timing['per_second']:.0f} messages/s ({n} messages in {timing['classify']:.2f} s)",
        "",
        "## Labelling conventions",
        "",
        "Top-level categories follow the contest tree (taxonomy.csv) with these decisions where it is ambiguous:",
        "buses, metro and intercity rail, taxis, highways and rural roads, driving schools and couriers →",
        "交通运输; traffic police matters (parking, signals, crossings, vehicle and licence business,",
        "accidents), household registration, public order, fraud reported to the police, fire safety and",
        "courts → 政法; urban roads, street lights, drainage, water/gas/power supply, sanitation, parks,",
        "street vending, housing, property management, demolition and 公积金 → 城乡建设; construction,",
        "traffic, commercial and neighbourhood noise, dust and fumes → 环境保护; wage arrears and social",
        "insurance → 劳动和社会保障; land acquisition and mining → 国土资源; village affairs, irrigation and",
        "farm subsidies → 农村农业; telecoms, broadband and cable TV → 科技与信息产业.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] = ()) -> int:
    if not MESSAGES_DIR.is_dir():
        print(f"bench.routing: the real messages are missing: expected {MESSAGES_DIR}", file=sys.stderr)
        return 2
    dev = "--dev" in argv
    labels = load_labels(HERE / ("dev_labels.csv" if dev else "labels.csv"))
    messages = load_messages(list(labels))
    ids = [i for i in labels if i in messages]
    gold = [labels[i] for i in ids]
    titles = [messages[i].get("title") or "" for i in ids]
    texts = [messages[i].get("text") or "" for i in ids]

    with tempfile.TemporaryDirectory() as cache:
        _, train_seconds = timed(Router, ROOT / "data" / "routing", Path(cache))
        router, load_seconds = timed(Router, ROOT / "data" / "routing", Path(cache))
    routes, classify_seconds = timed(router.classify_many, texts, titles)
    ours_predicted = [route.category or "" for route in routes]
    base_predicted = list(baseline(Taxonomy.load()).predict([f"{t} {x}" for t, x in zip(titles, texts)]))

    ours, base = scores(gold, ours_predicted), scores(gold, base_predicted)
    if dev:
        print(f"dev: bot.routing macro-F1 {ours['macro_f1']:.3f} accuracy {ours['accuracy']:.3f}; "
              f"baseline macro-F1 {base['macro_f1']:.3f}")
        for i, t, p in zip(ids, gold, ours_predicted):
            if t != p:
                print(f"  {i}: {t} -> {p}  {messages[i].get('title', '')}")
        return 0
    confusions = Counter((t, p) for t, p in zip(gold, ours_predicted) if t != p)
    timing = {"train": train_seconds, "load": load_seconds, "classify": classify_seconds,
              "per_second": len(ids) / max(classify_seconds, 1e-9)}
    (HERE / "REPORT.md").write_text(report(len(ids), gold, ours, base, confusions, timing), encoding="utf-8")
    print(f"bot.routing: accuracy {ours['accuracy']:.3f}, macro-F1 {ours['macro_f1']:.3f} "
          f"(≥{MIN_SUPPORT} messages: {ours['macro_f1_frequent']:.3f})")
    print(f"baseline:    accuracy {base['accuracy']:.3f}, macro-F1 {base['macro_f1']:.3f} "
          f"(≥{MIN_SUPPORT} messages: {base['macro_f1_frequent']:.3f})")
    print(f"{len(ids)} messages, {timing['per_second']:.0f} messages/s; wrote {HERE / 'REPORT.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
