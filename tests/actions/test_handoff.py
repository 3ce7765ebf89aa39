"""action_handoff and action_handback (the service rating that follows is in test_rating.py)."""

from __future__ import annotations

import datetime as dt

from actions.handoff import ActionHandback, ActionHandoff
from bot.handoff import HandoffStore
from bot.handoff.hours import local_now


async def test_handoff_queues_pauses_and_tells_the_position(domain, make_tracker, responses, env_settings):
    from rasa_sdk.executor import CollectingDispatcher

    first, second = CollectingDispatcher(), CollectingDispatcher()
    earlier = [
        {
            "event": "user",
            "text": "小区门口烧烤摊太吵",
            "input_channel": "socketio",
            "parse_data": {"intent": {"name": "file_complaint"}, "entities": []},
        }
    ]
    events = await ActionHandoff().run(
        first, make_tracker("/request_human", "request_human", sender="c-a", events=earlier), domain
    )
    assert events == [{"event": "pause", "timestamp": None}] and responses(first) == ["utter_handoff_next"]
    events = await ActionHandoff().run(second, make_tracker("转人工", "request_human", sender="c-b"), domain)
    assert responses(second) == ["utter_handoff_queued"] and second.messages[0]["ahead"] == 1
    store = HandoffStore.from_url(env_settings.redis_url)
    try:
        assert [record.id for record in await store.waiting()] == ["c-a", "c-b"]
        record = await store.get("c-a")
        assert record.summary["last_message"] == "小区门口烧烤摊太吵" and record.summary["topic"] == "file_complaint"
        assert record.summary["channel"] == "socketio" and record.summary["intent"] == "request_human"
    finally:
        await store.close()


async def test_outside_staffed_hours_offers_a_request_and_does_not_pause(
    domain, dispatcher, make_tracker, responses, env_settings, monkeypatch
):
    now = local_now()  # the hotline's clock (Asia/Shanghai), as the action reads it
    start, end = (now + dt.timedelta(hours=2)).strftime("%H:00"), (now + dt.timedelta(hours=3)).strftime("%H:00")
    monkeypatch.setenv("BIANMIN_STAFFED_HOURS", f"{start}-{end}")
    events = await ActionHandoff().run(dispatcher, make_tracker("转人工", "request_human", sender="c-late"), domain)
    assert events == [] and responses(dispatcher) == ["utter_handoff_closed"]
    assert dispatcher.messages[0]["staffed_hours"] == f"{start}-{end}"
    assert dispatcher.messages[0]["back_at"].endswith(start)


async def test_redis_down_is_said_honestly(domain, dispatcher, make_tracker, responses, env_settings, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:43999/0")
    events = await ActionHandoff().run(dispatcher, make_tracker("转人工", "request_human", sender="c-down"), domain)
    assert events == [] and responses(dispatcher) == ["utter_handoff_unavailable"]


async def test_handback_greets_and_asks_for_a_rating(domain, dispatcher, make_tracker, responses):
    events = await ActionHandback().run(dispatcher, make_tracker("", "EXTERNAL_handback"), domain)
    assert events == [] and responses(dispatcher) == ["utter_handback", "utter_ask_service_rating"]
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == [
        '/rate_service{"service_rating": "满意"}',
        '/rate_service{"service_rating": "基本满意"}',
        '/rate_service{"service_rating": "不满意"}',
    ]
