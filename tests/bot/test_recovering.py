"""The answer to an action call that failed: one short notice per citizen message, and a form's validation
call undoes what the message filled."""

from __future__ import annotations

from bot.recovering import NOTICE, RecoveryAnswers, undo_latest_slots


def call(action: str, events: list, message_id: str = "m1") -> dict:
    return {
        "next_action": action,
        "sender_id": "c1",
        "domain": {"slots": {"phone": {"initial_value": None}}},
        "tracker": {"sender_id": "c1", "latest_message": {"message_id": message_id}, "events": events},
    }


FORM_TURN = [
    {"event": "slot", "name": "address", "value": "河西区友谊路20号"},
    {"event": "user", "text": "12345"},
    {"event": "slot", "name": "phone", "value": "12345"},
    {"event": "slot", "name": "address", "value": "12345"},
    {"event": "slot", "name": "requested_slot", "value": "phone"},
]


def test_a_validation_call_undoes_the_slots_of_the_latest_message():
    assert undo_latest_slots(FORM_TURN, call("x", [])["domain"]) == [
        {"event": "slot", "name": "address", "value": "河西区友谊路20号"},
        {"event": "slot", "name": "phone", "value": None},
    ]


def test_one_notice_per_citizen_message():
    answers = RecoveryAnswers()
    first = answers.answer(call("validate_complaint_form", FORM_TURN))
    assert first["responses"] == [{"text": NOTICE}] and len(first["events"]) == 2
    assert answers.answer(call("action_ask_category", FORM_TURN)) == {"events": [], "responses": []}
    assert answers.answer(call("action_answer_faq", [], message_id="m2"))["responses"] == [{"text": NOTICE}]
