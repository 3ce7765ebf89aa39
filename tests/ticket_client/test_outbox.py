"""The durable outbox: complaints kept while the backend is down, delivered once it is back, and the
citizen told through (a fake) Rasa."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import replace

import pytest

from actions.outbox import DELIVERED, PENDING, REJECTED, Outbox, deliver_due, retry_delay, run_outbox_loop
from bot.ticket_client import TicketClient
from fakes.servers import wait_until

LATER = 10**6  # seconds: "after every retry delay has passed"


@pytest.fixture
def database_url(tmp_path):
    """The outbox does not depend on the backend's database: SQLite only, to stay fast."""
    return f"sqlite:///{tmp_path / 'tickets.sqlite3'}"


def _client(url: str) -> TicketClient:
    return TicketClient(url, "test-tickets-token", timeout=0.5, attempts=1)


async def _tickets_of(backend, sender_id):
    return (await TicketClient.from_settings(backend).list_tickets(sender_id=sender_id))["tickets"]


def test_a_kept_complaint_survives_a_new_outbox(tmp_path, complaint):
    path = tmp_path / "var" / "outbox.sqlite3"
    payload = complaint()
    assert Outbox(path).put(payload) == payload["client_ref"]
    Outbox(path).put(payload)  # the same complaint twice is kept once
    without_ref = Outbox(path).put(complaint(client_ref=None))
    entries = Outbox(path).entries()
    assert [e.client_ref for e in entries] == [payload["client_ref"], without_ref]
    assert entries[0].payload == payload and entries[0].state == PENDING
    assert entries[1].payload["client_ref"] == without_ref


async def test_backend_down_keeps_then_backend_up_delivers_once(tmp_path, complaint, backend, fake_rasa, dead_url):
    path = tmp_path / "outbox.sqlite3"
    payload = complaint(sender_id="citizen-7")
    Outbox(path).put(payload)

    assert await deliver_due(Outbox(path), _client(dead_url), backend) == 1
    [kept] = Outbox(path).entries()
    assert (kept.state, kept.attempts, kept.ticket_number) == (PENDING, 1, None)
    assert "cannot connect" in kept.last_error
    assert await deliver_due(Outbox(path), _client(backend.tickets_url), backend) == 0  # waits for its retry time

    assert await deliver_due(Outbox(path), _client(backend.tickets_url), backend, now=time.time() + LATER) == 1
    [delivered] = Outbox(path).entries()
    tickets = await _tickets_of(backend, "citizen-7")
    assert [t["number"] for t in tickets] == [delivered.ticket_number]
    assert (delivered.state, delivered.notified) == (DELIVERED, True)
    assert fake_rasa.calls == [
        {
            "sender_id": "citizen-7",
            "query": {"output_channel": "latest", "token": "test-rasa-token"},
            "body": {"name": "EXTERNAL_ticket_delivered", "entities": {"ticket_number": delivered.ticket_number}},
        }
    ]

    assert await deliver_due(Outbox(path), _client(backend.tickets_url), backend, now=time.time() + LATER) == 0
    assert len(fake_rasa.calls) == 1 and len(await _tickets_of(backend, "citizen-7")) == 1


async def test_rasa_down_the_citizen_is_told_later(tmp_path, complaint, backend, fake_rasa):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.put(complaint(sender_id="citizen-8"))
    fake_rasa.status = 503
    await deliver_due(outbox, _client(backend.tickets_url), backend)
    [entry] = outbox.entries()
    assert (entry.state, entry.notified, entry.notify_attempts) == (DELIVERED, False, 1)
    assert await deliver_due(outbox, _client(backend.tickets_url), backend) == 0  # not before its retry time

    fake_rasa.status = 200
    await deliver_due(outbox, _client(backend.tickets_url), backend, now=time.time() + LATER)
    [entry] = outbox.entries()
    assert entry.notified and len(await _tickets_of(backend, "citizen-8")) == 1
    assert [call["body"]["entities"]["ticket_number"] for call in fake_rasa.calls] == [entry.ticket_number] * 2


async def test_a_refused_complaint_is_kept_but_not_retried(tmp_path, complaint, backend, fake_rasa):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.put(complaint(phone="12345"))
    await deliver_due(outbox, _client(backend.tickets_url), backend)
    [entry] = outbox.entries()
    assert entry.state == REJECTED and "phone" in entry.last_error
    assert await deliver_due(outbox, _client(backend.tickets_url), backend, now=time.time() + LATER) == 0
    assert fake_rasa.calls == []


async def test_a_wrong_token_is_retried_not_rejected(tmp_path, complaint, backend):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.put(complaint())
    await deliver_due(outbox, TicketClient(backend.tickets_url, "wrong", attempts=1), backend)
    [entry] = outbox.entries()
    assert entry.state == PENDING and "401" in entry.last_error


def test_two_processes_do_not_claim_the_same_complaint(tmp_path, complaint):
    path = tmp_path / "outbox.sqlite3"
    for _ in range(3):
        Outbox(path).put(complaint())
    first, second = Outbox(path).claim_due(), Outbox(path).claim_due()
    assert len(first) == 3 and second == []
    Outbox(path).release(first)
    assert len(Outbox(path).claim_due()) == 3


def test_the_file_is_shared_safely_between_processes(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    Outbox(path)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_retry_delay_grows_and_is_capped():
    assert [retry_delay(n) for n in (1, 2, 3)] == [5, 10, 20]
    assert retry_delay(50) == 300


async def test_the_loop_delivers_in_the_background(tmp_path, complaint, backend, fake_rasa):
    settings = replace(backend, var_dir=tmp_path / "loop")
    Outbox(settings.outbox_path).put(complaint(sender_id="citizen-9"))
    loop = asyncio.ensure_future(run_outbox_loop(settings, interval=0.05))
    try:
        calls = await fake_rasa.wait_for(1)
        # the loop records the notification only once Rasa has answered
        notified = await wait_until(lambda: Outbox(settings.outbox_path).entries()[0].notified)
    finally:
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
    assert [call["sender_id"] for call in calls] == ["citizen-9"]
    assert notified
