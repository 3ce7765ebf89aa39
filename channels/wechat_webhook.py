"""The webhook both WeChat connectors (Official Account, mini-program) share: URL check (GET) and signed
pushes (POST) at /webhooks/<name>/webhook, with what a push means for the bot."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple
from xml.parsers.expat import ExpatError

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import HandoffStore
from bot.redis_client import async_redis
from bot.settings import Settings, load
from channels.guard import Guard, Limits
from channels.identity import WECHAT, conversation_of
from channels.numbered_choices import NumberedChoices
from channels.tasks import BackgroundTasks, TurnSlots
from channels.wechat_api import WeChatAccount, WeChatApi
from channels.wechat_gate import ForbiddenPush, PushGate
from channels.wechat_output import WeChatOutput
from channels.wechat_retries import RetryLedger

logger = logging.getLogger(__name__)

GREET_PAYLOAD = "/greet"
IMAGE_RECEIVED = "已收到您的图片。目前我还不能识别图片内容，麻烦您用文字简单描述一下遇到的问题，我马上帮您处理。"
VOICE_NOT_RECOGNISED = "抱歉，这条语音我没有听清，您可以再说一遍，或者直接输入文字。"
UNSUPPORTED_MESSAGE = "抱歉，这类消息我暂时还看不了。请用文字或语音告诉我您的问题，我来帮您。"
TURNS_AT_ONCE = 4  # Rasa turns one connector runs at the same time (see TurnSlots)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass
class Incoming:
    """What a push means for the bot: a user message for Rasa, or a reply we give without Rasa."""

    text: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    local_reply: Optional[str] = None
    trusted: bool = False  # made by the connector (a menu key, a greeting), not typed by the citizen


@dataclass
class Answer:
    """The body of the HTTP answer to a push; `written` is set once it has been written to WeChat."""

    body: str = "success"
    written: asyncio.Event = field(default_factory=asyncio.Event)


class WeChatInputBase(InputChannel):
    """Webhook of a WeChat app; subclasses say what a verified push is answered (`handle_push`)."""

    settings_prefix = "wechat"
    namespace = WECHAT  # conversations are "wechat:<openid>" (channels.identity)
    output_class = WeChatOutput

    def __init__(self, settings: Settings, turns_at_once: int = TURNS_AT_ONCE, limits: Optional[Limits] = None) -> None:
        self.account = WeChatAccount.from_settings(settings, self.settings_prefix)
        self.redis = async_redis(settings.redis_url)
        self.handoff = HandoffStore.from_url(settings.redis_url)
        self.api = WeChatApi(self.account, self.redis)
        self.gate = PushGate(self.account)
        self.retries = RetryLedger(self.redis, self.name())
        self.choices = NumberedChoices(self.redis, self.handoff, self.name())
        self.tasks = BackgroundTasks(self.name())
        self.turns = TurnSlots(turns_at_once)
        self.guard = Guard(self.redis, limits)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Credentials come from the environment (bot/settings.py), never from the credentials file."""
        return cls(load())

    def get_output_channel(self) -> OutputChannel:
        """Customer-service messages: how agents' replies and ticket notices reach the citizen."""
        return self.output_class(self.api, self.choices, offered=self.guard.offered)

    async def handle_push(self, plaintext: str, on_new_message: OnNewMessage, started: float) -> Answer:
        """Answers one verified push (plaintext) that arrived at loop time `started`."""
        raise NotImplementedError

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)
        self.guard.attach(hook)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            echostr = self.gate.verify_url(request.args)
            return response.text(echostr) if echostr is not None else response.text("forbidden", status=403)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Optional[HTTPResponse]:
            started = asyncio.get_running_loop().time()
            try:
                plaintext = self.gate.open(request.args, request.body)
            except ForbiddenPush as error:
                logger.warning("%s: rejected a push: %s", self.name(), error)
                return response.text("forbidden", status=403)
            answer = Answer()
            try:
                answer = await self.handle_push(plaintext, on_new_message, started)
            except (ValueError, KeyError, TypeError, ExpatError) as error:
                logger.warning("%s: could not read a push: %r", self.name(), error)
            try:  # written here, so that what follows the passive reply can wait for it
                sent = await request.respond(
                    response.text(self.gate.seal(answer.body, request.args), content_type="application/xml")
                )
                await sent.send(end_stream=True)
            finally:
                answer.written.set()
            return None

        @hook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.api.close()
            await self.redis.close()
            await self.handoff.close()

        return hook

    def conversation(self, openid: str) -> str:
        return conversation_of(self.namespace, openid)

    async def user_message(self, incoming: Incoming, openid: str, output: OutputChannel) -> Tuple[UserMessage, bool]:
        """The Rasa message for `incoming`, and whether its text is trusted (not typed: a menu key, a
        greeting, or a typed choice number, which becomes that choice's payload)."""
        conversation = self.conversation(openid)
        choice = await self.choices.resolve(conversation, incoming.text)
        message = UserMessage(
            choice or incoming.text, output, conversation, input_channel=self.name(), metadata=incoming.metadata or None
        )
        return message, bool(choice) or incoming.trusted

    def turn(self, message: UserMessage, trusted: bool, on_new_message: OnNewMessage) -> Awaitable[Any]:
        """The Rasa turn of `message` once a slot is free, through the guard (channels.guard)."""
        return self.turns.run(self.guard.handle(message, on_new_message, trusted=trusted))
