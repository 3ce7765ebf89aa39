"""What the WeChat Official Account and mini-program connectors share: push verification and decryption,
retry de-duplication, numbered choices, the customer-service output channel and the webhook blueprint."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional
from xml.parsers.expat import ExpatError

import xmltodict
from redis import asyncio as aioredis
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from bot.settings import Settings, load
from channels.tasks import BackgroundTasks
from channels.text import Button, choice_number, render_message, split_text, utf8_len
from channels.wechat_api import WeChatAccount, WeChatApi

logger = logging.getLogger(__name__)

GREET_PAYLOAD = "/greet"
IMAGE_RECEIVED = "已收到您的图片。目前我还不能识别图片内容，麻烦您用文字简单描述一下遇到的问题，我马上帮您处理。"
VOICE_NOT_RECOGNISED = "抱歉，这条语音我没有听清，您可以再说一遍，或者直接输入文字。"
UNSUPPORTED_MESSAGE = "抱歉，这类消息我暂时还看不了。请用文字或语音告诉我您的问题，我来帮您。"
DEDUP_SECONDS = 60
CHOICES_SECONDS = 24 * 3600


class ForbiddenPush(Exception):
    """The push is not signed by WeChat with our token (or cannot be decrypted with our key)."""


@dataclass
class Incoming:
    """What a push means for the bot: a user message for Rasa, or a reply we give without Rasa."""

    text: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    local_reply: Optional[str] = None


class PushGate:
    """Checks signatures of WeChat pushes, decrypts safe-mode bodies and encrypts passive replies."""

    def __init__(self, account: WeChatAccount) -> None:
        self.account = account
        self.crypto = WeChatCrypto(account.token, account.aes_key, account.appid) if account.aes_key else None

    def verify_url(self, args: Mapping[str, Any]) -> Optional[str]:
        """The `echostr` to answer WeChat's URL check with, or None when the signature is wrong."""
        try:
            check_signature(self.account.token, args.get("signature", ""), args.get("timestamp", ""),
                            args.get("nonce", ""))
        except InvalidSignatureException:
            return None
        return args.get("echostr", "")

    def open(self, args: Mapping[str, Any], body: bytes) -> str:
        """The plaintext (XML or JSON) of a push; raises ForbiddenPush if it was not signed with our token."""
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        try:
            if args.get("encrypt_type") != "aes":
                check_signature(self.account.token, args.get("signature", ""), timestamp, nonce)
                return body.decode("utf-8")
            if self.crypto is None:
                raise ForbiddenPush("encrypted push but no AES key is configured")
            envelope = parse_fields(body.decode("utf-8"))
            return self.crypto.decrypt_message(envelope, args.get("msg_signature", ""), timestamp, nonce)
        except (InvalidSignatureException, InvalidAppIdException, KeyError, ValueError, ExpatError) as error:
            raise ForbiddenPush(repr(error)) from error

    def seal(self, reply: str, args: Mapping[str, Any]) -> str:
        """The passive reply as WeChat expects it in the push's mode (encrypted in safe mode)."""
        if reply == "success" or args.get("encrypt_type") != "aes" or self.crypto is None:
            return reply
        return self.crypto.encrypt_message(reply, args.get("nonce", ""), args.get("timestamp"))


def parse_fields(plaintext: str) -> Dict[str, Any]:
    """The fields of a WeChat push body, JSON or XML."""
    text = plaintext.strip()
    if text.startswith("{"):
        data = json.loads(text)
    else:
        data = xmltodict.parse(text).get("xml")
    if not isinstance(data, dict):
        raise ValueError("not a WeChat push")
    return data


def dedup_key(fields: Mapping[str, Any]) -> str:
    """MsgId for messages; FromUserName + CreateTime for events (which have no MsgId)."""
    msg_id = fields.get("MsgId")
    if msg_id and str(msg_id) != "0":
        return str(msg_id)
    return f"{fields.get('FromUserName', '')}:{fields.get('CreateTime', '')}"


class PushStore:
    """Redis state of one connector: claimed pushes, their replies, and each user's last choices."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def claim(self, key: str) -> bool:
        """True for the first delivery of a push, False for WeChat's retries of it."""
        return bool(await self.redis.set(f"{self.prefix}:msg:{key}", 1, nx=True, ex=DEDUP_SECONDS))

    async def record_reply(self, key: str, reply: str) -> None:
        """Remembers what the first delivery was answered, for its retries."""
        await self.redis.set(f"{self.prefix}:reply:{key}", reply, ex=DEDUP_SECONDS)

    async def reply_for_retry(self, key: str, wait: float = 3.5) -> str:
        """The first delivery's answer (waiting for it up to `wait` s), else "success"."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            reply = await self.redis.get(f"{self.prefix}:reply:{key}")
            if reply is not None:
                return reply.decode("utf-8")
            if asyncio.get_running_loop().time() > deadline:
                return "success"
            await asyncio.sleep(0.1)

    async def remember_choices(self, user: str, buttons: List[Button]) -> None:
        """Stores the payloads of the numbered choices last shown to `user`."""
        payloads = json.dumps([payload for _, payload in buttons], ensure_ascii=False)
        await self.redis.set(f"{self.prefix}:choices:{user}", payloads, ex=CHOICES_SECONDS)

    async def resolve_choice(self, user: str, text: Optional[str]) -> Optional[str]:
        """The payload of the choice `user` picked by typing its number, if they did."""
        number = choice_number(text)
        if number is None:
            return None
        stored = await self.redis.get(f"{self.prefix}:choices:{user}")
        payloads = json.loads(stored) if stored else []
        return payloads[number - 1] if 1 <= number <= len(payloads) else None


class WeChatOutput(OutputChannel):
    """Sends bot messages as customer-service messages; while `buffered`, keeps them for a passive reply."""

    def __init__(self, api: WeChatApi, store: PushStore, buffered: bool = False) -> None:
        self.api = api
        self.store = store
        self.buffered = buffered
        self.pending: List[str] = []
        self.choices: List[Button] = []
        self._lock = asyncio.Lock()

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """Renders the message as text (buttons as numbered choices) and sends or buffers it."""
        async with self._lock:
            text, buttons = render_message(message, first_number=len(self.choices) + 1)
            if buttons:
                self.choices.extend(buttons)
                await self.store.remember_choices(recipient_id, self.choices)
            if not text:
                return
            if self.buffered:
                self.pending.append(text)
            else:
                await self.api.send_text(recipient_id, text)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    def take_passive(self, limit: int) -> Optional[str]:
        """Takes the buffered text for a passive reply (at most `limit` bytes; the rest stays buffered)."""
        pieces = split_text("\n\n".join(self.pending), limit, utf8_len)
        if not pieces:
            return None
        self.pending = ["\n".join(pieces[1:])] if len(pieces) > 1 else []
        return pieces[0]

    async def release(self, recipient_id: str) -> None:
        """Stops buffering: sends what is buffered, and later messages at once, through the API."""
        async with self._lock:
            self.buffered = False
            pending, self.pending = self.pending, []
            for text in pending:
                await self.api.send_text(recipient_id, text)


class WeChatInputBase(InputChannel):
    """Webhook of a WeChat app: URL check (GET) and signed pushes (POST) at /webhooks/<name>/webhook."""

    settings_prefix = "wechat"
    output_class = WeChatOutput

    def __init__(self, settings: Settings) -> None:
        self.account = WeChatAccount.from_settings(settings, self.settings_prefix)
        self.redis = aioredis.Redis.from_url(settings.redis_url)
        self.api = WeChatApi(self.account, self.redis)
        self.gate = PushGate(self.account)
        self.store = PushStore(self.redis, self.name())
        self.tasks = BackgroundTasks(self.name())

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Credentials come from the environment (bot/settings.py), never from the credentials file."""
        return cls(load())

    def get_output_channel(self) -> OutputChannel:
        """Customer-service messages: how agents' replies and ticket notices reach the citizen."""
        return self.output_class(self.api, self.store)

    async def handle_push(
        self, plaintext: str, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> str:
        """Answers one verified push (plaintext); returns the body of the HTTP answer."""
        raise NotImplementedError

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            echostr = self.gate.verify_url(request.args)
            return response.text(echostr) if echostr is not None else response.text("forbidden", status=403)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                plaintext = self.gate.open(request.args, request.body)
            except ForbiddenPush as error:
                logger.warning("%s: rejected a push that is not signed by WeChat: %s", self.name(), error)
                return response.text("forbidden", status=403)
            try:
                reply = await self.handle_push(plaintext, request, on_new_message)
            except (ValueError, KeyError, TypeError, ExpatError) as error:
                logger.warning("%s: could not read a push: %r", self.name(), error)
                reply = "success"
            return response.text(self.gate.seal(reply, request.args), content_type="application/xml")

        @hook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.api.close()
            await self.redis.close()

        return hook

    async def user_message(self, incoming: Incoming, openid: str, output: OutputChannel) -> UserMessage:
        """The Rasa message for `incoming`; a typed choice number becomes that choice's payload."""
        text = await self.store.resolve_choice(openid, incoming.text) or incoming.text
        return UserMessage(text, output, openid, input_channel=self.name(), metadata=incoming.metadata or None)
