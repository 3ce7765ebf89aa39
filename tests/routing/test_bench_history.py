"""The history benchmark's helpers: leaving out repeats of labelled messages, the gate, the report section."""

from __future__ import annotations

from bench.routing.history import SECTION, gate_share, repeats_of_labelled, write_section
from bot.routing.history import HistoryRow


def test_rows_repeating_a_labelled_message_are_found():
    labelled = [
        {
            "title": "小区暖气不热",
            "text": "我家住在幸福小区三号楼，今年冬天暖气一直不热，室温只有十四度，供热公司也不来人。",
        }
    ]
    rows = [
        HistoryRow("小区暖气不热", "完全不同的内容", "城乡建设"),  # the same title
        HistoryRow(
            "另一个标题", "我家住在幸福小区三号楼，今年冬天暖气一直不热，室温只有十四度，供热公司也不来人！", "城乡建设"
        ),
        HistoryRow("公交太少", "我们村到镇上一天只有两班公交车，希望增加班次。", "交通运输"),
    ]
    assert repeats_of_labelled(rows, labelled) == [0, 1]


def test_the_gate_share_is_the_lowest_threshold_at_the_precision():
    rows = [(0.0, 1.0, 0.9), (0.5, 0.8, 0.96), (0.7, 0.6, 0.975), (0.9, 0.3, 0.99), (0.95, 0.0, float("nan"))]
    assert gate_share(rows) == (0.7, 0.6, 0.975)
    assert gate_share(rows[:2])[1] == 0.0  # never precise enough: nothing dispatched


def test_the_section_replaces_its_earlier_version_and_keeps_the_rest(tmp_path):
    report = tmp_path / "REPORT.md"
    report.write_text(
        "# Routing benchmark\n\nzero-shot figures\n\n## Labelling conventions\n\nrules\n", encoding="utf-8"
    )
    write_section(f"{SECTION}\n\nfirst run\n", report)
    write_section(f"{SECTION}\n\nsecond run\n", report)
    text = report.read_text(encoding="utf-8")
    assert text.count(SECTION) == 1 and "second run" in text and "first run" not in text
    assert text.startswith("# Routing benchmark\n\nzero-shot figures") and "## Labelling conventions\n\nrules" in text


def test_the_zero_shot_report_keeps_the_history_section(tmp_path):
    from bench.routing.__main__ import write_report

    report = tmp_path / "REPORT.md"
    report.write_text("# Routing benchmark\n\nold figures\n", encoding="utf-8")
    write_section(f"{SECTION}\n\nlearned figures\n", report)
    write_report("# Routing benchmark\n\nnew figures\n", report)
    text = report.read_text(encoding="utf-8")
    assert "new figures" in text and "old figures" not in text and text.endswith(f"{SECTION}\n\nlearned figures\n")


def test_the_reliability_table_compares_confidence_with_accuracy_per_range():
    from bench.routing.history import expected_calibration_error, reliability

    gold = ["a"] * 6
    predicted = ["a", "a", "b", "a", "a", "a"]
    confidence = [0.6, 0.65, 0.6, 0.96, 0.97, 0.995]
    table = reliability(gold, predicted, confidence)
    assert [(low, n) for low, _, n, _, _ in table] == [(0.5, 3), (0.95, 2), (0.99, 1)]
    assert table[0][4] == 2 / 3 and table[2][1] == 1.0  # the last range ends at 1
    assert abs(expected_calibration_error(table) - (0.05 * 3 + 0.035 * 2 + 0.005 * 1) / 6) < 1e-9
