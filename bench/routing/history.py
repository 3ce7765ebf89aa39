"""Routing learned from a hotline's history: 5-fold cross-validation on labelled-history.jsonl.

`.venv/bin/python -m bench.routing.history` reads ../shared/data/citizen-messages/labelled-history.jsonl at
run time through the same importer as `bianmin routing learn`, drops the rows that repeat a message of
this benchmark's own labelled sets (labels.csv, dev_labels.csv), splits the rest into 5 folds fixed by
SEED and scores on each held-out fold:
(a) the router with a model learned from the fold's training rows plus the project's examples;
(b) the baseline, character 1-3-gram TF-IDF + linear SVM, trained on the same rows;
(c) the zero-shot router (examples only) — with its sentence embeddings on a seeded sample of
    ZERO_SHOT_SAMPLE held-out rows (embedding every message takes about 100 ms), words only on all.
(a) and (b) are trained on LEARNING_SIZES rows of each fold's training part (a seeded subset) and on all
of them. Then the speed: learning from all rows and classifying through `bianmin classify`'s code path,
each REPEATS times with the load average, the median reported (the machine is shared).
The section "Learning from a hotline's history" of REPORT.md is rewritten; the rest is kept.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Set, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from bench.routing.__main__ import HERE, MESSAGES_DIR, dispatch_gate, load_labels, load_messages, scores, timed
from bench.routing.__main__ import HISTORY_SECTION as SECTION
from bot.routing import Router
from bot.routing.classify_cli import classify_lines
from bot.routing.history import HistoryReader, HistoryRow, dedup_key
from bot.routing.learned import LearnedModel, save
from bot.routing.taxonomy import DATA_DIR, Taxonomy

HISTORY_FILE = MESSAGES_DIR / "labelled-history.jsonl"
SEED = 2026
FOLDS = 5
LEARNING_SIZES = (500, 2000)  # and all training rows of a fold
ZERO_SHOT_SAMPLE = 400
NEAR = 0.4  # character 5-gram Jaccard (title + first 200 characters) above which a row repeats a labelled message
GATE_THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99)
PRECISION = 0.97
RELIABILITY_BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01)  # confidence ranges of the reliability table
REPEATS = 3  # speed measurements: each repeated, the median reported
CLASSIFY_SAMPLE = 1000  # messages a classify measurement reads (a different seeded sample each time)


def grams(title: str, text: str) -> Set[str]:
    key = dedup_key(f"{title}{text[:200]}")
    return {key[i : i + 5] for i in range(max(len(key) - 4, 1))}


def repeats_of_labelled(rows: Sequence[HistoryRow], labelled: Sequence[dict]) -> List[int]:
    """Indexes of history rows whose title or text equals, or nearly repeats, a labelled message."""
    index: Dict[str, List[int]] = {}
    labelled_grams = [grams(m.get("title") or "", m.get("text") or "") for m in labelled]
    for k, gram_set in enumerate(labelled_grams):
        for gram in gram_set:
            index.setdefault(gram, []).append(k)
    titles = {dedup_key(m.get("title") or "") for m in labelled} - {""}
    texts = {dedup_key(m.get("text") or "") for m in labelled} - {""}
    out = []
    for n, row in enumerate(rows):
        if dedup_key(row.title) in titles or dedup_key(row.text) in texts:
            out.append(n)
            continue
        mine = grams(row.title, row.text)
        shared: Dict[int, int] = {}
        for gram in mine:
            for k in index.get(gram, ()):
                shared[k] = shared.get(k, 0) + 1
        if any(count / len(mine | labelled_grams[k]) > NEAR for k, count in shared.items()):
            out.append(n)
    return out


def baseline(rows: Sequence[HistoryRow]):
    """Character 1-3-gram TF-IDF + linear SVM on title + text (the issue's baseline)."""
    model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), LinearSVC())
    return model.fit([f"{r.title} {r.text}" for r in rows], [r.category for r in rows])


def subset(indexes: np.ndarray, size: int, seed: int) -> np.ndarray:
    if size >= len(indexes):
        return indexes
    return np.array(sorted(random.Random(seed).sample(list(indexes), size)))


def cross_validate(rows: List[HistoryRow], router: Router, log) -> dict:
    """Out-of-fold predictions of (a) and (b) at each size and (a)'s confidences with all rows."""
    gold = [r.category for r in rows]
    sizes = [*LEARNING_SIZES, len(rows)]
    predicted = {(system, size): [""] * len(rows) for system in ("learned", "baseline") for size in sizes}
    confidence = [0.0] * len(rows)
    taxonomy = Taxonomy.load()
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for fold, (train, test) in enumerate(folds.split(np.zeros(len(rows)), gold)):
        held = [rows[i] for i in test]
        texts, titles = [r.text for r in held], [r.title for r in held]
        for size in sizes:
            chosen = [rows[i] for i in subset(train, size, SEED + fold)]
            model, seconds = timed(LearnedModel, chosen, taxonomy)
            ranked = router.model.predict(texts, titles, None, top_level=model)
            if size == len(rows):
                for i, (_, _, conf, _) in zip(test, ranked):
                    confidence[i] = conf
            for i, (category, *_rest) in zip(test, ranked):
                predicted[("learned", size)][i] = category
            for i, category in zip(test, baseline(chosen).predict([f"{r.title} {r.text}" for r in held])):
                predicted[("baseline", size)][i] = category
            log(f"fold {fold + 1}: {len(chosen)} rows learned in {seconds:.1f} s")
    return {"gold": gold, "predicted": predicted, "confidence": confidence, "sizes": sizes}


def gate_share(rows: List[Tuple[float, float, float]]) -> Tuple[float, float, float]:
    """(threshold, coverage, accuracy) of the lowest threshold whose dispatched routes are ≥ PRECISION right."""
    good = [row for row in rows if row[2] == row[2] and row[2] >= PRECISION]
    return min(good) if good else (float("nan"), 0.0, float("nan"))


def reliability(gold: Sequence[str], predicted: Sequence[str], confidence: Sequence[float]) -> List[tuple]:
    """(low, high, messages, mean confidence, accuracy) per confidence range: calibrated when they agree."""
    out = []
    for low, high in zip(RELIABILITY_BINS, RELIABILITY_BINS[1:]):
        inside = [(c, g == p) for g, p, c in zip(gold, predicted, confidence) if low <= c < high]
        if inside:
            out.append(
                (low, min(high, 1.0), len(inside), np.mean([c for c, _ in inside]), np.mean([r for _, r in inside]))
            )
    return out


def expected_calibration_error(table: Sequence[tuple]) -> float:
    total = sum(row[2] for row in table)
    return sum(row[2] * abs(row[3] - row[4]) for row in table) / total


def load_average() -> float:
    return os.getloadavg()[0]


def measure_speed(rows: List[HistoryRow], log) -> dict:
    """Learning from all rows and classifying CLASSIFY_SAMPLE messages as `bianmin classify` does (JSON
    lines in and out, batches, the router with the learned model; process start not counted), REPEATS times
    each, with the 1-minute load average before and after each measurement."""
    taxonomy = Taxonomy.load()
    learns, classifies = [], []
    with tempfile.TemporaryDirectory() as cache:
        for n in range(REPEATS):
            before = load_average()
            model, seconds = timed(LearnedModel, rows, taxonomy)
            learns.append((seconds, before, load_average()))
            log(f"learn {n + 1}: {seconds:.1f} s, load {before:.1f} / {load_average():.1f}")
        save(model, Path(cache))
        router = Router(DATA_DIR, Path(cache), semantic=False)
        order = random.Random(SEED).sample(range(len(rows)), len(rows))
        for n in range(REPEATS):
            sample = [rows[i] for i in order[n * CLASSIFY_SAMPLE : (n + 1) * CLASSIFY_SAMPLE]]
            lines = [
                json.dumps({"id": k, "title": r.title, "text": r.text}, ensure_ascii=False)
                for k, r in enumerate(sample)
            ]
            before = load_average()
            start = time.perf_counter()
            out = [json.dumps(record, ensure_ascii=False) for record in classify_lines(lines, router)]
            seconds = time.perf_counter() - start
            assert len(out) == len(sample)
            classifies.append((len(sample) / seconds, before, load_average()))
            log(f"classify {n + 1}: {len(sample) / seconds:.0f} messages/s, load {before:.1f} / {load_average():.1f}")
    return {"learn": learns, "classify": classifies}


def section(summary: dict) -> str:
    """The REPORT.md section (markdown) from the measured figures."""
    s = summary
    lines = [
        SECTION,
        "",
        f"`.venv/bin/python -m bench.routing.history`. {s['read']} rows of labelled-history.jsonl (7 of the 15",
        "categories, labelled by a hotline: it stands for a hotline's export), read at run time by the importer of",
        f"`bianmin routing learn`: {s['report']}. {s['repeats']} more rows repeat a message of this benchmark's",
        f"labelled sets (same title or text, or character 5-gram Jaccard > {NEAR}) and are left out, which leaves",
        f"{s['rows']}. {FOLDS}-fold cross-validation, folds stratified and fixed by seed {SEED}; at 500 and 2,000 rows",
        "each fold trains on a seeded subset of its training part. Macro-F1 over the 7 categories of the history;",
        "a prediction of one of the other 8 counts as an error.",
        "",
        "| system | training rows | macro-F1 | accuracy |",
        "| --- | --- | --- | --- |",
    ]
    for name, size, result in s["table"]:
        lines.append(f"| {name} | {size} | {result['macro_f1']:.3f} | {result['accuracy']:.3f} |")
    lines += [
        "",
        "Learned router minus baseline, macro-F1: "
        + ", ".join(f"{size} rows {gap:+.3f}" for size, gap in s["gaps"])
        + ".",
        "",
        "Per-category F1 with all rows (learned / baseline): "
        + ", ".join(f"{c} {s['per_category'][c][0]:.2f} / {s['per_category'][c][1]:.2f}" for c in s["per_category"])
        + ".",
        "",
        "### Dispatch gate of the learned router (all rows, out-of-fold)",
        "",
        "| confidence ≥ | coverage | accuracy |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {t:.2f} | {c:.1%} | {a:.1%} |" for t, c, a in s["gate"]]
    t, c, a = s["gate_share"]
    lines += [
        "",
        f"At ≥ {PRECISION:.0%} precision: confidence ≥ {t:.2f} dispatches {c:.1%} of the messages ({a:.1%} right). "
        "The threshold is read off the same out-of-fold predictions, so it is slightly optimistic.",
        "",
        "Reliability of the confidence (all rows, out-of-fold; the temperature of each fold's model is fitted on",
        "out-of-fold scores of its own training rows): calibrated when the mean confidence of a range matches",
        f"the accuracy in it. Expected calibration error {s['ece']:.3f}.",
        "",
        "| confidence | messages | mean confidence | accuracy |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {lo:.2f}–{hi:.2f} | {n} | {m:.3f} | {acc:.3f} |" for lo, hi, n, m, acc in s["reliability"]]
    learn, classify = s["speed"]["learn"], s["speed"]["classify"]
    lines += [
        "",
        "### Speed (this machine, 2 cores shared with other work)",
        "",
        f"Each measured {REPEATS} times in one run; the median, every run, and the 1-minute load average before /",
        "after each (2 would be the machine's capacity).",
        "",
        f"- learning from {s['learn_rows']} rows (the {s['rows']} history rows + the {s['examples']} examples), "
        f"as `bianmin routing learn` does after reading: median {statistics.median(x for x, _, _ in learn):.1f} s ("
        + ", ".join(f"{x:.1f} s at load {b:.1f} / {a:.1f}" for x, b, a in learn)
        + "). No sentence embedding is computed.",
        f"- `bianmin classify` with the learned model ({CLASSIFY_SAMPLE} messages a run through its code path: JSON "
        "lines in and out, batches of 256; the process start is not counted): median "
        f"{statistics.median(x for x, _, _ in classify):.0f} messages/s ("
        + ", ".join(f"{x:.0f} at load {b:.1f} / {a:.1f}" for x, b, a in classify)
        + f"). The zero-shot router with its sentence embeddings: {s['zero_shot_per_second']:.0f} messages/s "
        "(embedding a message costs about 100 ms, so the learned model reads words only).",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str, path: Path = HERE / "REPORT.md") -> None:
    """Replaces (or appends) the history section of REPORT.md, keeping everything else."""
    report = path.read_text(encoding="utf-8") if path.is_file() else ""
    before, _, after = report.partition(SECTION)
    rest = after[after.find("\n## ") :] if "\n## " in after else ""
    path.write_text(before.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n" + rest, encoding="utf-8")


def main(argv: Sequence[str] = ()) -> int:
    if not HISTORY_FILE.is_file():
        print(f"bench.routing.history: the history is missing: expected {HISTORY_FILE}", file=sys.stderr)
        return 2
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    reader = HistoryReader()
    everything = reader.read(HISTORY_FILE)
    labels = {**load_labels(HERE / "labels.csv"), **load_labels(HERE / "dev_labels.csv")}
    repeats = set(repeats_of_labelled(everything, list(load_messages(list(labels)).values())))
    rows = [row for n, row in enumerate(everything) if n not in repeats]
    log(f"{len(rows)} rows ({len(repeats)} repeat labelled messages)")

    with tempfile.TemporaryDirectory() as cache:
        router = Router(DATA_DIR, Path(cache))
        words_router = Router(DATA_DIR, Path(cache) / "words", semantic=False)
        result = cross_validate(rows, router, log)
        sample = sorted(random.Random(SEED).sample(range(len(rows)), ZERO_SHOT_SAMPLE))
        zero, zero_seconds = timed(
            router.classify_many, [rows[i].text for i in sample], [rows[i].title for i in sample]
        )
        zero_words = words_router.classify_many([r.text for r in rows], [r.title for r in rows])
    speed = measure_speed(rows, log)

    gold, predicted, sizes = result["gold"], result["predicted"], result["sizes"]
    table = []
    for size in sizes:
        for system, name in (
            ("learned", "(a) router learned from history + examples"),
            ("baseline", "(b) baseline: char 1-3-gram TF-IDF + linear SVM"),
        ):
            table.append((name, "all" if size == len(rows) else size, scores(gold, predicted[(system, size)])))
    table.append(
        (
            f"(c) zero-shot router (examples only), seeded sample of {ZERO_SHOT_SAMPLE}",
            0,
            scores([gold[i] for i in sample], [r.category or "" for r in zero]),
        )
    )
    table.append(
        (
            "(c) zero-shot router, words only (no embeddings), all rows",
            0,
            scores(gold, [r.category or "" for r in zero_words]),
        )
    )
    gaps = [
        (
            "all" if size == len(rows) else size,
            scores(gold, predicted[("learned", size)])["macro_f1"]
            - scores(gold, predicted[("baseline", size)])["macro_f1"],
        )
        for size in sizes
    ]
    learned_all, base_all = (
        scores(gold, predicted[("learned", len(rows))]),
        scores(gold, predicted[("baseline", len(rows))]),
    )
    gate = dispatch_gate(gold, predicted[("learned", len(rows))], result["confidence"], GATE_THRESHOLDS)
    reliable = reliability(gold, predicted[("learned", len(rows))], result["confidence"])
    report = reader.report
    summary = {
        "read": report.read,
        "rows": len(rows),
        "repeats": len(repeats),
        "report": (
            f"{report.kept} kept, {sum(report.unknown_categories.values())} with an unknown category, "
            f"{report.empty_text} with an empty text, {report.duplicates} duplicates (the same text up to "
            f"blanks), {report.unreadable} unreadable"
        ),
        "table": table,
        "gaps": gaps,
        "per_category": {
            c: (learned_all["per_category"][c], base_all["per_category"][c]) for c in learned_all["per_category"]
        },
        "gate": gate,
        "gate_share": gate_share(gate),
        "reliability": reliable,
        "ece": expected_calibration_error(reliable),
        "learn_rows": len(rows) + len(Taxonomy.load().examples),
        "examples": len(Taxonomy.load().examples),
        "speed": speed,
        "zero_shot_per_second": ZERO_SHOT_SAMPLE / zero_seconds,
    }
    write_section(section(summary))
    for name, size, result_ in table:
        print(f"{name} [{size}]: macro-F1 {result_['macro_f1']:.3f}, accuracy {result_['accuracy']:.3f}")
    print("gaps: " + ", ".join(f"{size}: {gap:+.3f}" for size, gap in gaps))
    print(f"gate at {PRECISION:.0%}: {summary['gate_share']}; ECE {summary['ece']:.3f}; wrote {HERE / 'REPORT.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
