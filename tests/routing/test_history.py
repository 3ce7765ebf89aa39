"""Importing a hotline's history: each format, the column options, the category mapping, bad rows reported."""

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import Workbook

from bot.routing.history import HistoryError, HistoryReader, HistoryRow, load_mapping

ROWS = [  # (title, text, category as the hotline names it)
    ("暖气不热", "家里暖气一直不热，室温只有十四度", "城乡建设"),
    ("工资拖欠", "老板拖欠三个月工资不给", "劳动和社会保障"),
    ("噪音", "工地半夜施工太吵", "环境保护"),
]


def write_csv(path, header, rows, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, header, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def read(path, **options):
    reader = HistoryReader(**options)
    return reader.read(path), reader.report


EXPECTED = [HistoryRow(title, text, category) for title, text, category in ROWS]


def test_csv_with_the_chinese_default_columns(tmp_path):
    rows, report = read(
        write_csv(
            tmp_path / "export.csv", ["编号", "标题", "内容", "一级分类"], [(n, *row) for n, row in enumerate(ROWS)]
        )
    )
    assert rows == EXPECTED and report.kept == report.read == 3


def test_csv_saved_as_gbk_by_office_software(tmp_path):
    rows, _ = read(write_csv(tmp_path / "export.csv", ["标题", "内容", "一级分类"], ROWS, encoding="gb18030"))
    assert rows == EXPECTED


def test_xlsx_with_the_chinese_default_columns(tmp_path):
    rows, report = read(
        write_xlsx(
            tmp_path / "export.xlsx", ["标题", "内容", "一级分类", "受理时间"], [(*row, "2020-01-01") for row in ROWS]
        )
    )
    assert rows == EXPECTED and report.read == 3


def test_jsonl_with_its_english_field_names(tmp_path):
    records = [{"id": n, "title": t, "text": x, "category": c} for n, (t, x, c) in enumerate(ROWS)]
    rows, _ = read(write_jsonl(tmp_path / "export.jsonl", records))
    assert rows == EXPECTED


def test_column_options_name_other_columns(tmp_path):
    path = write_xlsx(
        tmp_path / "export.xlsx", ["诉求主题", "诉求内容", "类别", "一级分类"], [(*row, "不是这一列") for row in ROWS]
    )
    rows, _ = read(path, title="诉求主题", text="诉求内容", category="类别")
    assert rows == EXPECTED
    rows, _ = read(
        write_csv(tmp_path / "no-title.csv", ["诉求内容", "类别"], [row[1:] for row in ROWS]),
        text="诉求内容",
        category="类别",
    )
    assert rows == [HistoryRow("", row.text, row.category) for row in EXPECTED]  # the title is optional


def test_a_missing_column_names_the_file_the_columns_and_the_option(tmp_path):
    path = write_csv(tmp_path / "export.csv", ["标题", "正文", "一级分类"], ROWS)
    with pytest.raises(
        HistoryError, match=r"export.csv: no text column 内容 or text \(columns: 标题, 正文, 一级分类; see --text\)"
    ):
        read(path)


def test_the_mapping_translates_the_hotline_category_names(tmp_path):
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("城建类: 城乡建设\n劳动保障: 劳动和社会保障\n", encoding="utf-8")
    path = write_csv(
        tmp_path / "export.csv",
        ["标题", "内容", "一级分类"],
        [
            ("a", "路灯不亮", "城建类"),
            ("b", "社保断缴", "劳动保障"),
            ("c", "校车超载", "教育文体"),
            ("d", "菜价太贵", "物价类"),
        ],
    )
    rows, report = read(path, mapping=load_mapping(mapping))
    assert [row.category for row in rows] == ["城乡建设", "劳动和社会保障", "教育文体"]  # the 15 names need no mapping
    assert report.unknown_categories == {"物价类": 1}
    assert "unknown categories (map them with --mapping): 物价类 1" in report.lines()


@pytest.mark.parametrize(
    "content,message",
    [
        ("城建类: 不存在的分类\n", "not one of the 15 categories"),
        ("- 城乡建设\n", "must map"),
        ("城建类: [unclosed\n", "mapping.yml"),
    ],
)
def test_a_bad_mapping_file_is_refused(tmp_path, content, message):
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(content, encoding="utf-8")
    with pytest.raises(HistoryError, match=message):
        load_mapping(mapping)


def test_bad_rows_are_counted_and_reported_never_silently_dropped(tmp_path):
    first = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"title": "暖气", "text": "暖气不热", "category": "城乡建设"},
            {"title": "空的", "text": "   ", "category": "城乡建设"},
            {"title": "没有类别", "text": "有内容", "category": ""},
            {"title": "未知", "text": "物价太高", "category": "物价类"},
            {"title": "重复", "text": "暖 气\u3000不热", "category": "城乡建设"},  # the same text up to blanks
            ["not", "an", "object"],
        ],
    )
    with first.open("a", encoding="utf-8") as handle:
        handle.write("{broken json\n\n")
    second = write_csv(
        tmp_path / "b.csv",
        ["标题", "内容", "一级分类"],
        [("again", "暖气不热", "城乡建设"), ("new", "公交太少", "交通运输")],
    )
    reader = HistoryReader()
    rows = reader.read_all([first, second])
    report = reader.report
    assert [row.text for row in rows] == ["暖气不热", "公交太少"]
    assert (report.read, report.kept, report.empty_text, report.duplicates, report.unreadable) == (9, 2, 1, 2, 2)
    assert report.unknown_categories == {"": 1, "物价类": 1}
    summary = "\n".join(report.lines())
    assert (
        "read 9 rows: 2 kept, 2 with an unknown category, 1 with an empty text, 2 duplicates, 2 unreadable" in summary
    )
    assert "a.jsonl:6: not an object" in summary and "a.jsonl:7: not valid JSON" in summary


@pytest.mark.parametrize(
    "name,content", [("export.xlsx", b"not a workbook"), ("export.csv", b"\xff\xfe\x00\x81" * 10), ("export.txt", b"")]
)
def test_an_unreadable_file_is_one_clear_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(HistoryError, match=name):
        read(path)
