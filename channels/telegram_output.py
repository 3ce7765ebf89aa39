"""Bot messages to Telegram: sendMessage with inline keyboards, in private chats and groups (where questions
for personal data become a deep link to the private chat, see channels.telegram_conversations)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import OutputChannel
from redis import asyncio as aioredis
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from channels.guard import OfferedPayloads
from channels.splitting import split_text
from channels.telegram_conversations import Conversations, asks_for_personal_data, chat_and_member
from channels.text import Button, buttons_of, message_text

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit on callback_data
CALLBACK_KEY_PREFIX = "k:"
CALLBACK_KEY_SECONDS = 30 * 24 * 3600
MESSAGE_LIMIT = 4096  # characters of one Telegram message
QUESTION_FIELDS = ("text", "buttons", "quick_replies", "image", "custom")  # what a withheld question keeps
MOVE_TO_PRIVATE = (
    "接下来需要您的联系电话、地址等个人信息。为保护您的隐私，请点下面的按钮到私聊里继续，"
    "我们在那里接着办（这个链接只对您本人有效）。"
)
MOVE_BUTTON = "到私聊继续办理"


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


class LazyBot:
    """A python-telegram-bot Bot initialised (getMe) on first use, inside the server's event loop."""

    def __init__(self, token: str, base_url: str) -> None:
        self.bot = Bot(token, base_url=base_url)
        self.initialized = False
        self._lock: Optional[asyncio.Lock] = None

    async def ready(self) -> Bot:
        """The initialised bot (its `id` and `username` known)."""
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


class TelegramOutput(OutputChannel):
    """Sends bot messages with sendMessage; buttons become an inline keyboard."""

    def __init__(
        self,
        bot: LazyBot,
        payloads: CallbackPayloads,
        conversations: Conversations,
        offered: Optional[OfferedPayloads] = None,
    ) -> None:
        self.bot = bot
        self.payloads = payloads
        self.conversations = conversations
        self.offered = offered

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """To the conversation's chat; in a group, a question for personal data becomes a deep link."""
        if self.offered is not None:
            await self.offered.remember_message(recipient_id, message)
        chat, member = chat_and_member(recipient_id)
        if member is not None:
            moved = await self.conversations.moved_to(recipient_id)
            if moved:
                chat = moved
            elif asks_for_personal_data(message):
                await self._invite_to_private(chat, recipient_id, member, message)
                return
        await self._send(chat, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def _send(self, chat: str, message: Dict[str, Any]) -> None:
        """One message per bot message (split over 4096 characters); the keyboard on the last part."""
        buttons = buttons_of(message)
        pieces = split_text(message_text(message), MESSAGE_LIMIT) or (["请选择："] if buttons else [])
        keyboard = await self._keyboard(buttons) if buttons else None
        bot = await self.bot.ready()
        for index, piece in enumerate(pieces):
            markup = keyboard if index == len(pieces) - 1 else None
            await bot.send_message(chat_id=chat, text=piece, reply_markup=markup)

    async def _invite_to_private(self, chat: str, conversation: str, member: int, question: Dict[str, Any]) -> None:
        kept = {name: question[name] for name in QUESTION_FIELDS if question.get(name)}
        token = await self.conversations.invite(conversation, member, kept)
        bot = await self.bot.ready()
        link = InlineKeyboardButton(MOVE_BUTTON, url=f"https://t.me/{bot.username}?start={token}")
        await bot.send_message(chat_id=chat, text=MOVE_TO_PRIVATE, reply_markup=InlineKeyboardMarkup([[link]]))

    async def _keyboard(self, buttons: List[Button]) -> InlineKeyboardMarkup:
        rows = [
            [InlineKeyboardButton(title, callback_data=await self.payloads.data_for(payload))]
            for title, payload in buttons
        ]
        return InlineKeyboardMarkup(rows)
