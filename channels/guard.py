"""What every connector checks before a citizen's message reaches Rasa, and what it answers when it refuses.

- **Rates**: per conversation and per client IP (web chat), in fixed one-minute windows in Redis (shared by
  every Rasa server).
- **Sizes**: a message longer than `max_chars` is refused; metadata is cut to `bot.input_limits`'s bound
  (it is stored with every event of the conversation), keeping the message. A message longer than `model_chars` reaches the conversation whole (the complaint form's description, the
  ticket), but the model reads only its first `model_chars` characters: a long text would otherwise keep the
  event loop, and so every other citizen, waiting for seconds (issue 15).
- **System intents**: text starting with "/" is a Rasa payload (`/intent{"entity": ...}`). A citizen may
  send one only when it is a button the bot offered in this conversation (recorded by the output channels
  in :class:`OfferedPayloads`); `/EXTERNAL_*` intents are never taken from a channel (they come from the
  ticket backend and the console through the token-protected Rasa API).
- **Nothing lost**: one turn per conversation at a time in this process, in arrival order; a message that
  cannot get its turn within `queue_wait` seconds (or finds `queue_depth` others waiting), or that fails
  (Rasa's LockError when another server holds the conversation too long), gets an explicit answer asking
  to send it again. It is never acknowledged and dropped.
Every refusal is answered through the message's own output channel, in Chinese.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional

from rasa.core.channels.channel import UserMessage
from redis import asyncio as aioredis
from sanic import Blueprint

from bot.input_limits import bounded_metadata

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
Parser = Callable[[str], Awaitable[Optional[Dict[str, Any]]]]

TOO_LONG = "您的消息有{length}字，超过了{limit}字的上限，我没能收下。请精简一下，或者分成几条发给我。"
TOO_FAST = "您发送得太快了，刚才这条我没能处理。请稍等一分钟再发。"
NOT_A_BUTTON = "抱歉，这条指令我无法识别。请直接用文字告诉我您的问题，或点选我给出的按钮。"
BUSY = "我还在处理您前面的消息，刚才这条没能处理。请等我回复后再发一次。"
FAILED = "抱歉，系统刚才没能处理您的这条消息，请重新发送一次。"

SYSTEM_INTENT = re.compile(r"^external_", re.IGNORECASE)
PAYLOAD_NAME = re.compile(r"^/\s*([^{@\s]*)")
LOOKS_LIKE_PAYLOAD = re.compile(r"^/\s*[A-Za-z_][\w-]*(@[\d.]*)?(\{.*\})?\s*$", re.DOTALL)
OFFERED_SECONDS = 24 * 3600
OFFERED_MAX = 200  # distinct payloads kept per conversation (the domain has a few dozen)


@dataclass(frozen=True)
class Limits:
    """The bounds of one connector; tests use smaller ones."""

    model_chars: int = 500  # the model reads at most this prefix of a message
    max_chars: int = 3000  # longer messages are refused (the ticket backend keeps 4,000 of a description)
    per_conversation: int = 30  # messages a minute
    per_ip: int = 120  # messages a minute from one client address (web chat)
    queue_depth: int = 10  # messages of one conversation waiting for their turn in this process
    queue_wait: float = 30.0  # seconds a message waits for its turn at most


def payload_intent(text: str) -> str:
    """The intent name of a payload ("/rate{...}" → "rate")."""
    match = PAYLOAD_NAME.match(text)
    return match.group(1) if match else ""


def client_ip(peer: Optional[str], forwarded_for: Optional[str]) -> str:
    """The citizen's address: X-Forwarded-For's last hop, believed only from a proxy on a loopback or
    private address (haproxy, an ingress); a client connecting directly cannot make it up."""
    if forwarded_for and peer:
        try:
            proxy = ipaddress.ip_address(peer)
        except ValueError:
            return peer
        if proxy.is_loopback or proxy.is_private:
            return forwarded_for.split(",")[-1].strip() or peer
    return peer or "unknown"


class OfferedPayloads:
    """The payloads of the buttons the bot offered each conversation (a day), written by output channels."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    @staticmethod
    def _key(conversation: str) -> str:
        return f"channels:offered:{conversation}"

    async def remember(self, conversation: str, payloads: Iterable[str]) -> None:
        """Records the payloads of buttons just shown to `conversation`."""
        wanted = [str(p).strip() for p in payloads if str(p).strip().startswith("/")]
        if not wanted:
            return
        key = self._key(conversation)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(key, *wanted)
            pipe.expire(key, OFFERED_SECONDS)
            pipe.scard(key)
            *_, size = await pipe.execute()
        if size > OFFERED_MAX:
            await self.redis.delete(key)
            await self.redis.sadd(key, *wanted)
            await self.redis.expire(key, OFFERED_SECONDS)

    async def remember_message(self, conversation: str, message: Dict[str, Any]) -> None:
        """Records the buttons (or quick replies) of one bot message."""
        buttons = message.get("buttons") or message.get("quick_replies") or []
        await self.remember(conversation, [b.get("payload", "") for b in buttons if isinstance(b, dict)])

    async def offered(self, conversation: str, payload: str) -> bool:
        return bool(await self.redis.sismember(self._key(conversation), payload.strip()))


class RateLimiter:
    """Fixed one-minute windows counted in Redis."""

    def __init__(self, redis: aioredis.Redis, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.clock = clock

    async def allow(self, kind: str, who: str, per_minute: int) -> bool:
        window = int(self.clock() // 60)
        key = f"channels:rate:{kind}:{who}:{window}"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = await pipe.execute()
        return int(count) <= per_minute


class ConversationQueue:
    """One turn per conversation at a time, in arrival order, with a bounded queue and a bounded wait."""

    def __init__(self, depth: int, wait: float) -> None:
        self.depth = depth
        self.wait = wait
        self._locks: Dict[str, asyncio.Lock] = {}
        self._users: Counter = Counter()

    def waiting(self, key: str) -> int:
        return self._users[key]

    async def run(self, key: str, turn: Callable[[], Awaitable[Any]]) -> bool:
        """Runs `turn` when it is `key`'s turn; False (not run) when the queue is full or the wait too long."""
        if self._users[key] > self.depth:  # the one running plus `depth` waiting
            return False
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            try:
                await asyncio.wait_for(lock.acquire(), timeout=self.wait)
            except asyncio.TimeoutError:
                return False
            try:
                await turn()
            finally:
                lock.release()
            return True
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                self._locks.pop(key, None)


class Guard:
    """Checks a connector's messages (see the module docstring) and runs the accepted ones."""

    def __init__(self, redis: aioredis.Redis, limits: Optional[Limits] = None, parse: Optional[Parser] = None) -> None:
        self.redis = redis
        self.limits = limits or Limits()
        self.offered = OfferedPayloads(redis)
        self.rates = RateLimiter(redis)
        self.queue = ConversationQueue(self.limits.queue_depth, self.limits.queue_wait)
        self._parse = parse
        self._app: Any = None

    def attach(self, blueprint: Blueprint) -> None:
        """Remembers the Sanic app the blueprint runs in (its `ctx.agent` parses long messages' prefixes)."""

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _: Any) -> None:
            self._app = app

    async def parse_prefix(self, text: str) -> Optional[Dict[str, Any]]:
        """Rasa's parse of the first `model_chars` characters, with the whole text; None without an agent."""
        prefix = text[: self.limits.model_chars]
        if self._parse is not None:
            data = await self._parse(prefix)
        else:
            agent = getattr(getattr(self._app, "ctx", None), "agent", None)
            if agent is None or not agent.is_ready():
                return None
            data = await agent.parse_message(prefix)
        if data is not None:
            data = {**data, "text": text}
        return data

    def too_long(self, message: UserMessage) -> Optional[str]:
        """The answer to a message over `max_chars`, or None. Checked first, with no I/O: a long message
        costs its length count, nothing more (bench/load)."""
        length = len((message.text or "").strip())
        if length > self.limits.max_chars:
            return TOO_LONG.format(length=length, limit=self.limits.max_chars)
        return None

    async def refusal(self, message: UserMessage, trusted: bool, ip: Optional[str]) -> Optional[str]:
        """Why `message` is not taken (the answer to give), or None when it may go to Rasa. May rewrite
        `message.text` (a "/" that is not a payload) and set `message.parse_data` (a long message)."""
        limits = self.limits
        conversation = message.sender_id
        too_long = self.too_long(message)
        if too_long is not None:
            return too_long
        if not await self.rates.allow("conversation", conversation, limits.per_conversation):
            return TOO_FAST
        if ip is not None and not await self.rates.allow("ip", ip, limits.per_ip):
            return TOO_FAST
        if message.metadata is not None:
            message.metadata = bounded_metadata(message.metadata) or None  # kept with every event: bounded
        text = (message.text or "").strip()
        if text.startswith("/"):
            if SYSTEM_INTENT.match(payload_intent(text)):
                logger.warning("refused a system intent from %s", conversation)
                return NOT_A_BUTTON
            if not trusted and not await self.offered.offered(conversation, text):
                if LOOKS_LIKE_PAYLOAD.match(text):
                    logger.info("refused a payload no button offered to %s", conversation)
                    return NOT_A_BUTTON
                message.text = text.lstrip("/").strip()  # "/路灯不亮": plain text, not an intent
                if not message.text:
                    return NOT_A_BUTTON
        elif len(text) > limits.model_chars and message.parse_data is None:
            message.parse_data = await self.parse_prefix(text)
        return None

    async def handle(
        self, message: UserMessage, on_new_message: OnNewMessage, trusted: bool = False, ip: Optional[str] = None
    ) -> Optional[str]:
        """Runs `message` through Rasa, or answers why not. `trusted`: the text was made by the connector
        (a WeChat menu key, a greeting, a numbered choice), not typed. Returns the refusal, or None."""
        reason = await self.refusal(message, trusted, ip)
        if reason is None:
            failed: Dict[str, str] = {}

            async def turn() -> None:
                try:
                    await on_new_message(message)
                except Exception as error:  # noqa: BLE001 - a turn that fails must still be answered
                    if type(error).__name__ != "LockError":
                        logger.exception("a turn of %s failed", message.sender_id)
                    else:
                        logger.warning("%s: %s", message.sender_id, error)
                    failed["reason"] = FAILED

            if not await self.queue.run(message.sender_id, turn):
                reason = BUSY
            else:
                reason = failed.get("reason")
        if reason is not None:
            await self.answer(message, reason)
        return reason

    @staticmethod
    async def answer(message: UserMessage, text: str) -> None:
        """Sends `text` to the message's sender through its own output channel."""
        if message.output_channel is None:
            return
        try:
            await message.output_channel.send_text_message(message.sender_id, text)
        except Exception:  # noqa: BLE001 - the channel is down; nothing more to do than log it
            logger.exception("could not answer %s", message.sender_id)
