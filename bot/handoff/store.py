"""Handoff state shared by every action server and console process through one Redis.

Keys (prefix ``bianmin:handoff:``):

- ``waiting``      sorted set: conversation id -> time it was queued (oldest first)
- ``active``       sorted set: conversation id -> time an agent took it over
- ``conv:<id>``    hash: status (waiting|active|closed), agent, summary (JSON), queued_at, taken_at, ...
- ``ratings``      hash: "<agent>|<rating>" -> count of the citizens' service ratings
- ``events``       pub/sub channel: JSON {"type": queued|taken|reassigned|closed, "id": ..., "agent": ...}

Every state change is one Lua script, so two consoles (or two Rasa servers) can never both take a
conversation, and a conversation is never both waiting and active.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, List, Optional

import redis.asyncio as aioredis

from bot.redis_client import async_redis

PREFIX = "bianmin:handoff:"
WAITING, ACTIVE, RATINGS, EVENTS = (PREFIX + name for name in ("waiting", "active", "ratings", "events"))
CLOSED_TTL = 7 * 24 * 3600  # a closed conversation's record is kept a week (for ratings and history)

_ENQUEUE = """
local status = redis.call('HGET', KEYS[2], 'status')
if status == 'active' then return -1 end
if status ~= 'waiting' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'status', 'waiting', 'queued_at', ARGV[2], 'summary', ARGV[3])
else
  redis.call('HSET', KEYS[2], 'summary', ARGV[3])
end
redis.call('PERSIST', KEYS[2])
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
return redis.call('ZRANK', KEYS[1], ARGV[1])
"""

_TAKE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], 'status', 'active', 'agent', ARGV[2], 'taken_at', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

_PICK_UP = """
local status = redis.call('HGET', KEYS[2], 'status')
if status == 'active' or status == 'waiting' then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'status', 'active', 'agent', ARGV[2], 'queued_at', ARGV[3], 'taken_at', ARGV[3],
  'summary', ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

_CLOSE = """
local status = redis.call('HGET', KEYS[3], 'status')
if status == 'active' then
  if ARGV[2] ~= '' and redis.call('HGET', KEYS[3], 'agent') ~= ARGV[2] then return 0 end
elseif status ~= 'waiting' or ARGV[2] ~= '' then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'status', 'closed', 'closed_at', ARGV[3], 'outcome', ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[5])
return 1
"""

_REASSIGN = """
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return 0 end
redis.call('HSET', KEYS[1], 'agent', ARGV[1])
return 1
"""

_RATE = """
local agent = redis.call('HGET', KEYS[1], 'agent')
if not agent or redis.call('HGET', KEYS[1], 'status') ~= 'closed' or redis.call('HEXISTS', KEYS[1], 'rating') == 1 then
  return false
end
redis.call('HSET', KEYS[1], 'rating', ARGV[1])
redis.call('HINCRBY', KEYS[2], agent .. '|' .. ARGV[1], 1)
return agent
"""


def conversation_key(conversation_id: str) -> str:
    """Redis key of one conversation's handoff record."""
    return f"{PREFIX}conv:{conversation_id}"


@dataclass
class Handoff:
    """One conversation handed to humans, as stored."""

    id: str
    status: str
    summary: Dict[str, Any] = field(default_factory=dict)
    agent: Optional[str] = None
    queued_at: Optional[float] = None
    taken_at: Optional[float] = None
    closed_at: Optional[float] = None
    outcome: Optional[str] = None
    rating: Optional[str] = None

    @classmethod
    def from_hash(cls, conversation_id: str, raw: Dict[str, str]) -> "Handoff":
        """Builds a Handoff from the HGETALL of its key."""

        def number(name: str) -> Optional[float]:
            return float(raw[name]) if raw.get(name) else None

        try:
            summary = json.loads(raw.get("summary") or "{}")
        except ValueError:
            summary = {}
        return cls(
            id=conversation_id,
            status=raw.get("status", "closed"),
            summary=summary,
            agent=raw.get("agent") or None,
            queued_at=number("queued_at"),
            taken_at=number("taken_at"),
            closed_at=number("closed_at"),
            outcome=raw.get("outcome") or None,
            rating=raw.get("rating") or None,
        )

    def waited(self, now: Optional[float] = None) -> float:
        """Seconds between queueing and being taken over (or now, while waiting)."""
        end = self.taken_at or now or time.time()
        return max(0.0, end - (self.queued_at or end))


class HandoffStore:
    """Async access to the handoff state; one per process (it holds a connection pool)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._enqueue = client.register_script(_ENQUEUE)
        self._take = client.register_script(_TAKE)
        self._pick_up = client.register_script(_PICK_UP)
        self._close = client.register_script(_CLOSE)
        self._reassign = client.register_script(_REASSIGN)
        self._rate = client.register_script(_RATE)

    @classmethod
    def from_url(cls, url: str) -> "HandoffStore":
        """A store on the Redis at `url` (REDIS_URL)."""
        return cls(async_redis(url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5))

    async def close(self) -> None:
        """Closes the connection pool."""
        await self.redis.close()
        await self.redis.connection_pool.disconnect()

    async def publish(self, kind: str, conversation_id: str, **extra: Any) -> None:
        """Tells every console process about a change."""
        await self.redis.publish(EVENTS, json.dumps({"type": kind, "id": conversation_id, **extra}, ensure_ascii=False))

    async def enqueue(self, conversation_id: str, summary: Dict[str, Any]) -> int:
        """Queues the conversation (keeping its place if already waiting); returns how many wait before it,
        or -1 when an agent already holds it."""
        payload = json.dumps(summary, ensure_ascii=False)
        ahead = await self._enqueue(
            keys=[WAITING, conversation_key(conversation_id)], args=[conversation_id, time.time(), payload]
        )
        if int(ahead) >= 0:
            await self.publish("queued", conversation_id)
        return int(ahead)

    async def take(self, conversation_id: str, agent: str) -> bool:
        """Atomically gives a waiting conversation to `agent`; False if it is not waiting (any more)."""
        won = await self._take(
            keys=[WAITING, ACTIVE, conversation_key(conversation_id)], args=[conversation_id, agent, time.time()]
        )
        if won:
            await self.publish("taken", conversation_id, agent=agent)
        return bool(won)

    async def pick_up(self, conversation_id: str, agent: str, summary: Dict[str, Any]) -> bool:
        """An agent starts helping a conversation that did not ask for one; False if it is already
        waiting or held."""
        won = await self._pick_up(
            keys=[ACTIVE, conversation_key(conversation_id)],
            args=[conversation_id, agent, time.time(), json.dumps(summary, ensure_ascii=False)],
        )
        if won:
            await self.publish("taken", conversation_id, agent=agent)
        return bool(won)

    async def finish(self, conversation_id: str, agent: Optional[str], outcome: str) -> bool:
        """Ends the human part: held by `agent` (any holder and waiting ones too when agent is None, for
        supervisors). False when the conversation is not in that state."""
        done = await self._close(
            keys=[WAITING, ACTIVE, conversation_key(conversation_id)],
            args=[conversation_id, agent or "", time.time(), outcome, CLOSED_TTL],
        )
        if done:
            await self.publish("closed", conversation_id, agent=agent, outcome=outcome)
        return bool(done)

    async def reassign(self, conversation_id: str, agent: str) -> bool:
        """Gives a held conversation to another agent (supervisors)."""
        done = await self._reassign(keys=[conversation_key(conversation_id)], args=[agent])
        if done:
            await self.publish("reassigned", conversation_id, agent=agent)
        return bool(done)

    async def record_rating(self, conversation_id: str, rating: str) -> Optional[str]:
        """Stores the citizen's rating of the last human service (once); returns the rated agent."""
        return await self._rate(keys=[conversation_key(conversation_id), RATINGS], args=[rating])

    async def get(self, conversation_id: str) -> Optional[Handoff]:
        """The conversation's handoff record, or None."""
        raw = await self.redis.hgetall(conversation_key(conversation_id))
        return Handoff.from_hash(conversation_id, raw) if raw else None

    async def holder(self, conversation_id: str) -> Optional[str]:
        """The agent holding the conversation, or None."""
        status, agent = await self.redis.hmget(conversation_key(conversation_id), "status", "agent")
        return agent if status == "active" else None

    async def _records(self, key: str) -> List[Handoff]:
        ids = await self.redis.zrange(key, 0, -1)
        records = [await self.get(conversation_id) for conversation_id in ids]
        return [record for record in records if record is not None]

    async def waiting(self) -> List[Handoff]:
        """Waiting conversations, longest-waiting first."""
        return await self._records(WAITING)

    async def active(self) -> List[Handoff]:
        """Conversations held by agents, oldest first."""
        return await self._records(ACTIVE)

    async def stale_waiting(self, max_age: float, now: Optional[float] = None) -> List[str]:
        """Conversations waiting for an agent longer than `max_age` seconds (`bianmin purge` ends them)."""
        return list(await self.redis.zrangebyscore(WAITING, "-inf", (now or time.time()) - max_age))

    async def forget_closed(self, before: float) -> int:
        """Deletes the records of conversations closed before `before` (retention; they expire anyway
        CLOSED_TTL after closing). Returns how many."""
        gone = 0
        async for key in self.redis.scan_iter(match=PREFIX + "conv:*", count=500):
            status, closed_at = await self.redis.hmget(key, "status", "closed_at")
            if status == "closed" and closed_at and float(closed_at) < before:
                gone += await self.redis.delete(key)
        return gone

    async def ratings(self) -> Dict[str, Dict[str, int]]:
        """{agent: {rating: count}} of the citizens' service ratings."""
        table: Dict[str, Dict[str, int]] = {}
        for key, count in (await self.redis.hgetall(RATINGS)).items():
            agent, _, rating = key.rpartition("|")
            table.setdefault(agent, {})[rating] = int(count)
        return table

    async def events(self, idle: float = 15.0) -> AsyncIterator[Dict[str, Any]]:
        """Every change published from now on, and {"type": "ping"} after `idle` quiet seconds (an async
        generator; closing it unsubscribes)."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(EVENTS)
        try:
            while True:
                message = await pubsub.get_message(timeout=idle)
                if message is None:
                    yield {"type": "ping"}
                    continue
                try:
                    yield json.loads(message["data"])
                except (TypeError, ValueError):
                    continue
        finally:
            await pubsub.unsubscribe(EVENTS)
            await pubsub.close()
