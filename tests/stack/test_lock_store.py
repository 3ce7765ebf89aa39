"""The lock store of the Rasa servers (stack/lock_store.py): when a server dies holding a conversation, the
next message of that conversation is handled as soon as the dead server's hold lapses, never stuck behind it."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlparse

from rasa.core.lock_store import LockError
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
