"""The routing data in data/routing: two-level taxonomy with keywords, examples, department table.

Everything here is plain data read from YAML; a malformed file raises `RoutingDataError` naming it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bot.categories import CATEGORIES
from bot.settings import ROOT

DATA_DIR = ROOT / "data" / "routing"
SEPARATOR = "/"


class RoutingDataError(ValueError):
    """data/routing holds a file that cannot be used."""


def label(category: str, subcategory: str) -> str:
    """The model's class name of a second-level category."""
    return f"{category}{SEPARATOR}{subcategory}"


def split_label(name: str) -> Tuple[str, str]:
    """(category, subcategory) of a class name made by :func:`label`."""
    category, subcategory = name.split(SEPARATOR, 1)
    return category, subcategory


def _read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RoutingDataError(f"{path}: {error}") from error


@dataclass(frozen=True)
class Taxonomy:
    """Second-level categories (as labels) with their keywords, the training examples, and each top-level
    category's share of real messages (shares.yml; equal shares without it)."""

    keywords: Dict[str, Tuple[str, ...]]
    examples: List[Tuple[str, str]]
    shares: Dict[str, float]

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.keywords)

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR) -> "Taxonomy":
        """Reads taxonomy.yml and examples/*.yml; every example must name a known category."""
        tree = _read_yaml(data_dir / "taxonomy.yml") or {}
        unknown = set(tree) - set(CATEGORIES)
        if unknown:
            raise RoutingDataError(f"taxonomy.yml: unknown top-level categories {sorted(unknown)}")
        keywords = {
            label(category, sub): tuple(str(k) for k in ((spec or {}).get("keywords") or ()))
            for category in CATEGORIES
            for sub, spec in (tree.get(category) or {}).items()
        }
        examples: List[Tuple[str, str]] = []
        for path in sorted((data_dir / "examples").glob("*.yml")):
            document = _read_yaml(path) or {}
            category = str(document.get("category"))
            for sub, texts in (document.get("examples") or {}).items():
                name = label(category, sub)
                if name not in keywords:
                    raise RoutingDataError(f"{path.name}: {name} is not in taxonomy.yml")
                examples.extend((str(text), name) for text in texts or ())
        if not examples:
            raise RoutingDataError(f"{data_dir}: no examples")
        return cls(keywords=keywords, examples=examples, shares=_read_shares(data_dir / "shares.yml"))


def _read_shares(path: Path) -> Dict[str, float]:
    """Top-level category -> share of messages, normalised to sum 1 (every category present)."""
    counts = (_read_yaml(path) or {}) if path.is_file() else {}
    if not isinstance(counts, dict):
        raise RoutingDataError(f"{path.name}: must map top-level categories to shares")
    try:
        values = {category: float(counts.get(category, 1)) for category in CATEGORIES}
    except (TypeError, ValueError) as error:
        raise RoutingDataError(f"{path.name}: shares must be numbers ({error})") from error
    if unknown := set(counts) - set(CATEGORIES):
        raise RoutingDataError(f"{path.name}: unknown top-level categories {sorted(unknown)}")
    if min(values.values()) <= 0:
        raise RoutingDataError(f"{path.name}: shares must be positive")
    total = sum(values.values())
    return {category: value / total for category, value in values.items()}


def fingerprint(data_dir: Path = DATA_DIR, extra: str = "") -> str:
    """Short hash of the files that shape the model (the department table does not)."""
    digest = hashlib.sha256(extra.encode())
    paths = [data_dir / "taxonomy.yml", data_dir / "shares.yml", *sorted((data_dir / "examples").glob("*.yml"))]
    for path in paths:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class DepartmentTable:
    """category/subcategory -> department, re-read whenever departments.yml changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: Optional[Tuple[float, int]] = None
        self._fallback = ""
        self._table: Dict[str, dict] = {}

    def _refresh(self) -> None:
        stat = self.path.stat()
        stamp = (stat.st_mtime, stat.st_size)
        if stamp == self._stamp:
            return
        document = _read_yaml(self.path) or {}
        table = document.get("categories") or {}
        if not isinstance(table, dict):
            raise RoutingDataError(f"{self.path}: `categories` must be a mapping")
        self._fallback = str(document.get("fallback") or "相关职能部门")
        self._table = {name: spec or {} for name, spec in table.items()}
        self._stamp = stamp

    def department(self, category: Optional[str], subcategory: Optional[str] = None) -> str:
        """The subcategory's department, else the category's default, else the fallback."""
        self._refresh()
        spec = self._table.get(category or "", {})
        by_sub = spec.get("subcategories") or {}
        return str(by_sub.get(subcategory) or spec.get("default") or self._fallback)
