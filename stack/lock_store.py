"""Rasa's Redis lock store (endpoints.yml `lock_store`), with two changes: a message waiting for its
conversation keeps its place while it waits, and each step is one atomic Redis script.

Rasa counts a ticket's lifetime (TICKET_LOCK_LIFETIME, from settings.lock_lifetime) from when it is issued,
also while it waits. When a Rasa server is killed mid-turn, its ticket stays in Redis until it lapses; the
next message's ticket, issued a moment later, lapses a moment after it, and a waiter whose once-a-second
check misses that moment waits forever (Rasa leaves the loop only when the lock is deleted, and nobody
deletes it; seen in tests/cluster). Here a waiting ticket is renewed at each check, so it lapses only when
its waiter is gone, and the conversation is answered once the dead server's ticket has lapsed. A waiter
whose ticket lapsed anyway (its server stalled longer than the lifetime) gets a LockError, which the
channels answer with "please send it again" (channels/guard.py), instead of waiting forever.

Rasa's store reads the lock, changes it and writes it back in separate commands: about seven synchronous
round trips a turn (issue: read, write; acquire: read; clean up: read, write, read, delete), each one
blocking the Rasa server's event loop while Redis answers, and two servers issuing tickets for the same
conversation at once could both read the same lock and issue the same number. Here each step is a Lua
script that Redis runs atomically on the same stored lock (the same JSON as Rasa's, so `get_lock` and
Rasa's own code read it): issuing a ticket also tells whether it is served at once, so a turn nobody
waits for takes two round trips (issue, clean up); each check of a waiting ticket takes one. Expiry is
judged by the Rasa server's clock, as in Rasa.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, List, Text, Tuple

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# Shared by the scripts: the lock stored at KEYS[1] with its tickets that have not lapsed at ARGV[1] (Rasa:
# a ticket has lapsed when now > expires), and how to store it again (each ticket a JSON string, as in
# TicketLock.dumps).
_LOAD = """
local now = tonumber(ARGV[1])
local stored = redis.call('GET', KEYS[1])
local conversation_id = ARGV[2]
local tickets = {}
if stored then
  local lock = cjson.decode(stored)
  if type(lock.conversation_id) == 'string' then conversation_id = lock.conversation_id end
  for _, text in ipairs(lock.tickets or {}) do
    local ticket = cjson.decode(text)
    if now <= ticket.expires then table.insert(tickets, ticket) end
  end
end
local function save()
  local texts = {}
  for i, ticket in ipairs(tickets) do
    texts[i] = cjson.encode(cjson.encode({number = ticket.number, expires = ticket.expires}))
  end
  -- written out so that an empty list is `[]` (cjson would write `{}`)
  local text = '{"conversation_id": ' .. cjson.encode(conversation_id) .. ', "tickets": [' .. table.concat(texts, ', ') .. ']}'
  redis.call('SET', KEYS[1], text)
  return text
end
"""
# ARGV[3]: lifetime. Issues the next ticket; returns {number, 1 if it is served now, the stored lock}.
ISSUE = (
    _LOAD
    + """
local number = 0
if #tickets > 0 then number = tickets[#tickets].number + 1 end
table.insert(tickets, {number = number, expires = now + tonumber(ARGV[3])})
local text = save()
if tickets[1].number == number then return {number, 1, text} end
return {number, 0, text}
"""
)
# ARGV[3]: the waiting ticket, ARGV[4]: lifetime. Returns {0} if the ticket is gone, {1, lock} if it is
# served now, {2} if it still waits (then it lapses ARGV[4] seconds from now at the earliest).
CHECK = (
    _LOAD
    + """
local mine = tonumber(ARGV[3])
local position = nil
for i, ticket in ipairs(tickets) do
  if ticket.number == mine then position = i end
end
if position == nil then
  if stored then save() end
  return {0}
end
if position == 1 then return {1, save()} end
tickets[position].expires = math.max(tickets[position].expires, now + tonumber(ARGV[4]))
save()
return {2}
"""
)
# ARGV[3]: the ticket served. Removes it (and lapsed ones); deletes the lock when no ticket is left.
CLEANUP = (
    _LOAD
    + """
local mine = tonumber(ARGV[3])
for i = #tickets, 1, -1 do
  if tickets[i].number == mine then table.remove(tickets, i) end
end
if #tickets == 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
save()
return #tickets
"""
)
GONE, SERVED, WAITING = 0, 1, 2


class WaitingRedisLockStore(RedisLockStore):
    """RedisLockStore whose waiting tickets are renewed while their waiter is alive, one script a step."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        self._issue = self.red.register_script(ISSUE)
        self._check = self.red.register_script(CHECK)
        self._cleanup = self.red.register_script(CLEANUP)

    def _run(self, script: Any, conversation_id: Text, *args: Any) -> Any:
        return script(keys=[self.key_prefix + conversation_id], args=[repr(time.time()), conversation_id, *args])

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's `lock`: a ticket, then the conversation once that ticket is served; without waiting (nor
        reading the lock again) when it is served at once."""
        ticket, served, lock = self._issue_ticket(conversation_id, lock_lifetime)
        try:
            yield lock if served else await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            self.cleanup(conversation_id, ticket)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issues the conversation's next ticket (Rasa's numbers: 0 when no ticket is left)."""
        return self._issue_ticket(conversation_id, lock_lifetime)[0]

    def _issue_ticket(self, conversation_id: Text, lock_lifetime: float) -> Tuple[int, bool, TicketLock]:
        try:
            number, served, text = self._run(self._issue, conversation_id, repr(float(lock_lifetime)))
        except Exception as e:
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e
        return int(number), bool(served), _lock_from(text)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        while True:
            answer: List[Any] = self._run(self._check, conversation_id, str(ticket), repr(float(LOCK_LIFETIME)))
            if answer[0] == GONE:
                break
            if answer[0] == SERVED:
                return _lock_from(answer[1])
            await asyncio.sleep(wait_time_in_seconds)  # WAITING: the ticket was renewed
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Rasa's `cleanup` (the ticket removed, the lock deleted when nobody waits), in one step."""
        self._run(self._cleanup, conversation_id, str(ticket_number))


def _lock_from(text: Any) -> TicketLock:
    data = json.loads(text)
    tickets = [Ticket.from_dict(json.loads(ticket)) for ticket in data.get("tickets") or []]
    return TicketLock(data.get("conversation_id"), deque(tickets))
