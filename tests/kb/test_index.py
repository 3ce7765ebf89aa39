"""The inverted index itself: single-character damping and taking documents back out for a rebuild."""

from __future__ import annotations

import numpy as np
import pytest

from bot.kb import index as index_module
from bot.kb.index import SINGLE_CHAR_ONLY_SHARE, Bags, Index


def test_single_characters_alone_are_weak_evidence(monkeypatch):
    docs = [{"u:水": 1.0, "w:漏水": 1.0}, {"u:水": 1.0, "w:水压": 1.0}]
    query = {"u:水": 1.0, "w:漏水": 1.0}
    damped = Index([Bags.of(docs)]).scores(query)
    monkeypatch.setattr(index_module, "SINGLE_CHAR_ONLY_SHARE", 1.0)
    undamped = Index([Bags.of(docs)]).scores(query)
    assert damped[0] == pytest.approx(undamped[0])  # shares a word: its single characters count fully
    assert damped[1] == pytest.approx(undamped[1] * SINGLE_CHAR_ONLY_SHARE)  # only the character 水
    assert damped[1] > 0


def test_part_gives_back_the_bags_that_went_in():
    first = Bags.of([{"w:暖气": 1.0, "u:暖": 0.5}, {"w:物业": 1.0}])
    second = Bags.of([{"w:暖气": 0.7, "w:漏水": 1.0}])
    index = Index([first, second])

    def as_docs(bags: Bags):
        docs = [dict() for _ in range(bags.size)]
        for row, column, value in zip(bags.rows, bags.columns, bags.values):
            docs[row][bags.terms[column]] = float(value)
        return docs

    assert as_docs(index.part(0, 2)) == as_docs(first)
    assert as_docs(index.part(2, 3)) == as_docs(second)
    rebuilt = Index([index.part(0, 2), index.part(2, 3)])
    query = {"w:暖气": 1.0, "w:漏水": 1.0}
    assert np.allclose(rebuilt.scores(query), index.scores(query))
