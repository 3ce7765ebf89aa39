"""Telegram connector on python-telegram-bot 22, at /webhooks/telegram/webhook.

Register the webhook with `setWebhook(url=.../webhooks/telegram/webhook, secret_token=BIANMIN_TELEGRAM_SECRET)`;
every update must carry that secret in the X-Telegram-Bot-Api-Secret-Token header.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from redis import asyncio as aioredis
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.settings import Settings, load
from channels.tasks import BackgroundTasks
from channels.text import buttons_of, message_text, split_text

logger = logging.getLogger(__name__)

GREET_PAYLOAD = "/greet"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit on callback_data
CALLBACK_KEY_PREFIX = "k:"
CALLBACK_KEY_SECONDS = 30 * 24 * 3600
MESSAGE_LIMIT = 4096  # characters of one Telegram message
DEDUP_SECONDS = 3600
BUTTON_EXPIRED = "这个按钮已经过期了，请直接告诉我您的问题。"
NOT_TEXT = "抱歉，这类消息我暂时还看不了。请用文字告诉我您的问题，我来帮您。"


class CallbackPayloads:
    """Button payloads as callback_data: short ones as they are, long ones through a key stored in Redis."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def data_for(self, payload: str) -> str:
        """callback_data (≤ 64 bytes) that :meth:`payload_of` maps back to `payload`."""
        if len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT and not payload.startswith(CALLBACK_KEY_PREFIX):
            return payload
        key = CALLBACK_KEY_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
        await self.redis.set(f"telegram:callback:{key}", payload, ex=CALLBACK_KEY_SECONDS)
        return key

    async def payload_of(self, data: str) -> Optional[str]:
        """The payload behind callback_data, or None when its key expired."""
        if not data.startswith(CALLBACK_KEY_PREFIX):
            return data
        stored = await self.redis.get(f"telegram:callback:{data}")
        return stored.decode("utf-8") if stored else None


class TelegramOutput(OutputChannel):
    """Sends bot messages with sendMessage; buttons become an inline keyboard."""

    def __init__(self, bot: "LazyBot", payloads: CallbackPayloads) -> None:
        self.bot = bot
        self.payloads = payloads

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """One message per bot message (split over 4096 characters); the keyboard on the last part."""
        buttons = buttons_of(message)
        pieces = split_text(message_text(message), MESSAGE_LIMIT) or (["请选择："] if buttons else [])
        keyboard = await self._keyboard(buttons) if buttons else None
        bot = await self.bot.ready()
        for index, piece in enumerate(pieces):
            markup = keyboard if index == len(pieces) - 1 else None
            await bot.send_message(chat_id=recipient_id, text=piece, reply_markup=markup)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def _keyboard(self, buttons: List[tuple]) -> InlineKeyboardMarkup:
        rows = [[InlineKeyboardButton(title, callback_data=await self.payloads.data_for(payload))]
                for title, payload in buttons]
        return InlineKeyboardMarkup(rows)


class LazyBot:
    """A python-telegram-bot Bot initialised (getMe) on first use, inside the server's event loop."""

    def __init__(self, token: str, base_url: str) -> None:
        self.bot = Bot(token, base_url=base_url)
        self.initialized = False
        self._lock: Optional[asyncio.Lock] = None

    async def ready(self) -> Bot:
        """The initialised bot."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not self.initialized:
                await self.bot.initialize()
                self.initialized = True
        return self.bot

    async def shutdown(self) -> None:
        """Closes the bot's HTTP connections."""
        if self.initialized:
            await self.bot.shutdown()
            self.initialized = False


class TelegramInput(InputChannel):
    """Telegram webhook: text messages, /start, and inline-keyboard callbacks."""

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.telegram_secret
        self.redis = aioredis.Redis.from_url(settings.redis_url)
        self.bot = LazyBot(settings.telegram_token, settings.telegram_api_url)
        self.payloads = CallbackPayloads(self.redis)
        self.tasks = BackgroundTasks(self.name())

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Credentials come from the environment (bot/settings.py), never from the credentials file."""
        return cls(load())

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self.bot, self.payloads)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("bianmin_telegram_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            secret = request.headers.get(SECRET_HEADER, "")
            if not self.secret or not hmac.compare_digest(secret.encode(), self.secret.encode()):
                return response.text("forbidden", status=403)
            try:
                update = Update.de_json(request.json, await self.bot.ready())
            except (TelegramError, TypeError, ValueError, KeyError) as error:
                logger.warning("telegram: unreadable update: %r", error)
                return response.text("ok")
            if update is not None and await self.redis.set(f"telegram:update:{update.update_id}", 1, nx=True,
                                                           ex=DEDUP_SECONDS):
                self.tasks.spawn(self._handle(update, on_new_message))
            return response.text("ok")

        @hook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.bot.shutdown()
            await self.redis.close()

        return hook

    async def _handle(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        text: Optional[str] = None
        if update.callback_query is not None:
            await update.callback_query.answer()
            text = await self.payloads.payload_of(update.callback_query.data or "")
            if text is None:
                await self.get_output_channel().send_text_message(str(chat.id), BUTTON_EXPIRED)
                return
        elif update.message is not None and update.message.text:
            text = update.message.text.strip()
            if text == "/start" or text.startswith(("/start ", "/start@")):
                text = GREET_PAYLOAD
        elif update.message is not None:
            await self.get_output_channel().send_text_message(str(chat.id), NOT_TEXT)
            return
        if text:
            user = update.effective_user
            metadata = {"telegram_user": user.username or user.full_name} if user else None
            await on_new_message(UserMessage(text, self.get_output_channel(), str(chat.id),
                                             input_channel=self.name(), metadata=metadata))
