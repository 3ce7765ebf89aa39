"""The asyncio Redis client of every long-running process: it survives a Redis restart.

redis-py 4.6's asyncio pool hands out a connection the server closed meanwhile as if it were healthy (it
reads EOF as "nothing to read"), so the first command after a restart fails, and a pipeline is not
retried at all. With these options a connection idle for a second is checked with a PING and reopened
when the server closed it, and a command that fails on a dead connection is sent once more.
"""

from __future__ import annotations

from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

HEALTH_CHECK_SECONDS = 1


def async_redis(url: str, **options: Any) -> aioredis.Redis:
    """An asyncio client of the Redis at `url` (options as for `redis.asyncio.Redis.from_url`)."""
    return aioredis.Redis.from_url(
        url, retry_on_error=[RedisConnectionError], health_check_interval=HEALTH_CHECK_SECONDS, **options
    )
