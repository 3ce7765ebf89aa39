"""A description routed again (the complaint form's start, then its validation) is not classified twice."""

from __future__ import annotations

from bot.routing import Router
from bot.routing.taxonomy import DATA_DIR


def test_the_same_description_is_classified_once(seeded_cache, monkeypatch):
    running = Router(DATA_DIR, seeded_cache)
    calls = []
    classify_many = running.classify_many
    monkeypatch.setattr(running, "classify_many", lambda *args: calls.append(args) or classify_many(*args))
    first = running.classify("小区门口的路灯坏了一个月了")
    assert running.classify("小区门口的路灯坏了一个月了") == first and len(calls) == 1
    running.classify("小区门口的路灯坏了一个月了", title="路灯")  # another title: another route
    assert len(calls) == 2
