"""The handoff summary agents read: one function for the action server (a rasa-sdk Tracker's state) and
the console (Rasa's tracker JSON)."""

from __future__ import annotations

import datetime as dt

from rasa_sdk import Tracker

from bot.handoff import handoff_summary


def user(text: str, intent: str) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent}, "entities": []},
        "input_channel": "wechat",
    }


EVENTS = [user("小区门口烧烤摊太吵", "file_complaint"), user("/request_human", "request_human")]
SLOTS = {
    "description": "烧烤摊油烟",
    "category": "环境保护",
    "requested_slot": "address",
    "confirmed": True,
    "tags": [],
}
NOW = dt.datetime(2026, 11, 23, 9, 30)


def test_from_a_rasa_sdk_tracker():
    tracker = Tracker("c-1", SLOTS, EVENTS[-1]["parse_data"], EVENTS, False, None, {}, "action_listen")
    assert handoff_summary(tracker.current_state(), NOW) == {
        "intent": "request_human",
        "topic": "file_complaint",
        "category": "环境保护",
        "description": "烧烤摊油烟",
        "slots": {"description": "烧烤摊油烟", "category": "环境保护"},
        "channel": "wechat",
        "last_message": "小区门口烧烤摊太吵",
        "question": "烧烤摊油烟",  # what the citizen asked: the complaint's description before the last line
        "time": "2026-11-23T09:30:00",
    }


def test_from_rasa_http_api_json_is_the_same_plus_extras():
    state = {
        "sender_id": "c-1",
        "events": EVENTS,
        "slots": {**SLOTS, "category": None, "predicted_category": "城乡建设"},
        "latest_message": EVENTS[-1]["parse_data"],
        "latest_input_channel": "wechat",
    }
    summary = handoff_summary(state, NOW, picked_by_agent=True)
    assert summary["category"] == "城乡建设" and summary["picked_by_agent"] is True
    assert summary["topic"] == "file_complaint" and summary["last_message"] == "小区门口烧烤摊太吵"
