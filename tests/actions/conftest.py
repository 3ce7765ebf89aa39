"""Action-test fixtures in financial-demo's style: the domain as Rasa sends it, a tracker built from a
latest message and prior events, a collecting dispatcher, a fake ticket backend, and the settings the
actions read from the environment (real Redis, db 13; files in a temporary directory)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Dict, List, Optional

import pytest
import redis
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import ROOT, load, to_env
from bot.ticket_client import TicketBackendUnavailable, TicketNotFound, TicketRejected


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """The merged domain/ as Rasa sends it with every action call (Domain.as_dict())."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain")).as_dict()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def user_event(
    text: str, intent: str, entities: Optional[List[Dict[str, Any]]] = None, channel: str = "socketio"
) -> Dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "input_channel": channel,
        "parse_data": {"intent": {"name": intent}, "entities": entities or []},
    }


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """make_tracker(text, intent, slots=..., entities=..., events=..., active_loop=..., sender=...):
    a tracker whose latest user message is `text`, preceded by `events` and followed by the SlotSet
    events of `slots` (as a form's validation sees the slots it is to validate)."""

    def make(
        text: str = "",
        intent: str = "inform",
        *,
        slots: Optional[Dict[str, Any]] = None,
        entities: Optional[List[Dict[str, Any]]] = None,
        events: Optional[List[Dict[str, Any]]] = None,
        active_loop: Optional[str] = None,
        sender: str = "citizen",
    ) -> Tracker:
        user = user_event(text, intent, entities)
        slot_events = [
            {"event": "slot", "timestamp": None, "name": name, "value": value} for name, value in (slots or {}).items()
        ]
        return Tracker(
            sender,
            dict(slots or {}),
            {**user["parse_data"], "text": text},
            [*(events or []), user, *slot_events],
            False,
            None,
            {"name": active_loop} if active_loop else {},
            "action_listen",
        )

    return make


def sent(dispatcher: CollectingDispatcher) -> List[str]:
    """The response names the dispatcher was given, in order (text= messages show as their text)."""
    return [message.get("response") or message.get("text") for message in dispatcher.messages]


@pytest.fixture
def responses() -> Callable[[CollectingDispatcher], List[str]]:
    return sent


class FakeTickets:
    """The ticket client's interface, in memory: `tickets` by number; `down` makes every call fail as
    an unreachable backend does; `reject` makes create/rate fail as a 4xx does."""

    def __init__(self) -> None:
        self.tickets: Dict[str, Dict[str, Any]] = {}
        self.created: List[Dict[str, Any]] = []
        self.ratings: List[tuple] = []
        self.down = False
        self.reject = False

    def _check(self) -> None:
        if self.down:
            raise TicketBackendUnavailable("down")
        if self.reject:
            raise TicketRejected(409, "rejected")

    async def create_ticket(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        self._check()
        self.created.append(payload)
        ticket = {"number": "BM261122K7M4Q9XZ", "department": payload.get("department"), "status": "已受理", **payload}
        self.tickets[ticket["number"]] = ticket
        return ticket

    async def get_ticket(self, number: str) -> Dict[str, Any]:
        if self.down:
            raise TicketBackendUnavailable("down")
        if number not in self.tickets:
            raise TicketNotFound(404, "not found")
        return self.tickets[number]

    async def rate(self, number: str, rating: str) -> Dict[str, Any]:
        self._check()
        self.ratings.append((number, rating))
        return self.tickets.get(number, {})


@pytest.fixture
def tickets(monkeypatch) -> FakeTickets:
    """Every action's TicketClient.from_settings() returns this fake."""
    from bot.ticket_client import TicketClient

    fake = FakeTickets()
    monkeypatch.setattr(TicketClient, "from_settings", classmethod(lambda cls, settings=None: fake))
    return fake


@pytest.fixture(autouse=True)
def lookup_limits_redis(redis_url, monkeypatch) -> str:
    """Ticket look-up limits (bot/rate_limits.py) count in Redis db 13, emptied of them before each test."""
    url = redis_url.rsplit("/", 1)[0] + "/13"
    monkeypatch.setenv("REDIS_URL", url)
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match="bianmin:limits:*"))
    if keys:
        client.delete(*keys)
    client.close()
    return url


@pytest.fixture
def env_settings(tmp_path, redis_url, monkeypatch):
    """Settings the actions read through `load()`: Redis db 13 (emptied), var/ in a temporary directory,
    agents on duty around the clock."""
    settings = replace(
        load(), redis_url=redis_url.rsplit("/", 1)[0] + "/13", var_dir=tmp_path, staffed_hours="00:00-24:00"
    )
    client = redis.Redis.from_url(settings.redis_url)
    client.flushdb()
    client.close()
    for key, value in to_env(settings).items():
        monkeypatch.setenv(key, value)
    return settings
