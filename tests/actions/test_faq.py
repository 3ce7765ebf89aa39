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
    events = await ActionFallback().run(second, make_tracker("呱呱呱", "nlu_fallback", events=earlier), domain)
    assert responses(second) == ["utter_offer_human"]
    assert events == [{"event": "followup", "timestamp": None, "name": "action_listen"}]


LISTEN = {"event": "followup", "timestamp": None, "name": "action_listen"}


def bot(name: str) -> dict:
    return {"event": "bot", "text": "…", "metadata": {"utter_action": name}}


def user(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": []}}


class FakeRouter:
    def classify(self, text):
        return SimpleNamespace(
            category="城乡建设", subcategory=None, department="住建局", confidence=0.4, alternatives=[]
        )


@pytest.fixture
def routed(monkeypatch):
    monkeypatch.setattr(actions.faq, "router", lambda: FakeRouter())


@pytest.mark.parametrize(
    "text, intent",
    [
        ("好的", "affirm"),
        ("嗯", "affirm"),
        ("ok", "affirm"),
        ("知道了", "inform"),
        ("人呢", "nlu_fallback"),
        ("行", "affirm"),
        ("没有了", "deny"),
    ],
)
async def test_an_acknowledgement_at_the_start_gets_the_menu_once(domain, make_tracker, responses, kb, text, intent):
    from rasa_sdk.executor import CollectingDispatcher

    kb("none")
    first, again = CollectingDispatcher(), CollectingDispatcher()
    events = await ActionFallback().run(first, make_tracker(text, intent), domain)
    assert responses(first) == ["utter_ack_menu"] and events == [LISTEN]
    earlier = [user(text, intent), bot("utter_ack_menu")]
    events = await ActionFallback().run(again, make_tracker(text, intent, events=earlier), domain)
    assert responses(again) == ["utter_anything_else"] and events == [LISTEN]


async def test_an_acknowledgement_after_the_greeting_or_an_answer_is_answered_briefly(
    domain, dispatcher, make_tracker, responses, kb
):
    kb("none")
    earlier = [user("你好", "greet"), bot("utter_greet"), user("暖气不热", "ask_question"), bot("utter_anything_else")]
    events = await ActionFallback().run(dispatcher, make_tracker("嗯嗯", "affirm", events=earlier), domain)
    assert responses(dispatcher) == ["utter_anything_else"] and events == [LISTEN]


@pytest.mark.parametrize(
    "text, intent, response", [("解决了", "affirm", "utter_faq_glad"), ("没有", "deny", "utter_faq_not_solved")]
)
async def test_yes_or_no_after_an_answer_from_the_fallback(
    domain, dispatcher, make_tracker, responses, kb, text, intent, response
):
    kb("none")
    earlier = [user("暖气片冰凉", "nlu_fallback"), bot("utter_faq_feedback")]
    events = await ActionFallback().run(dispatcher, make_tracker(text, intent, events=earlier), domain)
    assert responses(dispatcher) == [response] and events == [LISTEN]


async def test_a_request_no_intent_matched_is_offered_for_registration(domain, dispatcher, make_tracker, kb, routed):
    kb("none")
    text = "恳请镇政府协助民工讨回血汗钱，老板拖欠工资半年了"
    events = await ActionFallback().run(dispatcher, make_tracker(text, "nlu_fallback"), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_offer_register"]
    assert dispatcher.messages[0]["category"] and dispatcher.messages[0]["request"].startswith("恳请镇政府")
    assert events == [{"event": "slot", "timestamp": None, "name": "pending_request", "value": text}, LISTEN]


async def test_a_confident_hit_answers_the_request(domain, dispatcher, make_tracker, responses, kb):
    kb("answer")
    events = await ActionFallback().run(dispatcher, make_tracker("家里的暖气片一直冰凉", "inform"), domain)
    assert responses(dispatcher) == ["先排气，再报修。", "utter_faq_feedback"]
    assert events[-1] == LISTEN


async def test_a_request_mentioning_a_danger_gets_one_safety_line(
    domain, dispatcher, make_tracker, responses, kb, routed
):
    kb("none")
    text = "小区楼道堆满杂物，一旦发生火灾，后果不可想象"
    await ActionFallback().run(dispatcher, make_tracker(text, "nlu_fallback"), domain)
    assert responses(dispatcher) == ["utter_offer_register", "utter_safety_note"]


async def test_yes_to_the_offer_starts_the_form_with_the_request_as_description(
    domain, dispatcher, make_tracker, responses, kb, routed
):
    kb("none")
    text = "南开区幸福路的工地晚上一直施工，噪音太大"
    earlier = [user(text, "nlu_fallback"), bot("utter_offer_register")]
    tracker = make_tracker("/affirm", "affirm", events=earlier, slots={"pending_request": text})
    events = await ActionFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_started"]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["description"] == text and slots["pending_request"] is None
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "complaint_form"}


@pytest.mark.parametrize("text, intent", [("好的，帮我登记一下吧", "file_complaint"), ("需要", "affirm")])
async def test_a_typed_yes_to_the_offer_is_not_a_new_request(
    domain, dispatcher, make_tracker, responses, kb, routed, text, intent
):
    kb("none")
    earlier = [user("小区门口的路灯坏了好几个月", "nlu_fallback"), bot("utter_offer_register")]
    tracker = make_tracker(text, intent, events=earlier, slots={"pending_request": "小区门口的路灯坏了好几个月"})
    events = await ActionFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_started"]
    assert events[-1]["name"] == "complaint_form"


async def test_yes_after_the_offer_and_its_safety_note(domain, dispatcher, make_tracker, responses, kb, routed):
    kb("none")
    text = "小区楼道堆满杂物，一旦发生火灾，后果不可想象"
    earlier = [user(text, "nlu_fallback"), bot("utter_offer_register"), bot("utter_safety_note")]
    tracker = make_tracker("好的", "affirm", events=earlier, slots={"pending_request": text})
    events = await ActionFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_started"] and events[-1]["name"] == "complaint_form"


async def test_no_to_the_offer(domain, dispatcher, make_tracker, responses, kb):
    kb("none")
    earlier = [user("某某事情很久没人管", "nlu_fallback"), bot("utter_offer_register")]
    tracker = make_tracker("不用了", "deny", events=earlier, slots={"pending_request": "某某事情很久没人管"})
    events = await ActionFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_register_declined"]
    assert events == [{"event": "slot", "timestamp": None, "name": "pending_request", "value": None}, LISTEN]


async def test_none_of_these_offers_to_register_the_request(domain, dispatcher, make_tracker, responses, kb, routed):
    kb("none")
    earlier = [user("小区门口的路灯坏了好几个月", "nlu_fallback"), bot("utter_faq_suggestions")]
    tracker = make_tracker("/deny", "deny", events=earlier, slots={"pending_request": "小区门口的路灯坏了好几个月"})
    await ActionFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_offer_register"]


async def test_an_unanswered_question_is_handed_to_the_fallback(domain, dispatcher, make_tracker, kb):
    kb("none")
    events = await ActionAnswerFaq().run(dispatcher, make_tracker("反映A市购第二套房的困难", "ask_question"), domain)
    assert dispatcher.messages == [] and events == [{"event": "followup", "timestamp": None, "name": "action_fallback"}]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("呱呱呱呱呱呱", False),
        ("好的好的好的", False),
        ("asdf qwer", False),
        ("小区门口的路灯坏了", True),
        ("反映A市购第二套房的困难", True),
    ],
)
def test_what_counts_as_a_request(text, expected):
    from actions.faq import is_request

    assert is_request(text) is expected
