"""bot/nlu/speedups.py: Rasa's checks and look-ups, faster, with the same results."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from urllib.parse import urlparse

import aiohttp
import jsonschema
import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.nlu import endpoint_session, speedups, tracker_save

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"response": "utter_greet"}]}
BAD = {"events": [{"event": "slot"}], "responses": []}


def test_an_answer_is_validated_as_rasa_validates_it():
    schema = RemoteAction.action_response_format_spec()
    action = RemoteAction("action_x", None)
    jsonschema.validate(GOOD, schema)
    assert speedups.validate_action_result(action, GOOD)
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        jsonschema.validate(BAD, schema)
    with pytest.raises(jsonschema.ValidationError) as ours:
        speedups.validate_action_result(action, BAD)
    assert ours.value.message.startswith(rasa_error.value.message + ". Failed to validate Action server response")


def test_event_classes_are_found_as_rasa_finds_them():
    for cls in all_subclasses(Event):
        assert speedups.resolve_by_type(cls.type_name) is speedups._resolve_by_type(cls.type_name)
    assert speedups.resolve_by_type("topic") is None
    assert speedups.resolve_by_type("unknown", default=Event) is Event
    with pytest.raises(ValueError):
        speedups.resolve_by_type("unknown")


# --- action calls over a kept-alive connection (bot/nlu/endpoint_session.py) ---------------------------


@asynccontextmanager
async def endpoint():
    """An action server stand-in on a free port; yields its URL and the client port of each call."""
    peers: list = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])
        body = await request.json()
        if body.get("reject"):
            return web.json_response({"action_name": "action_x", "error": "no"}, status=400)
        if body.get("text"):
            return web.Response(text="not json")
        return web.json_response({"echo": body, "token": request.query.get("token")})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/webhook", peers  # type: ignore[union-attr]
    finally:
        await endpoint_session.close_sessions()
        await runner.cleanup()


async def test_action_calls_answer_as_rasas_and_reuse_one_connection():
    async with endpoint() as (url, peers):
        config = EndpointConfig(url, token="secret")
        for call in (endpoint_session._original_request, endpoint_session.request):
            assert await call(config, json={"a": 1}, method="post") == {"echo": {"a": 1}, "token": "secret"}
            assert await call(config, json={"text": 1}) is None
        rasas, ours = peers[:2], peers[2:]
        assert rasas[0] != rasas[1]  # Rasa: a new connection for each call
        assert ours[0] == ours[1]  # here: the same one
        assert await EndpointConfig(url, token="secret").request(json={"b": 2}) == {"echo": {"b": 2}, "token": "secret"}
        assert peers[-1] == ours[0]  # the same configuration, another object: still the same connection


async def test_action_call_errors_are_rasas():
    async with endpoint() as (url, _):
        config = EndpointConfig(url)
        errors = []
        for call in (endpoint_session._original_request, endpoint_session.request):
            with pytest.raises(ClientResponseError) as error:
                await call(config, json={"reject": True})
            errors.append((error.value.status, error.value.text))
        assert errors[0] == errors[1] and errors[0][0] == 400
    gone = EndpointConfig("http://127.0.0.1:9/webhook")  # discard port: nothing listens
    for call in (endpoint_session._original_request, endpoint_session.request):
        with pytest.raises(aiohttp.ClientConnectionError):
            await call(gone, json={})
    await endpoint_session.close_sessions()


# --- saving a tracker without reading it back (bot/nlu/tracker_save.py) --------------------------------


def tracker_store(redis_url: str) -> RedisTrackerStore:
    url = urlparse(redis_url)
    db = int((url.path or "/0").lstrip("/") or "0")
    return RedisTrackerStore(
        Domain.empty(),
        host=url.hostname or "127.0.0.1",
        port=url.port or 6379,
        db=db,
        key_prefix="speeduptest",
        record_exp=2592000,
    )


def sent_commands(store: RedisTrackerStore, monkeypatch) -> list:
    sent: list = []
    original = store.red.execute_command

    def counted(*args, **kwargs):
        sent.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(store.red, "execute_command", counted)
    return sent


def texts(tracker) -> list:
    return [event.as_dict() for event in tracker.events]


async def test_a_tracker_nobody_wrote_since_it_was_read_is_saved_without_reading_it_back(redis_url, monkeypatch):
    store, sender = tracker_store(redis_url), f"c-{uuid.uuid4().hex[:8]}"
    try:
        await store.get_or_create_tracker(sender)
        tracker = await store.retrieve(sender)
        assert tracker is not None
        tracker.update(UserUttered("你好", {"name": "greet", "confidence": 1.0}))
        sent = sent_commands(store, monkeypatch)
        await store.save(tracker)
        assert "GET" not in sent and sent[-1] == "EVALSHA"  # Rasa: GET (and a deserialisation), then SET
        sent.clear()  # the script is now loaded into Redis (the first call loads it)
        tracker.update(ActionExecuted("utter_greet"))
        await store.save(tracker)  # saved again: still known
        assert sent == ["EVALSHA"]
        stored = await store.retrieve(sender)
        assert stored is not None and texts(stored) == texts(tracker)
        assert store.red.ttl(store.key_prefix + sender) > 2590000  # record_exp kept
    finally:
        store.red.delete(store.key_prefix + sender)


async def test_a_tracker_written_by_another_server_meanwhile_is_merged_as_rasa_merges_it(redis_url):
    mine, other, sender = tracker_store(redis_url), tracker_store(redis_url), f"c-{uuid.uuid4().hex[:8]}"
    try:
        await mine.get_or_create_tracker(sender)
        tracker, theirs = await mine.retrieve(sender), await other.retrieve(sender)
        assert tracker is not None and theirs is not None
        theirs.update(SlotSet("x", "theirs"))
        await other.save(theirs)
        tracker.update(UserUttered("在吗"))
        await mine.save(tracker)
        stored = await mine.retrieve(sender)
        assert stored is not None
        names = [event.get("event") for event in texts(stored)]
        assert names == ["action", "slot", "user"]  # both kept, in time order
    finally:
        mine.red.delete(mine.key_prefix + sender)


async def test_earlier_sessions_are_kept_and_the_text_is_rasas(redis_url):
    store, sender = tracker_store(redis_url), f"c-{uuid.uuid4().hex[:8]}"
    events = [
        ActionExecuted(ACTION_SESSION_START_NAME),
        UserUttered("你好"),
        ActionExecuted(ACTION_LISTEN_NAME),
        ActionExecuted(ACTION_SESSION_START_NAME),
        UserUttered("再见"),
    ]
    try:
        await tracker_save._original_save(store, DialogueStateTracker.from_events(sender, events))
        last = await store.retrieve(sender)
        assert last is not None and len(last.events) == 2  # the latest session only, as in Rasa
        last.update(ActionExecuted(ACTION_LISTEN_NAME))
        await store.save(last)
        whole = await store.retrieve_full_tracker(sender)
        assert whole is not None and len(whole.events) == 6
        ours = store.red.get(store.key_prefix + sender)
        await tracker_save._original_save(store, whole)
        assert store.red.get(store.key_prefix + sender) == ours
    finally:
        store.red.delete(store.key_prefix + sender)
