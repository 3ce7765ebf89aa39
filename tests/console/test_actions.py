"""The handoff summary the agent sees, staffed hours and masking (the handoff and rating actions are
tested in tests/actions/test_handoff.py and test_rating.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk import Tracker

from actions.handoff import summary_for_agent
from bot.handoff import StaffedHours, when_back


def user(text, intent, entities=()):
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent}, "entities": list(entities)},
        "input_channel": "socketio",
    }


def tracker(sender="c-1", events=None, slots=None):
    events = events or [user("小区门口烧烤摊太吵", "file_complaint"), user("/request_human", "request_human")]
    latest = events[-1]
    return Tracker(
        sender,
        slots or {},
        {**latest["parse_data"], "text": latest["text"]},
        events,
        False,
        None,
        {"name": "complaint_form"} if slots else {},
        "action_listen",
    )


async def test_summary_has_the_collected_slots():
    slots = {"description": "烧烤摊油烟", "category": "环境保护", "phone": "13812345678", "requested_slot": "address"}
    summary = summary_for_agent(tracker(slots=slots), now=dt.datetime(2026, 11, 23, 9, 30))
    assert summary["category"] == "环境保护" and summary["description"] == "烧烤摊油烟"
    assert summary["slots"] == {"description": "烧烤摊油烟", "category": "环境保护", "phone": "13812345678"}
    assert summary["time"] == "2026-11-23T09:30:00"


@pytest.mark.parametrize(
    "text,now,open_,back",
    [
        ("08:00-20:00", dt.datetime(2026, 1, 1, 7, 59), False, "今天08:00"),
        ("08:00-20:00", dt.datetime(2026, 1, 1, 8, 0), True, None),
        ("08:00-20:00", dt.datetime(2026, 1, 1, 20, 0), False, "明天08:00"),
        ("00:00-24:00", dt.datetime(2026, 1, 1, 23, 59), True, None),
        ("22:00-06:00", dt.datetime(2026, 1, 1, 3, 0), True, None),
        ("22:00-06:00", dt.datetime(2026, 1, 1, 12, 0), False, "今天22:00"),
    ],
)
def test_staffed_hours(text, now, open_, back):
    hours = StaffedHours.parse(text)
    assert hours.is_open(now) is open_
    if back:
        assert when_back(hours, now) == back


@pytest.mark.parametrize("text", ["", "8-20", "08:00-08:00", "25:00-26:00", "08:61-09:00"])
def test_bad_staffed_hours_are_explained(text):
    with pytest.raises(ValueError):
        StaffedHours.parse(text)


def test_masking():
    from bot.personal_data import mask_deep, mask_id_card, mask_text

    assert mask_id_card("11010519491231002X") == "110105********002X"
    assert (
        mask_text("电话 138-1234-5678 或 022-23456789，身份证 11010519491231002x")
        == "电话 138****5678 或 022****6789，身份证 110105********002x"
    )
    assert mask_text("工单 BM261122K7M4Q9XZ 第12345号") == "工单 BM261122K7M4Q9XZ 第12345号"
    assert mask_deep({"a": ["13812345678", 3]}) == {"a": ["138****5678", 3]}
