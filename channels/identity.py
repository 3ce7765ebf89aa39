"""Who a conversation belongs to: conversation ids are issued or derived by the server, never chosen by the
client, and namespaced by channel, so one channel's users can never reach another's conversations.

| channel | conversation id |
| --- | --- |
| WeChat Official Account | `wechat:<openid>` (the openid of a signed push) |
| mini-program | `mp:<openid>` |
| Telegram | `tg:<chat id>`, in groups `tg:<chat id>:<user id>` (from a secret-checked update) |
| web chat / widget | `web:<random>`, whose signed token `<random>.<signature>` only the server issues |
| REST (token-protected integrations) | `rest:<sender>` |
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Optional

from redis import asyncio as aioredis

WECHAT, MINIPROGRAM, TELEGRAM, WEB, REST = "wechat", "mp", "tg", "web", "rest"
KEY_NAME = "channels:webchat:signing-key"  # shared by every Rasa server through Redis
RANDOM_BYTES = 16
SIGNATURE_CHARS = 22


def conversation_of(namespace: str, native: object) -> str:
    """The conversation id of a channel's own user id: `wechat:oUser...`, `tg:42`, ..."""
    return f"{namespace}:{native}"


def native_of(conversation: str, namespace: str) -> str:
    """The channel's own id inside a conversation id (an id from before namespacing is returned as is)."""
    prefix = f"{namespace}:"
    return conversation[len(prefix) :] if conversation.startswith(prefix) else conversation


class WebSessions:
    """Signed web-chat session tokens: `<random>.<HMAC>`; the conversation is `web:<random>`.

    The signing key is a random secret kept in Redis (created once, shared by every Rasa server), so a
    client can keep its session across reconnects and servers but can never make up someone else's."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._key: Optional[bytes] = None

    async def _signing_key(self) -> bytes:
        if self._key is None:
            await self.redis.set(KEY_NAME, secrets.token_hex(32), nx=True)
            stored = await self.redis.get(KEY_NAME)
            self._key = stored if isinstance(stored, bytes) else str(stored).encode()
        return self._key

    def _sign(self, key: bytes, random_part: str) -> str:
        digest = hmac.new(key, random_part.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:SIGNATURE_CHARS]

    async def issue(self) -> str:
        """A new session token."""
        random_part = secrets.token_urlsafe(RANDOM_BYTES)
        return f"{random_part}.{self._sign(await self._signing_key(), random_part)}"

    async def conversation(self, token: object) -> Optional[str]:
        """`web:<random>` when `token` was issued by this hotline, else None."""
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 100:
            return None
        random_part, signature = token.split(".")
        if not random_part:
            return None
        for _ in range(2):  # a second time with the key read again (another server may have made it)
            if hmac.compare_digest(signature, self._sign(await self._signing_key(), random_part)):
                return conversation_of(WEB, random_part)
            self._key = None
        return None
