"""Rasa's Redis lock store (endpoints.yml `lock_store`), with one fix: a message waiting for its conversation
keeps its place while it waits.

Rasa counts a ticket's lifetime (TICKET_LOCK_LIFETIME, from settings.lock_lifetime) from when it is issued,
also while it waits. When a Rasa server is killed mid-turn, its ticket stays in Redis until it lapses; the
next message's ticket, issued a moment later, lapses a moment after it, and a waiter whose once-a-second
check misses that moment waits forever (Rasa leaves the loop only when the lock is deleted, and nobody
deletes it; seen in tests/cluster). Here a waiting ticket is renewed at each check, so it lapses only when
its waiter is gone, and the conversation is answered once the dead server's ticket has lapsed. A waiter
whose ticket lapsed anyway (its server stalled longer than the lifetime) gets a LockError, which the
channels answer with "please send it again" (channels/guard.py), instead of waiting forever.
"""

from __future__ import annotations

import asyncio
import time

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class WaitingRedisLockStore(RedisLockStore):
    """RedisLockStore whose waiting tickets are renewed while their waiter is alive."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None or not any(waiting.number == ticket for waiting in lock.tickets):
                break
            if not lock.is_locked(ticket):
                return lock
            self.renew(lock, ticket)
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    def renew(self, lock: TicketLock, ticket: int) -> None:
        """The waiting `ticket` lapses LOCK_LIFETIME seconds from now, not from when it was issued."""
        for waiting in lock.tickets:
            if waiting.number == ticket:
                waiting.expires = max(waiting.expires, time.time() + LOCK_LIFETIME)
        self.save_lock(lock)
