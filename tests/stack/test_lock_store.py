"""The lock store of the Rasa servers (stack/lock_store.py): when a server dies holding a conversation, the
next message of that conversation is handled as soon as the dead server's hold lapses, never stuck behind it."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlparse

from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from stack.lock_store import WaitingRedisLockStore


def store(redis_url: str) -> WaitingRedisLockStore:
    url = urlparse(redis_url)
    db = (url.path or "/0").lstrip("/") or "0"
    return WaitingRedisLockStore(EndpointConfig(url.hostname, port=url.port or 6379, db=db, key_prefix="locktest"))


async def test_a_message_behind_a_dead_servers_turn_is_handled_once_that_turn_lapses(redis_url):
    locks, conversation = store(redis_url), f"rest:{uuid.uuid4().hex[:8]}"
    locks.issue_ticket(conversation, lock_lifetime=2)  # a server took the conversation, then was killed
    started = time.monotonic()
    # Rasa's own store lets the waiting ticket lapse together with the dead one and then waits forever
    async with locks.lock(conversation, lock_lifetime=2, wait_time_in_seconds=0.5):
        waited = time.monotonic() - started
    assert 1.5 < waited < 6, waited
    assert locks.get_lock(conversation) is None  # released and cleaned up


async def test_a_waiter_whose_place_is_gone_is_told_instead_of_waiting_forever(redis_url):
    locks, conversation = store(redis_url), f"rest:{uuid.uuid4().hex[:8]}"
    locks.issue_ticket(conversation, lock_lifetime=30)
    mine = locks.issue_ticket(conversation, lock_lifetime=30)
    lock = locks.get_lock(conversation)
    assert lock is not None
    lock.remove_ticket_for(mine)  # as if it had lapsed while this server stalled
    locks.save_lock(lock)
    try:
        await asyncio.wait_for(locks._acquire_lock(conversation, mine, 0.2), timeout=5)
        raise AssertionError("acquired a place that was gone")
    except LockError:
        pass
    finally:
        locks.delete_lock(conversation)


def rasa_store(redis_url: str) -> RedisLockStore:
    url = urlparse(redis_url)
    db = (url.path or "/0").lstrip("/") or "0"
    return RedisLockStore(url.hostname or "127.0.0.1", port=url.port or 6379, db=int(db), key_prefix="locktest")


class Commands:
    """Counts the Redis commands a store sends."""

    def __init__(self, locks: WaitingRedisLockStore, monkeypatch) -> None:
        self.sent: list = []
        original = locks.red.execute_command

        def counted(*args, **kwargs):
            self.sent.append(args[0])
            return original(*args, **kwargs)

        monkeypatch.setattr(locks.red, "execute_command", counted)


async def test_a_turn_nobody_waits_for_takes_two_redis_commands_and_leaves_no_lock(redis_url, monkeypatch):
    locks, conversation = store(redis_url), f"rest:{uuid.uuid4().hex[:8]}"
    locks.issue_ticket(conversation)  # the scripts are loaded into Redis (once per Redis)
    locks.cleanup(conversation, 0)
    commands = Commands(locks, monkeypatch)
    async with locks.lock(conversation) as lock:
        assert [ticket.number for ticket in lock.tickets] == [0] and not lock.is_locked(0)
    assert commands.sent == ["EVALSHA", "EVALSHA"]  # Rasa's store: GET SET GET GET SET GET DEL
    assert locks.get_lock(conversation) is None


async def test_turns_of_one_conversation_are_served_one_at_a_time_in_order(redis_url):
    locks, conversation = store(redis_url), f"rest:{uuid.uuid4().hex[:8]}"
    order: list = []

    async def turn(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with locks.lock(conversation, wait_time_in_seconds=0.05):
            order.append(f"{name} in")
            await asyncio.sleep(0.2)
            order.append(f"{name} out")

    await asyncio.gather(turn("a", 0), turn("b", 0.02), turn("c", 0.04))
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    assert locks.get_lock(conversation) is None


def test_the_stored_lock_is_rasas_own(redis_url):
    """Rasa's store and this one read each other's locks and number tickets alike (lapsed ones dropped)."""
    ours, rasas, conversation = store(redis_url), rasa_store(redis_url), f"rest:{uuid.uuid4().hex[:8]}"
    try:
        assert rasas.issue_ticket(conversation, lock_lifetime=0.01) == 0
        time.sleep(0.05)  # ticket 0 lapses: numbering starts again, as in Rasa
        assert ours.issue_ticket(conversation, lock_lifetime=30) == 0
        assert rasas.issue_ticket(conversation, lock_lifetime=30) == 1
        assert ours.issue_ticket(conversation, lock_lifetime=30) == 2
        lock = rasas.get_lock(conversation)
        assert lock is not None and lock.conversation_id == conversation
        assert [ticket.number for ticket in lock.tickets] == [0, 1, 2]
        assert all(time.time() + 29 < ticket.expires <= time.time() + 30 for ticket in lock.tickets)
        ours.cleanup(conversation, 1)
        lock = rasas.get_lock(conversation)
        assert lock is not None and [ticket.number for ticket in lock.tickets] == [0, 2]
        ours.cleanup(conversation, 0)
        ours.cleanup(conversation, 2)
        assert rasas.get_lock(conversation) is None
    finally:
        ours.delete_lock(conversation)


async def test_a_waiting_ticket_is_renewed_and_the_lock_tells_who_is_served(redis_url):
    locks, conversation = store(redis_url), f"rest:{uuid.uuid4().hex[:8]}"
    first = locks.issue_ticket(conversation, lock_lifetime=30)
    waiting = asyncio.ensure_future(locks._acquire_lock(conversation, locks.issue_ticket(conversation, 1), 0.05))
    try:
        await asyncio.sleep(1.5)  # longer than the waiting ticket's own lifetime
        assert not waiting.done()
        locks.cleanup(conversation, first)
        lock = await asyncio.wait_for(waiting, timeout=5)
        assert [ticket.number for ticket in lock.tickets] == [1] and not lock.is_locked(1)
    finally:
        waiting.cancel()
        locks.delete_lock(conversation)
