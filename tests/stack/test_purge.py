"""Issue 15: `bianmin purge` deletes what is older than the retention period: conversations in Redis,
closed handoff records (and ends handoffs that waited forever), delivered outbox rows, finished tickets'
personal fields, old console audit rows; recent data stays."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import replace

import pytest
import redis
import sqlalchemy as sa

from actions.outbox import Outbox
from bot.handoff import HandoffStore
from bot.settings import load
from console.accounts import Accounts
from console.audit import AuditLog, audit
from stack import cli
from stack.purge import DAY, WAITING_MAX_AGE, run_purge
from tickets.store import TicketStore, tickets

NOW = time.time()
OLD = NOW - 200 * DAY


@pytest.fixture
def settings(tmp_path, redis_url):
    base = load()
    test_settings = replace(
        base,
        redis_url=redis_url.rsplit("/", 1)[0] + "/11",
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'tickets.sqlite3'}",
        rasa_url="http://127.0.0.1:9",  # nothing answers: ending a handoff falls back to the queue only
        retention_days=90,
    )
    client = redis.Redis.from_url(test_settings.redis_url)
    client.flushdb()
    client.close()
    return test_settings


def _tracker(at: float) -> str:
    return json.dumps({"events": [{"event": "user", "text": "我的电话13812345678", "timestamp": at}]})


def _fill_redis(settings) -> None:
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    client.set("bianmin:tracker:old-citizen", _tracker(OLD))
    client.set("bianmin:tracker:new-citizen", _tracker(NOW - DAY))
    client.close()

    async def handoffs() -> None:
        store = HandoffStore.from_url(settings.redis_url)
        await store.enqueue("forgotten", {"channel": "socketio"})
        await store.redis.zadd("bianmin:handoff:waiting", {"forgotten": NOW - WAITING_MAX_AGE - 60})
        await store.enqueue("just-queued", {"channel": "socketio"})
        await store.redis.hset("bianmin:handoff:conv:long-closed", mapping={"status": "closed", "closed_at": OLD})
        await store.redis.hset("bianmin:handoff:conv:closed-today", mapping={"status": "closed", "closed_at": NOW})
        await store.close()

    asyncio.run(handoffs())


def _fill_outbox(settings) -> None:
    Outbox(settings.outbox_path)
    with sqlite3.connect(settings.outbox_path) as connection:
        for ref, state, notified, delivered in (
            ("old-done", "delivered", 1, OLD),
            ("old-untold", "delivered", 0, OLD),
            ("new-done", "delivered", 1, NOW),
            ("old-pending", "pending", 0, None),
        ):
            connection.execute(
                "INSERT INTO outbox (client_ref, payload, state, notified, delivered_at, next_attempt_at, created_at)"
                " VALUES (?, '{}', ?, ?, ?, 0, ?)",
                (ref, state, notified, delivered, OLD),
            )


def _fill_tickets(settings) -> dict:
    store = TicketStore(settings.database_url)
    numbers = {}
    for label, status in (("old-finished", "已办结"), ("old-open", "办理中"), ("new-finished", "已办结")):
        fields = {
            "description": "油烟扰民，联系13812345678，身份证110105199001011234",
            "phone": "13812345678",
            "category": "环境保护",
            "name": "王先生",
            "address": "幸福路12号3单元501室",
            "sender_id": f"sender-{label}",
            "confidential": False,
        }
        ticket, _ = store.create(fields)
        for step in ("已转办", "办理中", "已办结")[: ("已转办", "办理中", "已办结").index(status) + 1]:
            store.change_status(ticket["number"], step, None)
        numbers[label] = ticket["number"]
    with store.engine.begin() as connection:
        for label in ("old-finished", "old-open"):
            connection.execute(
                tickets.update()
                .where(tickets.c.number == numbers[label])
                .values(updated_at=sa.func.datetime("now", "-200 days"))
            )
    store.dispose()
    return numbers


def test_purge_deletes_what_is_older_than_the_retention_only(settings):
    _fill_redis(settings)
    _fill_outbox(settings)
    numbers = _fill_tickets(settings)
    accounts = Accounts(settings.database_url)
    log = AuditLog(accounts.engine)
    log.record("wang", "127.0.0.1", "read", "/api/conversations/x", 200)
    with accounts.engine.begin() as connection:
        connection.execute(audit.update().values(at=NOW - 400 * DAY))
    log.record("wang", "127.0.0.1", "read", "/api/conversations/y", 200)

    report = run_purge(settings, now=NOW)

    assert report.conversations == 1 and report.handoffs_closed == 1 and report.handoffs_ended == 1
    assert report.outbox_rows == 1 and report.tickets_cleared == 1 and report.audit_rows == 1
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    assert client.get("bianmin:tracker:old-citizen") is None and client.get("bianmin:tracker:new-citizen")
    assert client.zrange("bianmin:handoff:waiting", 0, -1) == ["just-queued"]
    assert client.hget("bianmin:handoff:conv:forgotten", "status") == "closed"
    assert not client.exists("bianmin:handoff:conv:long-closed") and client.exists("bianmin:handoff:conv:closed-today")
    client.close()
    with sqlite3.connect(settings.outbox_path) as connection:
        refs = {row[0] for row in connection.execute("SELECT client_ref FROM outbox")}
    assert refs == {"old-untold", "new-done", "old-pending"}
    store = TicketStore(settings.database_url)
    cleared = store.get(numbers["old-finished"])
    assert cleared["phone"] == "" and cleared["name"] is None and cleared["sender_id"] is None
    assert "13812345678" not in json.dumps(cleared, ensure_ascii=False)
    assert "110105199001011234" not in cleared["description"] and cleared["address"] == "幸福路**号*单元***室"
    assert cleared["status"] == "已办结" and cleared["category"] == "环境保护"
    assert store.get(numbers["old-open"])["phone"] == "13812345678"
    assert store.get(numbers["new-finished"])["phone"] == "13812345678"
    store.dispose()
    assert [row["target"] for row in log.recent()] == ["/api/conversations/y"]
    accounts.dispose()
    again = run_purge(settings, now=NOW)
    assert (again.conversations, again.tickets_cleared, again.outbox_rows) == (0, 0, 0)


def test_bianmin_purge_command(settings, monkeypatch, capsys):
    from bot.settings import to_env

    for key, value in to_env(settings).items():
        monkeypatch.setenv(key, value)
    assert cli.main(["purge", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "retention: 30 days" in out and "conversations deleted: 0" in out
