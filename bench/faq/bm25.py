"""The baseline: plain Okapi BM25 over jieba tokens of each entry's questions and answer (no synonyms,
no n-grams, no stopwords), the textbook retrieval a knowledge base would start with."""

from __future__ import annotations

import math
from collections import Counter
from typing import Dict, List, Sequence

from bot.hotline_jieba import hotline_jieba

K1, B = 1.5, 0.75


def tokens(text: str) -> List[str]:
    """jieba tokens with the same hotline dictionary bot/kb uses (a fair, not a handicapped, baseline)."""
    return [t for t in hotline_jieba().lcut(text.lower()) if t.strip()]


class BM25:
    """Inverted-index BM25; `search` returns document indices, best first."""

    def __init__(self, documents: Sequence[str]):
        bags = [Counter(tokens(doc)) for doc in documents]
        self.lengths = [sum(bag.values()) for bag in bags]
        self.average = sum(self.lengths) / max(len(bags), 1)
        self.postings: Dict[str, List[tuple]] = {}
        for number, bag in enumerate(bags):
            for term, tf in bag.items():
                self.postings.setdefault(term, []).append((number, tf))
        n = len(bags)
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def search(self, query: str, k: int = 3) -> List[int]:
        scores: Dict[int, float] = {}
        for term in set(tokens(query)):
            for number, tf in self.postings.get(term, ()):
                norm = K1 * (1 - B + B * self.lengths[number] / self.average)
                scores[number] = scores.get(number, 0.0) + self.idf[term] * tf * (K1 + 1) / (tf + norm)
        return sorted(scores, key=lambda number: -scores[number])[:k]
