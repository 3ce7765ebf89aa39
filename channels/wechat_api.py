"""The one client of WeChat's HTTP API (Official Account and mini-program): access_token and
customer-service messages, over aiohttp.

The access_token is cached in Redis so every process shares it. Only the process holding a short Redis
lock refreshes it (through /cgi-bin/stable_token, which never invalidates a token another process still
uses); the others wait for the new value.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import aiohttp
from redis import asyncio as aioredis

from channels.keyed_locks import KeyedLocks
from channels.splitting import split_text, utf8_len

logger = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}  # invalid, malformed, expired access_token
CS_MESSAGE_LIMIT = 1800  # bytes per customer-service text (WeChat documents 2048)


class WeChatApiError(RuntimeError):
    """WeChat answered with a non-zero errcode, or could not be reached."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode


@dataclass(frozen=True)
class WeChatAccount:
    """Credentials of one WeChat app (an Official Account or a mini-program)."""

    token: str
    appid: str
    secret: str
    aes_key: str = ""
    api_url: str = "https://api.weixin.qq.com"
    accept_plaintext: bool = False  # safe mode only: also take plaintext pushes (while migrating to it)

    @classmethod
    def from_settings(cls, settings: Any, prefix: str) -> "WeChatAccount":
        """The account whose settings are `<prefix>_token`, `<prefix>_appid`, ... (prefix: wechat|miniprogram)."""
        values = {name: getattr(settings, f"{prefix}_{name}") for name in cls.__dataclass_fields__}
        values["accept_plaintext"] = str(values["accept_plaintext"]).strip().lower() in {"1", "true", "yes", "on"}
        return cls(**values)


class WeChatApi:
    """access_token management and customer-service messages for one app."""

    def __init__(self, account: WeChatAccount, redis: aioredis.Redis, timeout: float = 10.0) -> None:
        self.account = account
        self.redis = redis
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None
        self._recipients = KeyedLocks()

    @property
    def token_key(self) -> str:
        return f"wechat:token:{self.account.appid}"

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def access_token(self) -> str:
        """The current access_token, from the shared cache or freshly fetched."""
        cached = await self.redis.get(self.token_key)
        return cached.decode() if cached else await self._refresh(stale=None)

    async def send_text(self, openid: str, text: str) -> None:
        """Sends `text` to `openid` as customer-service messages, split under WeChat's size limit."""
        await self.send_texts(openid, [text])

    async def send_texts(self, openid: str, texts: List[str]) -> None:
        """Sends `texts` to `openid` in order, each piece after WeChat acknowledged the previous one; what
        else this process sends to `openid` waits until they are all through."""
        async with self._recipients.hold(openid):
            for text in texts:
                for piece in split_text(text, CS_MESSAGE_LIMIT, utf8_len):
                    await self.call(
                        "/cgi-bin/message/custom/send",
                        {"touser": openid, "msgtype": "text", "text": {"content": piece}},
                    )

    async def call(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """POSTs `body` to an access_token API; refreshes the token once if WeChat says it is invalid."""
        token = await self.access_token()
        try:
            return await self._post(path, body, token)
        except WeChatApiError as error:
            if error.errcode not in TOKEN_ERRORS:
                raise
            logger.info("WeChat rejected the access_token (%s); refreshing once", error.errcode)
            return await self._post(path, body, await self._refresh(stale=token))

    async def _post(self, path: str, body: Dict[str, Any], token: Optional[str] = None) -> Dict[str, Any]:
        params = {"access_token": token} if token else None
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.post(self.account.api_url + path, json=body, params=params) as response:
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise WeChatApiError(-2, f"{path} unreachable: {error!r}") from error
        if not isinstance(data, dict):
            raise WeChatApiError(-2, f"{path} answered {data!r}")
        if data.get("errcode"):
            raise WeChatApiError(int(data["errcode"]), str(data.get("errmsg", "")))
        return data

    async def _refresh(self, stale: Optional[str], wait: float = 10.0) -> str:
        """Fetches a token unless another process does; `stale` is the token WeChat just rejected."""
        lock_key, owner = f"{self.token_key}:lock", uuid.uuid4().hex
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            cached = await self.redis.get(self.token_key)
            if cached and cached.decode() != stale:
                return cached.decode()
            if await self.redis.set(lock_key, owner, nx=True, ex=15):
                try:
                    return await self._fetch_stable_token()
                finally:
                    await self._release(lock_key, owner)
            if asyncio.get_running_loop().time() > deadline:
                raise WeChatApiError(-1, "timed out waiting for another process to refresh the access_token")
            await asyncio.sleep(0.05)

    async def _fetch_stable_token(self) -> str:
        data = await self._post(
            "/cgi-bin/stable_token",
            {"grant_type": "client_credential", "appid": self.account.appid, "secret": self.account.secret},
        )
        token, expires_in = str(data["access_token"]), int(data.get("expires_in", 7200))
        await self.redis.set(self.token_key, token, ex=max(60, expires_in - 300))
        return token

    async def _release(self, lock_key: str, owner: str) -> None:
        # compare-and-delete: never release a lock that expired and was taken by another process
        await self.redis.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
            1,
            lock_key,
            owner,
        )
