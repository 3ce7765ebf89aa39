"""A hotline's history of categorised tickets, read from its exports: CSV, XLSX or JSON lines.

Each row needs a text and a top-level category; a title is optional. Column names are options with the
Chinese names of a typical 工单 export as defaults (标题 / 内容 / 一级分类), falling back to the English
names of JSON lines exports (title / text / category). A mapping file (YAML, `hotline name: category`)
translates the hotline's category names to the 15 categories. Rows with an unknown category, an empty
text, a text seen before, or that cannot be read are counted in a `HistoryReport`, never silently dropped.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import yaml

from bot.categories import CATEGORIES

DEFAULT_COLUMNS = {"title": ("标题", "title"), "text": ("内容", "text"), "category": ("一级分类", "category")}
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # Chinese office software often saves CSV in GBK
MAX_REPORTED_ERRORS = 20  # unreadable rows listed by place; the rest are only counted
_BLANKS = re.compile(r"\s+")


class HistoryError(ValueError):
    """A history file or mapping file cannot be used at all (missing, wrong format, missing column)."""


@dataclass(frozen=True)
class HistoryRow:
    title: str
    text: str
    category: str  # one of CATEGORIES
    source: str = "history"  # where the row came from ("history", "corrected", "confirmed")


@dataclass
class HistoryReport:
    """What became of the rows read: kept, or why not."""

    read: int = 0
    kept: int = 0
    empty_text: int = 0
    duplicates: int = 0
    unknown_categories: Counter = field(default_factory=Counter)  # hotline category name -> rows
    unreadable: int = 0
    errors: List[str] = field(default_factory=list)  # "file:row: reason", the first MAX_REPORTED_ERRORS

    def unreadable_row(self, where: str, reason: str) -> None:
        self.unreadable += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(f"{where}: {reason}")

    def lines(self) -> List[str]:
        """The report for people, one line per kind of row."""
        unknown = sum(self.unknown_categories.values())
        out = [
            f"read {self.read} rows: {self.kept} kept, {unknown} with an unknown category, "
            f"{self.empty_text} with an empty text, {self.duplicates} duplicates, {self.unreadable} unreadable"
        ]
        if unknown:
            names = ", ".join(f"{name or '(empty)'} {count}" for name, count in self.unknown_categories.most_common(10))
            out.append(f"unknown categories (map them with --mapping): {names}")
        out += [f"unreadable: {error}" for error in self.errors]
        if self.unreadable > len(self.errors):
            out.append(f"... and {self.unreadable - len(self.errors)} more unreadable rows")
        return out


def load_mapping(path: Optional[Path]) -> Dict[str, str]:
    """Hotline category name -> one of CATEGORIES, from a YAML mapping; the 15 names map to themselves."""
    mapping = {name: name for name in CATEGORIES}
    if path is None:
        return mapping
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise HistoryError(f"{path}: {error}") from error
    if not isinstance(document, dict):
        raise HistoryError(f"{path}: must map the hotline's category names to categories")
    for name, category in document.items():
        if str(category) not in CATEGORIES:
            raise HistoryError(f"{path}: {name} maps to {category}, which is not one of the 15 categories")
        mapping[str(name).strip()] = str(category)
    return mapping


def _csv_records(path: Path) -> Iterator[Tuple[str, object]]:
    for encoding in CSV_ENCODINGS:
        try:
            text = path.read_text(encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise HistoryError(f"{path}: neither UTF-8 nor GB18030 text")
    try:
        for number, record in enumerate(csv.DictReader(text.splitlines()), start=2):
            yield f"{path.name}:{number}", record
    except csv.Error as error:
        raise HistoryError(f"{path}: not a readable CSV file ({error})") from error


def _xlsx_records(path: Path) -> Iterator[Tuple[str, object]]:
    from openpyxl import load_workbook  # imported here: only `routing learn` reads spreadsheets

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise HistoryError(f"{path}: not a readable XLSX workbook ({error})") from error
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
        for number, cells in enumerate(rows, start=2):
            yield f"{path.name}:{number}", {name: cell for name, cell in zip(header, cells) if name}
    finally:
        workbook.close()


def _jsonl_records(path: Path) -> Iterator[Tuple[str, object]]:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield f"{path.name}:{number}", json.loads(line)
                except ValueError as error:
                    yield f"{path.name}:{number}", f"not valid JSON ({error})"
    except UnicodeDecodeError as error:
        raise HistoryError(f"{path}: not UTF-8 text ({error})") from error


READERS = {".csv": _csv_records, ".xlsx": _xlsx_records, ".jsonl": _jsonl_records, ".json": _jsonl_records}


def _column(names: Sequence[str], wanted: Sequence[str]) -> Optional[str]:
    return next((name for name in wanted if name in names), None)


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def dedup_key(text: str) -> str:
    """Texts that differ only in width or blanks are the same text (exports strip or fold whitespace)."""
    return _BLANKS.sub("", unicodedata.normalize("NFKC", text))


@dataclass
class HistoryReader:
    """Reads history files into HistoryRows, de-duplicated by text across all files read by this reader."""

    title: Optional[str] = None  # column names; None: DEFAULT_COLUMNS
    text: Optional[str] = None
    category: Optional[str] = None
    mapping: Dict[str, str] = field(default_factory=lambda: load_mapping(None))
    report: HistoryReport = field(default_factory=HistoryReport)
    _seen: set = field(default_factory=set)

    def _wanted(self, role: str) -> Tuple[str, ...]:
        given = getattr(self, role)
        return (given,) if given else DEFAULT_COLUMNS[role]

    def read(self, path: Path, progress: Optional[Callable[[int], object]] = None) -> List[HistoryRow]:
        """The usable rows of one file; `progress(n)` is called after each row read."""
        path = Path(path)
        reader = READERS.get(path.suffix.lower())
        if reader is None:
            raise HistoryError(f"{path}: unknown format (expected {', '.join(sorted(READERS))})")
        if not path.is_file():
            raise HistoryError(f"{path}: no such file")
        rows: List[HistoryRow] = []
        columns: Optional[Dict[str, Optional[str]]] = None
        for where, record in reader(path):
            self.report.read += 1
            if progress:
                progress(1)
            if not isinstance(record, dict):
                self.report.unreadable_row(where, record if isinstance(record, str) else "not an object")
                continue
            if columns is None or reader is _jsonl_records:  # JSON lines: each record has its own keys
                columns = self._columns(path, list(record))
            row = self._row(record, columns)
            if row is not None:
                rows.append(row)
        return rows

    def read_all(self, paths: Iterable[Path], progress: Optional[Callable[[int], object]] = None) -> List[HistoryRow]:
        return [row for path in paths for row in self.read(path, progress)]

    def _columns(self, path: Path, names: List[str]) -> Dict[str, Optional[str]]:
        found = {role: _column(names, self._wanted(role)) for role in DEFAULT_COLUMNS}
        for role in ("text", "category"):
            if found[role] is None:
                raise HistoryError(
                    f"{path}: no {role} column {' or '.join(self._wanted(role))} "
                    f"(columns: {', '.join(names) or 'none'}; see --{role})"
                )
        return found

    def _row(self, record: dict, columns: Dict[str, Optional[str]]) -> Optional[HistoryRow]:
        text = _cell(record.get(columns["text"]))
        title = _cell(record.get(columns["title"])) if columns["title"] else ""
        name = _cell(record.get(columns["category"]))
        category = self.mapping.get(name)
        if category is None:
            self.report.unknown_categories[name] += 1
            return None
        if not text:
            self.report.empty_text += 1
            return None
        if not self._first_time(text):
            return None
        self.report.kept += 1
        return HistoryRow(title, text, category)

    def _first_time(self, text: str) -> bool:
        """True for a text this reader has not seen yet; a repeat is counted as a duplicate."""
        key = dedup_key(text)
        if key in self._seen:
            self.report.duplicates += 1
            return False
        self._seen.add(key)
        return True

    def add(self, rows: Iterable[HistoryRow]) -> List[HistoryRow]:
        """Rows from elsewhere (the kept history, tickets) whose text this reader has not seen yet."""
        return [row for row in rows if self._first_time(row.text)]
