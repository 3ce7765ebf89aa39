"""WeChat's retries: a push not answered within 5 s is sent again (three tries in all). The first delivery
claims the push in Redis; a retry is never processed again and gets the first delivery's answer."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

from redis import asyncio as aioredis

DEDUP_SECONDS = 60
RETRY_WAIT = 3.5  # seconds a retry waits for the first delivery's answer (within WeChat's 5 s)


def dedup_key(fields: Mapping[str, Any]) -> str:
    """MsgId for messages; FromUserName + CreateTime for events (which have no MsgId)."""
    msg_id = fields.get("MsgId")
    if msg_id and str(msg_id) != "0":
        return str(msg_id)
    return f"{fields.get('FromUserName', '')}:{fields.get('CreateTime', '')}"


class RetryLedger:
    """Claimed pushes and their answers, per connector (`prefix`)."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def claim(self, key: str) -> bool:
        """True for the first delivery of a push, False for WeChat's retries of it."""
        return bool(await self.redis.set(f"{self.prefix}:msg:{key}", 1, nx=True, ex=DEDUP_SECONDS))

    async def record_reply(self, key: str, reply: str) -> None:
        """Remembers what the first delivery was answered, for its retries."""
        await self.redis.set(f"{self.prefix}:reply:{key}", reply, ex=DEDUP_SECONDS)

    async def reply_for_retry(self, key: str, wait: float = RETRY_WAIT) -> str:
        """The first delivery's answer (waiting for it up to `wait` s), else "success"."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            reply = await self.redis.get(f"{self.prefix}:reply:{key}")
            if reply is not None:
                return reply.decode("utf-8")
            if asyncio.get_running_loop().time() > deadline:
                return "success"
            await asyncio.sleep(0.1)
