"""The digression matrix (issue 14): every form question x {knowledge-base question, chit-chat, "你是机器人吗",
转人工, cancel, emergency, correction}, in-process against the trained model.

Each message is read by the trained NLU. Messages the forms do not take as answers (转人工, cancel, emergencies:
the slot mappings' not_intent) make the form reject; the dialogue policy must then predict the rule's action
(handoff, cancel, emergency). Every other message goes to the form's validation action, which must take it up
(an answer from the knowledge base, the chit-chat or bot reply, the correction) and never store it as the
answer, so the form asks its question again ("我们继续："). `pytest -s` prints the matrix.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaint import ValidateComplaintForm
from actions.ticket_status import ValidateTicketLookupForm
from bot.settings import ROOT, load
from stack.training import ensure_model

DIGRESSIONS = {  # a cell is handled when every one of its messages is
    "kb": ["暖气不热怎么办", "你们几点下班？", "我反映的问题处理完会有人回访吗"],
    "chitchat": ["给我讲个笑话吧", "你吃饭了吗"],
    "bot": ["你是机器人吗"],
    "human": ["转人工", "我要找人工客服"],
    "cancel": ["算了不弄了", "不办了"],
    "emergency": ["楼下着火了", "有人晕倒了"],
    "correction": ["电话改成13900001111", "地址说错了"],
}
RULE_ACTIONS = {
    "human": {"request_human": {"action_deactivate_loop", "action_handoff"}},
    "cancel": {"cancel": {"action_cancel_form"}},
    "emergency": {"report_emergency": {"action_emergency"}},
}
FORMS = {"complaint_form": ValidateComplaintForm, "ticket_lookup_form": ValidateTicketLookupForm}
FILLED = {
    "description": "楼下饭馆排风机每天半夜响",
    "predicted_category": "城乡建设",
    "route_confidence": 0.9,
    "category": "城乡建设",
    "address": "长江道5号",
    "district": "南开区",
    "occurred_at": "每天晚上",
    "person_name": "王先生",
    "phone": "13812345678",
    "confidential": "否",
}


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    return Agent.load(str(ensure_model(load(), quiet=True)))


@pytest.fixture(scope="module")
def domain_dict() -> Dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain")).as_dict()


def questions(domain_dict) -> List[Tuple[str, str]]:
    return [(form, slot) for form in FORMS for slot in domain_dict["forms"][form]["required_slots"]]


def rejected_by_mapping(domain_dict, slot: str, intent: str) -> bool:
    """The requested slot's from_text mapping leaves this intent alone: the form rejects, rules apply."""
    mappings = [
        m for m in domain_dict["slots"][slot]["mappings"] if m.get("type") == "from_text" and m.get("conditions")
    ]
    return all(intent in (m.get("not_intent") or []) for m in mappings)


async def next_action_after_rejection(agent, form: str, slot: str, parse: Dict[str, Any]) -> str:
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = agent.domain
    start = "file_complaint" if form == "complaint_form" else "check_ticket"
    events = [ActionExecuted("action_listen"), UserUttered("/" + start, {"name": start, "confidence": 1.0})]
    if form == "complaint_form":
        events.append(ActionExecuted("action_start_complaint"))
    events += [
        ActionExecuted(form),
        ActiveLoop(form),
        SlotSet("requested_slot", slot),
        ActionExecuted("action_listen"),
        UserUttered(parse["text"], parse["intent"], parse["entities"], parse),
        ActionExecutionRejected(form),
    ]
    tracker = DialogueStateTracker.from_events("matrix", events, domain.slots)
    prediction = agent.processor._predict_next_with_tracker(tracker)
    return domain.action_names_or_texts[prediction.max_confidence_index]


async def validated(form: str, slot: str, parse: Dict[str, Any], domain_dict) -> Tuple[List[str], Dict[str, Any]]:
    slots = {name: value for name, value in FILLED.items() if form == "complaint_form"}
    slots.update({"requested_slot": slot, slot: parse["text"]})
    latest = {"intent": parse["intent"], "entities": parse["entities"], "text": parse["text"]}
    user = {"event": "user", "text": parse["text"], "parse_data": latest, "input_channel": "rest"}
    slot_events = [{"event": "slot", "name": slot, "value": parse["text"], "timestamp": None}]
    tracker = Tracker("matrix", slots, latest, [user, *slot_events], False, None, {"name": form}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await FORMS[form]().run(dispatcher, tracker, domain_dict)
    said = [m.get("response") or "text" for m in dispatcher.messages]
    changed = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return said, changed


def handled_by_form(kind: str, slot: str, said: List[str], changed: Dict[str, Any], text: str) -> bool:
    stored_as_answer = changed.get(slot) == text
    if kind == "correction":
        if slot in ("lookup_phone", "ticket_number"):  # the look-up has nothing to correct: a phone is used
            return "13900001111" not in text or not stored_as_answer or slot == "lookup_phone"
        if "13900001111" in text:
            return "utter_field_corrected" in said and changed.get("phone") == "13900001111"
        return "utter_edit_field" in said and changed.get("address", "kept") is None
    return said[-1:] == ["utter_form_resume"] and not stored_as_answer


async def test_the_digression_matrix(agent, domain_dict):
    cells: Dict[Tuple[str, str], str] = {}
    for form, slot in questions(domain_dict):
        for kind, texts in DIGRESSIONS.items():
            failed = []
            for text in texts:
                parse = await agent.parse_message(text)
                intent = parse["intent"]["name"]
                if kind in RULE_ACTIONS:
                    expected = RULE_ACTIONS[kind].get(intent)
                    ok = bool(expected) and rejected_by_mapping(domain_dict, slot, intent)
                    if ok:
                        ok = await next_action_after_rejection(agent, form, slot, parse) in expected
                else:
                    said, changed = await validated(form, slot, parse, domain_dict)
                    ok = handled_by_form(kind, slot, said, changed, text)
                if not ok:
                    failed.append(f"{text}:{intent}")
            cells[(f"{form}.{slot}", kind)] = "ok" if not failed else "FAIL " + ",".join(failed)
    rows = sorted({row for row, _ in cells}, key=lambda r: [f"{f}.{s}" for f, s in questions(domain_dict)].index(r))
    print("\nquestion".ljust(34) + "".join(kind.ljust(12) for kind in DIGRESSIONS))
    for row in rows:
        print(row.ljust(33) + "".join(cells[(row, kind)].ljust(12) for kind in DIGRESSIONS))
    handled = sum(value == "ok" for value in cells.values())
    print(f"handled: {handled}/{len(cells)}")
    assert handled == len(cells), {key: value for key, value in cells.items() if value != "ok"}
