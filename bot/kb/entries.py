"""Knowledge-base entries: the `Entry` record and the validating loader of faq/*.yml files."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.categories import CATEGORIES

REQUIRED = ("id", "questions", "answer", "category", "source", "reviewed")
OPTIONAL = ("channels", "valid_from", "valid_until")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class FaqError(ValueError):
    """A faq file or entry is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class Entry:
    """One knowledge-base answer with the questions it answers (the first one is canonical)."""

    id: str
    questions: List[str]
    answer: str
    category: str
    source: str
    reviewed: dt.date
    channels: Optional[List[str]] = None
    valid_from: Optional[dt.date] = None
    valid_until: Optional[dt.date] = None
    file: str = ""

    def available(self, channel: Optional[str], today: dt.date) -> bool:
        """True when the entry may be shown on `channel` on `today`."""
        if self.channels is not None and channel not in self.channels:
            return False
        if self.valid_from is not None and today < self.valid_from:
            return False
        return self.valid_until is None or today <= self.valid_until


def _date(value: Any, field: str, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise FaqError(f"{where}: `{field}` must be a date YYYY-MM-DD, got {value!r}") from None


def _strings(value: Any, field: str, where: str) -> List[str]:
    if not isinstance(value, list) or not value:
        raise FaqError(f"{where}: `{field}` must be a non-empty list of texts")
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise FaqError(f"{where}: `{field}` contains an empty or non-text item")
    return [item.strip() for item in value]


def parse_entry(raw: Any, where: str, file: str = "") -> Entry:
    """Validates one raw YAML mapping and returns the Entry; raises FaqError naming `where`."""
    if not isinstance(raw, dict):
        raise FaqError(f"{where}: each entry must be a mapping with {', '.join(REQUIRED)}")
    entry_id = raw.get("id")
    if isinstance(entry_id, str):
        where = f"{where} (id {entry_id})"
    missing = [name for name in REQUIRED if raw.get(name) in (None, "", [])]
    if missing:
        raise FaqError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise FaqError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
        raise FaqError(f"{where}: `id` must be lower-case letters, digits and underscores, got {entry_id!r}")
    for field in ("answer", "source"):
        if not isinstance(raw[field], str) or not raw[field].strip():
            raise FaqError(f"{where}: `{field}` must be a non-empty text")
    if raw["category"] not in CATEGORIES:
        raise FaqError(f"{where}: unknown category {raw['category']!r} (one of {', '.join(sorted(CATEGORIES))})")
    optional_dates = {name: _date(raw[name], name, where) for name in ("valid_from", "valid_until") if raw.get(name)}
    if len(optional_dates) == 2 and optional_dates["valid_from"] > optional_dates["valid_until"]:
        raise FaqError(f"{where}: `valid_from` is after `valid_until`")
    channels = _strings(raw["channels"], "channels", where) if raw.get("channels") is not None else None
    return Entry(
        id=entry_id,
        questions=_strings(raw["questions"], "questions", where),
        answer=raw["answer"].strip(),
        category=raw["category"],
        source=raw["source"].strip(),
        reviewed=_date(raw["reviewed"], "reviewed", where),
        channels=channels,
        file=file,
        **optional_dates,
    )


def load_file(path: Path) -> List[Entry]:
    """All entries of one faq YAML file, validated; duplicate ids inside the file are an error."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise FaqError(f"{path}: cannot read the file: {error}") from None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FaqError(f"{path}: the file must be a YAML list of entries")
    entries: List[Entry] = []
    seen: Dict[str, int] = {}
    for number, item in enumerate(raw, start=1):
        entry = parse_entry(item, f"{path}: entry {number}", file=str(path))
        if entry.id in seen:
            raise FaqError(
                f"{path}: entry {number} (id {entry.id}): duplicate id, already used by entry {seen[entry.id]}"
            )
        seen[entry.id] = number
        entries.append(entry)
    return entries


def faq_files(directory: Path) -> List[Path]:
    """The faq YAML files of a directory, sorted by name."""
    return sorted(p for p in Path(directory).iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
