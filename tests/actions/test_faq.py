"""Answers from the knowledge base (a fake one here), suggestions, and what happens when nothing fits."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import actions.faq
from actions.faq import ActionAnswerFaq, ActionFallback

HEATING = SimpleNamespace(id="heating", questions=["暖气不热怎么办"], answer="  先排气，再报修。 ")
START = SimpleNamespace(id="start", questions=["供暖什么时候开始"], answer="11月1日开始供暖。")


class FakeKnowledgeBase:
    """`decision` decides; search returns both entries."""

    def __init__(self, decision: str) -> None:
        self.decision = decision

    def get(self, entry_id):
        return {"heating": HEATING, "start": START}.get(entry_id)

    def search(self, text, k=3, channel=None):
        return [SimpleNamespace(entry=HEATING, score=0.5), SimpleNamespace(entry=START, score=0.4)]

    def decide(self, hits):
        return self.decision


@pytest.fixture
def kb(monkeypatch):
    def use(decision: str) -> None:
        monkeypatch.setattr(actions.faq, "knowledge_base", lambda: FakeKnowledgeBase(decision))

    return use


async def test_a_confident_hit_is_answered_and_asked_about(domain, dispatcher, make_tracker, kb):
    kb("answer")
    events = await ActionAnswerFaq().run(dispatcher, make_tracker("暖气不热", "ask_question"), domain)
    assert events == []
    # the answer is the knowledge base's own text; the question after it is a response
    assert [(m["text"], m["response"]) for m in dispatcher.messages] == [
        ("先排气，再报修。", None),
        (None, "utter_faq_feedback"),
    ]


async def test_a_button_picks_an_entry(domain, dispatcher, make_tracker, kb):
    kb("none")
    tracker = make_tracker(
        '/ask_question{"faq_id":"start"}', "ask_question", entities=[{"entity": "faq_id", "value": "start"}]
    )
    await ActionAnswerFaq().run(dispatcher, tracker, domain)
    assert [(m["text"], m["response"]) for m in dispatcher.messages] == [
        ("11月1日开始供暖。", None),
        (None, "utter_faq_feedback"),
    ]


async def test_plausible_hits_are_suggested(domain, dispatcher, make_tracker, responses, kb):
    kb("suggest")
    await ActionAnswerFaq().run(dispatcher, make_tracker("暖气", "ask_question"), domain)
    assert responses(dispatcher) == ["utter_faq_suggestions"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        '/ask_question{"faq_id": "heating"}',
        '/ask_question{"faq_id": "start"}',
        "/deny",
    ]


async def test_a_bare_button_asks_for_the_question(domain, dispatcher, make_tracker, responses, kb):
    kb("none")
    await ActionAnswerFaq().run(dispatcher, make_tracker("/ask_question", "ask_question"), domain)
    assert responses(dispatcher) == ["utter_what_question"]


async def test_first_miss_asks_to_rephrase_second_offers_a_human(domain, make_tracker, responses, kb):
    from rasa_sdk.executor import CollectingDispatcher

    kb("none")
    first, second = CollectingDispatcher(), CollectingDispatcher()
    await ActionFallback().run(first, make_tracker("啊啊啊", "nlu_fallback"), domain)
    assert responses(first) == ["utter_ask_rephrase"]
    earlier = [
        {"event": "user", "text": "啊啊啊", "parse_data": {"intent": {"name": "nlu_fallback"}, "entities": []}},
        {"event": "bot", "text": "抱歉", "metadata": {"utter_action": "utter_ask_rephrase"}},
    ]
    await ActionFallback().run(second, make_tracker("哦哦哦", "nlu_fallback", events=earlier), domain)
    assert responses(second) == ["utter_offer_human"]
