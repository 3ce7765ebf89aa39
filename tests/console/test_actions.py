"""action_handoff, action_handback and the service rating, run offline with rasa_sdk fixtures."""
from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandback, ActionHandoff, ActionRecordServiceRating, summary_for_agent
from bot.handoff import HandoffStore, StaffedHours, when_back


def user(text, intent, entities=()):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": list(entities)},
            "input_channel": "socketio"}


def tracker(sender="c-1", events=None, slots=None):
    events = events or [user("小区门口烧烤摊太吵", "file_complaint"), user("/request_human", "request_human")]
    latest = events[-1]
    return Tracker(sender, slots or {}, {**latest["parse_data"], "text": latest["text"]}, events, False, None,
                   {"name": "complaint_form"} if slots else {}, "action_listen")


async def run(action, track):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    return dispatcher.messages, events


async def test_handoff_queues_pauses_and_tells_the_position(env_settings):
    messages, events = await run(ActionHandoff(), tracker("c-a"))
    assert events == [{"event": "pause", "timestamp": None}]
    assert "已为您转接人工客服" in messages[0]["text"] and "下一位" in messages[0]["text"]
    messages, events = await run(ActionHandoff(), tracker("c-b"))
    assert "您前面还有1位" in messages[0]["text"]
    store = HandoffStore.from_url(env_settings.redis_url)
    try:
        assert [record.id for record in await store.waiting()] == ["c-a", "c-b"]
        record = await store.get("c-a")
        assert record.summary["last_message"] == "小区门口烧烤摊太吵" and record.summary["topic"] == "file_complaint"
        assert record.summary["channel"] == "socketio" and record.summary["intent"] == "request_human"
    finally:
        await store.close()


async def test_summary_has_the_collected_slots():
    slots = {"description": "烧烤摊油烟", "category": "环境保护", "phone": "13812345678", "requested_slot": "address"}
    summary = summary_for_agent(tracker(slots=slots), now=dt.datetime(2026, 11, 23, 9, 30))
    assert summary["category"] == "环境保护" and summary["description"] == "烧烤摊油烟"
    assert summary["slots"] == {"description": "烧烤摊油烟", "category": "环境保护", "phone": "13812345678"}
    assert summary["time"] == "2026-11-23T09:30:00"


async def test_outside_staffed_hours_offers_a_request_and_does_not_pause(env_settings, monkeypatch):
    now = dt.datetime.now()
    start = (now + dt.timedelta(hours=2)).strftime("%H:00")
    end = (now + dt.timedelta(hours=3)).strftime("%H:00")
    monkeypatch.setenv("BIANMIN_STAFFED_HOURS", f"{start}-{end}")
    messages, events = await run(ActionHandoff(), tracker("c-late"))
    assert events == []
    assert "不是人工客服的服务时间" in messages[0]["text"] and f"{start}上线" in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": "留下诉求", "payload": "/file_complaint"}]


async def test_redis_down_is_said_honestly(env_settings, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:43999/0")
    messages, events = await run(ActionHandoff(), tracker("c-down"))
    assert events == [] and "暂时无法接入" in messages[0]["text"]


async def test_handback_greets_and_asks_for_a_rating():
    messages, events = await run(ActionHandback(), tracker())
    assert events == [] and "还有什么可以帮您" in messages[0]["text"]
    assert [b["payload"] for b in messages[1]["buttons"]] == [
        '/rate_service{"service_rating": "满意"}', '/rate_service{"service_rating": "基本满意"}',
        '/rate_service{"service_rating": "不满意"}']


async def test_service_rating_is_recorded_for_the_agent_once(env_settings):
    store = HandoffStore.from_url(env_settings.redis_url)
    try:
        await store.enqueue("c-rate", {})
        await store.take("c-rate", "wang")
        await store.finish("c-rate", "wang", "handed_back")
        rated = tracker("c-rate", [user('/rate_service{"service_rating":"满意"}', "rate_service",
                                        [{"entity": "service_rating", "value": "满意"}])])
        messages, _ = await run(ActionRecordServiceRating(), rated)
        assert "感谢您的评价" in messages[0]["text"]
        await run(ActionRecordServiceRating(), rated)
        assert await store.ratings() == {"wang": {"满意": 1}}
    finally:
        await store.close()


@pytest.mark.parametrize("text,now,open_,back", [
    ("08:00-20:00", dt.datetime(2026, 1, 1, 7, 59), False, "今天08:00"),
    ("08:00-20:00", dt.datetime(2026, 1, 1, 8, 0), True, None),
    ("08:00-20:00", dt.datetime(2026, 1, 1, 20, 0), False, "明天08:00"),
    ("00:00-24:00", dt.datetime(2026, 1, 1, 23, 59), True, None),
    ("22:00-06:00", dt.datetime(2026, 1, 1, 3, 0), True, None),
    ("22:00-06:00", dt.datetime(2026, 1, 1, 12, 0), False, "今天22:00"),
])
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
    assert mask_text("电话 138-1234-5678 或 022-23456789，身份证 11010519491231002x") == \
        "电话 138****5678 或 022****6789，身份证 110105********002x"
    assert mask_text("工单 BM261122K7M4Q9XZ 第12345号") == "工单 BM261122K7M4Q9XZ 第12345号"
    assert mask_deep({"a": ["13812345678", 3]}) == {"a": ["138****5678", 3]}
