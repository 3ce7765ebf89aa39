"""Inverted index of weighted feature bags scored by TF-IDF cosine similarity (0..1).

Posting lists are stored column-wise (CSC-like numpy arrays), so a query only touches the postings of
its own features: no scan over all documents. The index keeps the raw feature weights, so the bags of
any range of its documents can be taken back out (`part`) to rebuild it after some files changed,
without re-analysing the unchanged ones and without keeping a second copy of them.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Dict, Iterable, Sequence, Tuple

import numpy as np

# Features whose name starts with this are single characters (see bot.kb.text.features).
SINGLE_CHAR_PREFIX = "u:"
# A document sharing only single characters with the query keeps this share of their score.
SINGLE_CHAR_ONLY_SHARE = 0.3


@dataclass(frozen=True)
class Bags:
    """Compact analysed documents (e.g. one faq file's questions or answers) in local coordinates."""

    terms: Tuple[str, ...]
    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray
    size: int

    @classmethod
    def of(cls, docs: Iterable[Dict[str, float]]) -> "Bags":
        """Packs feature->weight mappings (one per document)."""
        terms: Dict[str, int] = {}
        rows, columns, values = array("i"), array("i"), array("f")
        size = 0
        for row, doc in enumerate(docs):
            size = row + 1
            for name, weight in doc.items():
                rows.append(row)
                columns.append(terms.setdefault(name, len(terms)))
                values.append(weight)
        return cls(
            tuple(terms),
            np.frombuffer(rows, dtype=np.int32),
            np.frombuffer(columns, dtype=np.int32),
            np.frombuffer(values, dtype=np.float32),
            size,
        )


class Index:
    """Immutable inverted index over the documents of `parts`, numbered in order."""

    def __init__(self, parts: Sequence[Bags]):
        vocabulary: Dict[str, int] = {}
        rows, columns, values = [], [], []
        offset = 0
        for part in parts:
            mapping = np.fromiter(
                (vocabulary.setdefault(t, len(vocabulary)) for t in part.terms), dtype=np.int32, count=len(part.terms)
            )
            rows.append(part.rows + offset)
            columns.append(mapping[part.columns])
            values.append(part.values)
            offset += part.size
        self.size = offset
        row_ids = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
        column_ids = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int32)
        raw = np.concatenate(values) if values else np.zeros(0, dtype=np.float32)
        del rows, columns, values
        document_frequency = np.bincount(column_ids, minlength=len(vocabulary))
        self.idf = (np.log((self.size + 1) / (document_frequency + 1)) + 1.0).astype(np.float32)
        weighted = raw * self.idf[column_ids]
        norms = np.sqrt(np.bincount(row_ids, weights=weighted * weighted, minlength=self.size))
        del weighted
        self.inverse_norms = (1.0 / np.maximum(norms, 1e-9)).astype(np.float32)
        order = np.argsort(column_ids, kind="stable")
        self.rows = row_ids[order]
        self.values = raw[order]
        self.starts = np.concatenate(([0], np.cumsum(document_frequency))).astype(np.int64)
        self.vocabulary = vocabulary
        self.terms = tuple(vocabulary)
        self.single_char = np.fromiter(
            (name.startswith(SINGLE_CHAR_PREFIX) for name in self.terms), dtype=bool, count=len(self.terms)
        )
        self.max_idf = float(self.idf.max()) if len(self.idf) else 1.0

    def _query(self, query: Dict[str, float]) -> Tuple[np.ndarray, np.ndarray]:
        """Columns of the query's known features and their idf² weights divided by the query's norm.

        Features the index has never seen still count in the norm, at the highest idf: they are
        words no document shares, and a query made mostly of them is a poor match for every document.
        """
        known = [(self.vocabulary[name], weight) for name, weight in query.items() if name in self.vocabulary]
        columns = np.fromiter((column for column, _ in known), dtype=np.int64, count=len(known))
        weights = np.fromiter((weight for _, weight in known), dtype=np.float32, count=len(known))
        weights *= self.idf[columns]
        unknown = sum((weight * self.max_idf) ** 2 for name, weight in query.items() if name not in self.vocabulary)
        norm = float(np.sqrt(np.dot(weights, weights) + unknown))
        weights *= self.idf[columns]  # the documents' raw weights get their idf here
        return columns, weights / norm if norm else weights

    def scores(self, query: Dict[str, float]) -> np.ndarray:
        """Cosine similarity of `query` with every document (zeros where nothing is shared).

        Single characters shared by chance are weak evidence: a document that shares no word or
        character pair with the query keeps only SINGLE_CHAR_ONLY_SHARE of its single-character score.
        """
        evidence = np.zeros(self.size, dtype=np.float32)
        chance = np.zeros(self.size, dtype=np.float32)
        columns, weights = self._query(query)
        for column, weight in zip(columns, weights):
            start, end = self.starts[column], self.starts[column + 1]
            target = chance if self.single_char[column] else evidence
            target[self.rows[start:end]] += self.values[start:end] * weight
        evidence += chance * np.where(evidence > 0, np.float32(1.0), np.float32(SINGLE_CHAR_ONLY_SHARE))
        return evidence * self.inverse_norms

    def part(self, first: int, end: int) -> Bags:
        """The bags of documents first..end-1, as they went in (rows renumbered from 0)."""
        columns = np.repeat(np.arange(len(self.terms), dtype=np.int32), np.diff(self.starts))
        keep = (self.rows >= first) & (self.rows < end)
        used, local = np.unique(columns[keep], return_inverse=True)
        return Bags(
            tuple(self.terms[c] for c in used.tolist()),
            (self.rows[keep] - first).astype(np.int32),
            local.astype(np.int32),
            self.values[keep],
            end - first,
        )

    def nbytes(self) -> int:
        """Approximate memory of the numpy arrays (the vocabulary dict is not counted)."""
        return (
            self.rows.nbytes
            + self.values.nbytes
            + self.starts.nbytes
            + self.idf.nbytes
            + self.inverse_norms.nbytes
            + self.single_char.nbytes
        )
