"""Attempt limits in Redis, shared by every process: console logins, ticket look-ups.

An attempt is checked and counted in one Lua script *before* the expensive or revealing work (a password
hash, a ticket look-up), so 100 parallel guesses cannot all get through before a limit engages. Two kinds
of limit, freely combined in one attempt:

- a **counter**: at most `limit` attempts per `window` seconds (for example per IP address);
- a **backoff**: `limit` free attempts, then each further attempt must wait 2, 4, 8 ... up to
  `max_wait` seconds after the previous one (for example per account and IP address, so a guesser
  slows down to a crawl while the real user, from another address, logs in at once).

An attempt that is refused counts nothing. `succeeded()` forgets a backoff and gives a counter's
attempt back, so a correct password or a matching look-up costs nothing.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Optional

PREFIX = "bianmin:limits:"
MAX_KEY_PART = 200  # identifiers longer than this are hashed, so a key never grows with its input

_ATTEMPT = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local base = 1 + (i - 1) * 4
  local kind, limit, window = ARGV[base + 1], tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  if kind == 'count' then
    local count = tonumber(redis.call('GET', key) or '0')
    if count >= limit then
      local ttl = redis.call('TTL', key)
      if ttl < 0 then ttl = window end
      wait = math.max(wait, ttl)
    end
  else
    local not_before = tonumber(redis.call('HGET', key, 'not_before') or '0')
    if not_before > now then wait = math.max(wait, not_before - now) end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local base = 1 + (i - 1) * 4
  local kind, limit, window, max_wait = ARGV[base + 1], tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]),
    tonumber(ARGV[base + 4])
  if kind == 'count' then
    local count = redis.call('INCR', key)
    if count == 1 or redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, window) end
  else
    local n = redis.call('HINCRBY', key, 'n', 1)
    if n >= limit then
      local delay = math.min(max_wait, 2 ^ (n - limit + 1))
      redis.call('HSET', key, 'not_before', tostring(now + delay))
    end
    redis.call('EXPIRE', key, math.max(window, max_wait))
  end
end
return '0'
"""

_SUCCEEDED = """
for i, key in ipairs(KEYS) do
  if ARGV[i] == 'count' then
    if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
  else
    redis.call('DEL', key)
  end
end
return 1
"""


def key_part(value: Any) -> str:
    """An identifier as a bounded key part (long or odd ones are hashed)."""
    text = str(value)
    if len(text) <= MAX_KEY_PART and text.isprintable() and ":" not in text:
        return text
    return "h-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Limit:
    """One limit on an attempt: `name` and `subject` make its key (e.g. "login-ip", "203.0.113.9")."""

    name: str
    subject: Any
    limit: int
    window: int  # seconds a count (or a backoff's memory) lasts
    backoff: bool = False
    max_wait: int = 15 * 60

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.name}:{key_part(self.subject)}"

    @property
    def kind(self) -> str:
        return "backoff" if self.backoff else "count"


class Limiter:
    """Checks and counts attempts against limits in one Redis (a `redis.asyncio.Redis`)."""

    def __init__(self, client: Any) -> None:
        self.redis = client
        self._attempt = client.register_script(_ATTEMPT)
        self._succeeded = client.register_script(_SUCCEEDED)

    async def attempt(self, *limits: Limit, now: Optional[float] = None) -> float:
        """0 when the attempt is allowed (it is then counted against every limit), else the seconds to
        wait before the next attempt may be made (nothing is counted)."""
        args: list = [now if now is not None else time.time()]
        for limit in limits:
            args += [limit.kind, limit.limit, limit.window, limit.max_wait]
        wait = await self._attempt(keys=[limit.key for limit in limits], args=args)
        return float(wait.decode() if isinstance(wait, bytes) else wait)

    async def succeeded(self, *limits: Limit) -> None:
        """The attempt went well: backoffs start again from zero, counters get the attempt back."""
        await self._succeeded(keys=[limit.key for limit in limits], args=[limit.kind for limit in limits])


def wait_words(seconds: float) -> str:
    """ "3分钟" / "20秒" for a message to the user."""
    seconds = max(1, int(seconds + 0.999))
    return f"{(seconds + 59) // 60}分钟" if seconds >= 60 else f"{seconds}秒"


# ticket look-ups (actions/ticket_status.py): a wrong phone number for a ticket number is a guess. Per
# ticket number LOOKUP_FREE guesses, then 2, 4, 8 ... up to an hour between them, whoever guesses; per
# citizen conversation at most LOOKUP_PER_SENDER look-ups that did not match an hour. A matching look-up
# costs nothing.
LOOKUP_FREE, LOOKUP_PER_SENDER, LOOKUP_WINDOW = 5, 10, 3600


def lookup_limits(number: Optional[str], sender: Optional[str]) -> tuple:
    """The limits of one ticket look-up."""
    return (
        Limit(
            "lookup-ticket", (number or "").upper(), LOOKUP_FREE, LOOKUP_WINDOW, backoff=True, max_wait=LOOKUP_WINDOW
        ),
        Limit("lookup-sender", sender or "", LOOKUP_PER_SENDER, LOOKUP_WINDOW),
    )


class LookupGuard:
    """Throttles phone guesses on ticket look-ups, in the Redis at `redis_url` (REDIS_URL).

    If Redis cannot be reached the look-up goes ahead (logged): the tracker store lives in the same
    Redis, so the conversation itself would not be running."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url

    async def _run(self, method: str, number: Optional[str], sender: Optional[str]) -> float:
        import logging

        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        client = aioredis.Redis.from_url(
            self.redis_url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5
        )
        try:
            limiter = Limiter(client)
            if method == "attempt":
                return await limiter.attempt(*lookup_limits(number, sender))
            await limiter.succeeded(*lookup_limits(number, sender))
            return 0.0
        except (RedisError, OSError) as error:
            logging.getLogger(__name__).warning("ticket look-up limits unavailable (%s); look-up allowed", error)
            return 0.0
        finally:
            await client.close()
            await client.connection_pool.disconnect()

    async def attempt(self, number: Optional[str], sender: Optional[str]) -> float:
        """0 when the look-up may go ahead (it is counted), else the seconds to wait."""
        return await self._run("attempt", number, sender)

    async def matched(self, number: Optional[str], sender: Optional[str]) -> None:
        """The phone number matched: the look-up is not counted against anyone."""
        await self._run("matched", number, sender)
