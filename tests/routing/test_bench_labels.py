"""The benchmark's labelled sets: valid, disjoint, large enough per category, and filtered by sample."""

from __future__ import annotations

import csv
from collections import Counter

from bench.routing.__main__ import HERE, MIN_SUPPORT, dispatch_gate, load_labels, scores
from bot.routing import CATEGORIES


def rows(name):
    with (HERE / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_test_and_dev_sets_are_valid_and_disjoint():
    test, dev = rows("labels.csv"), rows("dev_labels.csv")
    for table in (test, dev):
        assert {row["category"] for row in table} <= set(CATEGORIES)
        assert len({row["id"] for row in table}) == len(table)
    assert {row["sample"] for row in test} == {"original", "stratified"}
    assert {row["sample"] for row in dev} == {"original", "stratified", "fresh"}
    assert not {row["id"] for row in test} & {row["id"] for row in dev}
    assert sum(row["sample"] == "original" for row in test) == 340  # the first test set is kept as it was


def test_second_annotator_labelled_exactly_the_test_set():
    second = rows("second_labels.csv")
    assert [row["id"] for row in second] == [row["id"] for row in rows("labels.csv")]
    assert {row["category"] for row in second} <= set(CATEGORIES)


def test_stratified_test_set_has_enough_messages_per_category():
    support = Counter(row["category"] for row in rows("labels.csv"))
    assert set(support) == set(CATEGORIES)
    assert sum(count >= MIN_SUPPORT for count in support.values()) >= 13
    assert min(support.values()) >= 5


def test_load_labels_keeps_only_the_asked_sample():
    everything = load_labels(HERE / "labels.csv")
    original = load_labels(HERE / "labels.csv", sample="original")
    stratified = load_labels(HERE / "labels.csv", sample="stratified")
    assert len(original) == 340 and set(original) | set(stratified) == set(everything)
    assert not set(original) & set(stratified)


def test_scores_average_frequent_categories_by_the_given_support():
    gold = ["城乡建设"] * 5 + ["民政"]
    predicted = ["城乡建设"] * 5 + ["城乡建设"]
    result = scores(gold, predicted, min_support=5)
    assert result["macro_f1_frequent"] > 0.9 > result["macro_f1"]
    assert result["per_category"]["民政"] == 0.0


def test_dispatch_gate_counts_only_routes_at_or_above_the_threshold():
    gold = ["政法", "政法", "民政", "民政"]
    predicted = ["政法", "民政", "民政", "政法"]
    rows = dispatch_gate(gold, predicted, [0.95, 0.85, 0.6, 0.3], thresholds=(0.0, 0.8, 0.9, 0.99))
    assert rows[:3] == [(0.0, 1.0, 0.5), (0.8, 0.5, 0.5), (0.9, 0.25, 1.0)]
    assert rows[3][1] == 0.0 and rows[3][2] != rows[3][2]  # nothing dispatched: accuracy is undefined (NaN)
