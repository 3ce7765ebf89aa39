"""Routing benchmark: bot.routing against a plain TF-IDF + logistic-regression baseline on real messages.

`.venv/bin/python -m bench.routing` reads the hand labels in bench/routing/labels.csv (ids and top-level
categories only), the message texts from ../shared/data/citizen-messages at run time, and writes
bench/routing/REPORT.md. `--dev` scores the separate development sample (dev_labels.csv, the only one
looked at while improving the examples and settings) and writes nothing; `--dev --errors` also lists its errors. Both systems learn from the same data/routing examples; no real message is
ever used for training.
"""

from __future__ import annotations

import csv
import json
import os
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
MIN_SUPPORT = 10  # the steadier macro-F1 averages only categories with at least this many messages
ORIGINAL_MIN_SUPPORT = 5  # ... and on the original 340-message sample, as it was first reported
GATE_THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9)  # confidences at which routes could be dispatched unchecked
HISTORY_SECTION = "## Learning from a hotline's history"  # written by bench.routing.history, kept by this one


def load_labels(path: Path, sample: str = "") -> Dict[str, str]:
    """id -> category of a label file; only the rows of one `sample` ("original", "stratified") if given."""
    with path.open(encoding="utf-8") as handle:
        return {
            row["id"]: row["category"]
            for row in csv.DictReader(handle)
            if not sample or row.get("sample", "original") == sample
        }


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
    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
        LogisticRegression(C=20.0, max_iter=2000),
    )
    return model.fit(texts, targets)


def scores(gold: List[str], predicted: List[str], min_support: int = MIN_SUPPORT) -> dict:
    present = [c for c in CATEGORIES if c in gold]
    frequent = [c for c in present if gold.count(c) >= min_support]
    per_category = f1_score(gold, predicted, labels=present, average=None, zero_division=0)
    return {
        "accuracy": accuracy_score(gold, predicted),
        "macro_f1": f1_score(gold, predicted, labels=present, average="macro", zero_division=0),
        "macro_f1_frequent": f1_score(gold, predicted, labels=frequent, average="macro", zero_division=0),
        "per_category": dict(zip(present, per_category)),
    }


def dispatch_gate(
    gold: List[str], predicted: List[str], confidences: List[float], thresholds: Sequence[float] = GATE_THRESHOLDS
) -> List[Tuple[float, float, float]]:
    """(threshold, coverage, accuracy) when only routes at or above each confidence are dispatched
    automatically and the rest wait for a dispatcher; accuracy is over the dispatched ones."""
    rows = []
    for threshold in thresholds:
        kept = [g == p for g, p, c in zip(gold, predicted, confidences) if c >= threshold]
        rows.append((threshold, len(kept) / max(len(gold), 1), sum(kept) / len(kept) if kept else float("nan")))
    return rows


def timed(function, *args) -> Tuple[object, float]:
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


OURS = "bot.routing (char+word TF-IDF, linear SVM, keyword priors, calibrated; mixed with LR on e5 sentence embeddings)"
WORDS = "bot.routing, words only (the same without the embedding classifier)"
BASELINE = "baseline (char TF-IDF + logistic regression, no priors)"
SECOND = "second annotator (independent labels of the same messages, `second_labels.csv`): the human ceiling"


def report(
    gold: List[str],
    systems: Dict[str, Tuple[dict, dict]],
    confusions: Counter,
    timing: dict,
    gate: Dict[str, List[Tuple[float, float, float]]],
) -> str:
    """REPORT.md: the figures on the whole test set, on its original 340 messages, per category, the
    dispatch gate, speed. `systems`: name -> (scores on the whole test set, scores on its original 340
    messages); `gate`: sample name -> dispatch_gate rows of bot.routing."""
    support, n = Counter(gold), len(gold)
    ours, base = systems[OURS][0], systems[BASELINE][0]
    lines = [
        "# Routing benchmark",
        "",
        f"{n} real citizen messages from ../shared/data/citizen-messages (ids and hand labels in `labels.csv`,",
        "texts read at run time), each read (title, text, reply) and labelled with its top-level category.",
        "Both systems are trained only on the project-written examples in data/routing (no real message is used",
        "for training); input is title + text.",
        "",
        "## The labelled sets",
        "",
        "- `original` rows of `labels.csv` (340): `random.Random(12345).sample(sorted(ids), 340)` over the union of",
        "  ids of messages-a.jsonl and messages-with-replies.jsonl. At natural rates four categories had 1–4",
        "  messages there, so macro-F1 over all categories was mostly noise.",
        "- `stratified` rows (354 in the test set, 686 in the development set): a pool of",
        "  `random.Random(2026).sample(remaining ids, 1700)`, de-duplicated (character 5-gram Jaccard > 0.4 of",
        "  title + first 200 characters) against the earlier sets and within itself, of which the first 1,040 were",
        "  all hand-labelled. The pool was then split per category with `random.Random(2026)`: for the 11",
        "  categories with fewer than 30 original test messages two thirds went to the test set and one third to",
        "  dev; for the 4 common ones one fifth went to test and the rest to dev. The test set is therefore",
        "  **stratified**: rare categories are over-represented, so its accuracy is not the accuracy at natural",
        "  rates (the original sample's column is). 党务政务 and 纪检监察 stay below 10 test messages: the",
        "  corpus has too few of them (about 0.5 %).",
        "- `dev_labels.csv` (1,524: 148 `original` drawn with `random.Random(777)`, 686 `stratified`, 690 `fresh`)",
        "  is the only set looked at while changing examples, keywords and settings (`--dev` scores it,",
        "  `--dev --errors` lists its errors). The test set is scored once at the end of a round. The `fresh`",
        "  rows (fourth round) are `random.Random(2611).sample` of the still unlabelled messages, de-duplicated",
        "  against the test set (5-gram Jaccard > 0.4), labelled by three separate agent sessions with the",
        "  conventions below; no example was ever written from them.",
        "",
        "How the figures were kept honest: the examples are written by the project. A first version, written",
        "while the original sample was being labelled, paraphrased many test messages (macro-F1 0.80 there);",
        "those were replaced, which dropped the score to 0.57. The same risk came back with the stratified pool,",
        "whose messages were all read before it was split: examples written afterwards were checked against",
        "every test message (character 3-gram overlap) and each one close to a test message, or recalled from",
        "one, was deleted; the remaining new examples come from development-set errors and general knowledge.",
        "The corpus repeats some complaints under several ids, so dev-driven examples can still touch topics of",
        "test messages. Third round (this report): about 230 new examples written from development-set errors",
        "and general knowledge, each new one checked against every test message (character 3-gram containment",
        "≥ 0.3: 2 deleted); ambiguous taxonomy keywords removed or moved; the embedding classifier and its",
        "settings (weight 0.6, first 250 characters, C = 10) chosen on the development set (macro-F1 0.693 →",
        "0.794 there, accuracy 0.813 → 0.887); the test set scored once at the end. Dev and test differ most in the",
        "rare categories, where one message moves an F1 by 0.1–0.3.",
        "Fourth round (this report): the third round's dev figures were inflated by examples written from dev",
        "errors (dev 0.793, test 0.683); on the new `fresh` dev rows, which no example was written from, the",
        "third-round model scored macro-F1 0.644, accuracy 0.829. 2,327 new examples, chat- and letter-length,",
        "were written by agent sessions from taxonomy.csv's topics, the conventions and general knowledge only",
        "(they never opened the messages or the labels; checked against every test message by character 3-gram",
        "containment ≥ 0.3: 1 deleted). Since examples are not drawn at the rates citizens write about each",
        "category, the top-level probabilities are weighed by those rates (data/routing/shares.yml: counts of",
        "the natural-rate dev rows) to the power 0.2. On the fresh rows: macro-F1 0.644 → 0.685, accuracy",
        "0.829 → 0.843; on the older dev rows, which the earlier examples were fitted to, 0.793 → 0.753 and",
        "0.887 → 0.880.",
        "Fifth round: no change to the examples or the settings; tried on the fresh rows and rejected (macro-F1",
        "0.683 there for the model as is): embedding the sentences that carry the request (first sentence plus",
        "those with 希望/要求/请/投诉/咨询...) instead of, or with, the first 250 characters (0.662, 0.683); also",
        "embedding characters 250–750 (0.687, at twice the cost); nearest examples instead of the logistic",
        "regression (0.653–0.659); second-level classes (0.661–0.670); balanced classes (0.681); a grid of C,",
        "mixing weight and share exponent (0.656–0.697, flat within noise). As a check of what real data would",
        "add, the 834 older dev messages with their labels were added to the training examples (run time only,",
        "never committed): fresh-row macro-F1 fell to 0.650–0.656. Regenerate with",
        "`.venv/bin/python -m bench.routing`.",
        "",
        "How far agreement can go: a second annotator (a separate agent session that saw only the messages,",
        "taxonomy.csv and the labelling conventions below, not the first labels) labelled the whole test set",
        "again (`second_labels.csv`). Its row is scored like a system against the first labels: it is the",
        "ceiling that a classifier can be expected to reach on these labels.",
        "",
        f"| system | test: accuracy (stratified) | test: macro-F1, all 15 categories | test: macro-F1, categories "
        f"with ≥{MIN_SUPPORT} messages | original 340: accuracy | original 340: macro-F1 (all / ≥{ORIGINAL_MIN_SUPPORT}) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, (whole, orig) in systems.items():
        lines.append(
            f"| {name} | {whole['accuracy']:.3f} | {whole['macro_f1']:.3f} | {whole['macro_f1_frequent']:.3f} "
            f"| {orig['accuracy']:.3f} | {orig['macro_f1']:.3f} / {orig['macro_f1_frequent']:.3f} |"
        )
    lines += [
        "",
        "## Per-category F1 (whole test set)",
        "",
        "| category | messages | bot.routing | baseline |",
        "| --- | --- | --- | --- |",
    ]
    for category in ours["per_category"]:
        lines.append(
            f"| {category} | {support[category]} | {ours['per_category'][category]:.2f} "
            f"| {base['per_category'][category]:.2f} |"
        )
    lines += ["", "## Most frequent confusions of bot.routing (true → predicted)", ""]
    lines += [f"- {t} → {p}: {count}" for (t, p), count in confusions.most_common(10)]
    lines += [
        "",
        "## Confidence as a dispatch gate",
        "",
        "A hotline can let routes at or above a confidence go to their department unchecked and have a dispatcher",
        "confirm the rest. Share of messages dispatched automatically (coverage) and how many of those are right",
        "(the threshold 0.8 was chosen on the development set: 56 % of its messages at 97.8 % accuracy). The",
        "original sample is at natural rates, so its row is what a hotline would see.",
        "",
        "| confidence ≥ | " + " | ".join(f"{name}: coverage / accuracy" for name in gate) + " |",
        "| --- | " + " | ".join("---" for _ in gate) + " |",
    ]
    for k, threshold in enumerate(GATE_THRESHOLDS):
        lines.append(
            f"| {threshold:.1f} | "
            + " | ".join(f"{rows[k][1]:.1%} / {rows[k][2]:.1%}" for rows in gate.values())
            + " |"
        )
    lines += [
        "",
        "## Speed (this machine, 2 shared cores)",
        "",
        f"1-minute load average at the end of the run: {timing['load_average']:.1f} (2 is the machine's capacity: at",
        "a load of 10 every figure below is about five times slower than on an idle machine).",
        "",
        f"- training from data/routing: {timing['train']:.1f} s with the examples' vectors already in the embedding "
        "cache (var/embeddings.sqlite3; embedding an example the first time takes 20–100 ms); once per change, "
        f"later starts load the cached model in {timing['load']:.2f} s",
        f"- classification: {timing['per_second']:.0f} messages/s ({n} messages in {timing['classify']:.2f} s; "
        f"words only: {n / max(timing['classify_words'], 1e-9):.0f} messages/s). Embedding the title and the first "
        "250 characters of a letter is most of the time.",
        "",
        "## Labelling conventions",
        "",
        "Top-level categories follow the contest tree (taxonomy.csv) with these decisions where it is ambiguous:",
        "buses, metro and intercity rail, taxis, highways and rural roads, driving schools and couriers →",
        "交通运输; traffic police matters (parking, signals, crossings, speed bumps, vehicle and licence business,",
        "accidents), household registration, public order, fraud and collapsed lending platforms reported to the",
        "police, fire safety and courts → 政法; urban roads, bridges and footbridges, street lights, drainage,",
        "water/gas/power supply, sanitation, parks, street vending, housing, property management, demolition,",
        "talent housing subsidies and 公积金 → 城乡建设; construction, traffic, commercial and neighbourhood noise",
        "(mahjong rooms and KTVs included), dust, fumes and restaurant smoke ducts → 环境保护; wage arrears, social",
        "and medical insurance (新农合 included), personnel exams and titles → 劳动和社会保障; land acquisition,",
        "homestead certificates and mining → 国土资源; village affairs, poverty relief, water conservancy,",
        "forestry and farm subsidies → 农村农业; telecoms, broadband and cable TV → 科技与信息产业; prepaid cards,",
        "unlicensed shops, markets and tourism → 商贸旅游; staffing, government service centres and press",
        "subscriptions → 党务政务; district naming and veterans' resettlement → 民政.",
        "",
    ]
    return "\n".join(lines)


def write_report(text: str, path: Path = HERE / "REPORT.md") -> None:
    """Writes REPORT.md, keeping the history section (bench.routing.history) of the one it replaces."""
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    start = old.find(HISTORY_SECTION)
    kept = "\n" + old[start:] if start >= 0 else ""
    path.write_text(text.rstrip("\n") + "\n" + kept, encoding="utf-8")


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
        words_router = Router(ROOT / "data" / "routing", Path(cache), semantic=False)
    routes, classify_seconds = timed(router.classify_many, texts, titles)
    words_routes, classify_words_seconds = timed(words_router.classify_many, texts, titles)
    ours_predicted = [route.category or "" for route in routes]
    confidences = [route.confidence for route in routes]
    words_predicted = [route.category or "" for route in words_routes]
    base_predicted = list(baseline(Taxonomy.load()).predict([f"{t} {x}" for t, x in zip(titles, texts)]))

    if dev:
        ours, words, base = (scores(gold, predicted) for predicted in (ours_predicted, words_predicted, base_predicted))
        print(
            f"dev ({len(ids)} messages): bot.routing macro-F1 {ours['macro_f1']:.3f} "
            f"(≥{MIN_SUPPORT}: {ours['macro_f1_frequent']:.3f}) accuracy {ours['accuracy']:.3f}; "
            f"words only macro-F1 {words['macro_f1']:.3f} accuracy {words['accuracy']:.3f}; "
            f"baseline macro-F1 {base['macro_f1']:.3f} accuracy {base['accuracy']:.3f}"
        )
        support = Counter(gold)
        print("  " + ", ".join(f"{c} {support[c]}: {f:.2f}" for c, f in ours["per_category"].items()))
        print(
            "  dispatch gate (confidence ≥: coverage, accuracy): "
            + "; ".join(
                f"{t:.1f}: {cov:.1%}, {acc:.1%}" for t, cov, acc in dispatch_gate(gold, ours_predicted, confidences)
            )
        )
        if "--errors" in argv:
            for i, t, p in zip(ids, gold, ours_predicted):
                if t != p:
                    print(f"  {i}: {t} -> {p}  {messages[i].get('title', '')}")
        return 0
    confusions = Counter((t, p) for t, p in zip(gold, ours_predicted) if t != p)
    timing = {
        "train": train_seconds,
        "load": load_seconds,
        "classify": classify_seconds,
        "classify_words": classify_words_seconds,
        "per_second": len(ids) / max(classify_seconds, 1e-9),
        "load_average": os.getloadavg()[0],
    }
    first = set(load_labels(HERE / "labels.csv", sample="original"))
    keep = [k for k, i in enumerate(ids) if i in first]
    second = load_labels(HERE / "second_labels.csv")
    second_predicted = [second[i] for i in ids]
    systems = {
        name: (
            scores(gold, predicted),
            scores([gold[k] for k in keep], [predicted[k] for k in keep], ORIGINAL_MIN_SUPPORT),
        )
        for name, predicted in (
            (OURS, ours_predicted),
            (WORDS, words_predicted),
            (BASELINE, base_predicted),
            (SECOND, second_predicted),
        )
    }
    gate = {
        "whole test set": dispatch_gate(gold, ours_predicted, confidences),
        "original 340": dispatch_gate(
            [gold[k] for k in keep], [ours_predicted[k] for k in keep], [confidences[k] for k in keep]
        ),
    }
    write_report(report(gold, systems, confusions, timing, gate))
    for name, (whole, orig) in systems.items():
        print(
            f"{name}: accuracy {whole['accuracy']:.3f}, macro-F1 {whole['macro_f1']:.3f} "
            f"(≥{MIN_SUPPORT} messages: {whole['macro_f1_frequent']:.3f}); original 340: accuracy "
            f"{orig['accuracy']:.3f}, macro-F1 {orig['macro_f1']:.3f} (≥{ORIGINAL_MIN_SUPPORT}: {orig['macro_f1_frequent']:.3f})"
        )
    print(f"{len(ids)} messages, {timing['per_second']:.0f} messages/s; wrote {HERE / 'REPORT.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
