"""Telegram connector on python-telegram-bot 22, at /webhooks/telegram/webhook.

Register the webhook with `setWebhook(url=.../webhooks/telegram/webhook, secret_token=BIANMIN_TELEGRAM_SECRET)`;
every update must carry that secret in the X-Telegram-Bot-Api-Secret-Token header. Text and photo captions
are messages; in groups the bot answers only when addressed (a mention, a reply to it, its buttons), and
keeps one conversation per member (channels.telegram_conversations).
"""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, CallbackQuery, Message, Update
from telegram.error import TelegramError

from bot.redis_client import async_redis
from bot.settings import Settings, load
from channels.bodies import json_object
from channels.guard import Guard, Limits
from channels.tasks import BackgroundTasks
from channels.telegram_conversations import Conversations, conversation_id
from channels.telegram_output import CallbackPayloads, LazyBot, TelegramOutput

logger = logging.getLogger(__name__)

GREET_PAYLOAD = "/greet"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEDUP_SECONDS = 3600
GROUP_CHATS = {"group", "supergroup"}
BUTTON_EXPIRED = "这个按钮已经过期了，请直接告诉我您的问题。"
NOT_TEXT = "抱歉，这类消息我暂时还看不了。请用文字告诉我您的问题，我来帮您。"
EDITED = "我看到您修改了一条消息。修改后的内容不会重新办理，如需更正，请把正确的内容直接再发给我。"
INLINE_BUTTON = "请在与便民热线的对话里使用这个按钮。"
LINK_EXPIRED = "这个链接已经失效了。请直接告诉我您要办的事，我来帮您。"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def addressed_to(message: Message, bot: Bot) -> bool:
    """Whether a group message is meant for the bot: it mentions the bot or replies to one of its messages."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    handle = f"@{bot.username}".lower()
    entities = message.parse_entities() if message.text else message.parse_caption_entities()
    for entity, text in entities.items():
        if entity.type == "text_mention" and entity.user is not None and entity.user.id == bot.id:
            return True
        if entity.type in ("mention", "bot_command") and text.lower().endswith(handle):
            return True
    return False


def without_mention(text: str, username: str) -> str:
    """`text` without the bot's @handle ("@bianmin_bot 路灯不亮" → "路灯不亮", "/start@bianmin_bot" → "/start")."""
    return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.IGNORECASE).strip()


class TelegramInput(InputChannel):
    """Telegram webhook: messages (text, captions), /start with or without a deep link, button callbacks."""

    def __init__(self, settings: Settings, limits: Optional[Limits] = None) -> None:
        self.secret = settings.telegram_secret
        self.redis = async_redis(settings.redis_url)
        self.bot = LazyBot(settings.telegram_token, settings.telegram_api_url)
        self.payloads = CallbackPayloads(self.redis)
        self.conversations = Conversations(self.redis)
        self.tasks = BackgroundTasks(self.name())
        self.guard = Guard(self.redis, limits)

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Credentials come from the environment (bot/settings.py), never from the credentials file."""
        return cls(load())

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self.bot, self.payloads, self.conversations, self.guard.offered)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint("bianmin_telegram_webhook", __name__)
        self.guard.attach(hook)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            secret = request.headers.get(SECRET_HEADER, "")
            if not self.secret or not hmac.compare_digest(secret.encode(), self.secret.encode()):
                return response.text("forbidden", status=403)
            update = await self._read_update(request)
            if update is None:
                return response.text("not a Telegram update", status=400)
            if await self.redis.set(f"telegram:update:{update.update_id}", 1, nx=True, ex=DEDUP_SECONDS):
                self.tasks.spawn(self._handle(update, on_new_message))
            return response.text("ok")

        @hook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.bot.shutdown()
            await self.redis.close()

        return hook

    async def _read_update(self, request: Request) -> Optional[Update]:
        body = json_object(request.body)
        if body is None:
            return None
        try:
            return Update.de_json(body, await self.bot.ready())
        except (TelegramError, TypeError, ValueError, KeyError, AttributeError) as error:
            logger.warning("telegram: unreadable update: %r", error)
            return None

    async def _handle(self, update: Update, on_new_message: OnNewMessage) -> None:
        if update.callback_query is not None:
            await self._handle_callback(update.callback_query, on_new_message)
            return
        message = update.message or update.edited_message
        if message is None or message.from_user is None:
            return  # channel posts, polls, member updates: nothing to answer
        bot = await self.bot.ready()
        group = message.chat.type in GROUP_CHATS
        if group and not addressed_to(message, bot):
            return
        text = without_mention(message.text or message.caption or "", bot.username)
        user_id = message.from_user.id
        conversation = (
            conversation_id(message.chat.id, user_id, group)
            if group
            else await self.conversations.of_private_chat(user_id)
        )
        output = self.get_output_channel()
        if update.edited_message is not None:
            await output.send_text_message(conversation, EDITED)
            return
        if not text:
            await output.send_text_message(conversation, NOT_TEXT)
            return
        greeting = text == "/start" or text.startswith("/start ")
        if greeting:
            if not group and await self._follow_deep_link(text[len("/start") :].strip(), user_id, output):
                return
            if not group:
                await self.conversations.stay_private(user_id)
                conversation = conversation_id(message.chat.id, None, False)
            text = GREET_PAYLOAD
        user = message.from_user
        metadata = {"telegram_user": user.username or user.full_name}
        if message.photo:
            metadata["photo"] = True
        await self.guard.handle(
            UserMessage(text, output, conversation, input_channel=self.name(), metadata=metadata),
            on_new_message,
            trusted=greeting,
        )

    async def _follow_deep_link(self, token: str, user_id: int, output: OutputChannel) -> bool:
        """/start <token>: moves the invited group conversation here and asks its question again."""
        if not token:
            return False
        accepted = await self.conversations.accept(token, user_id)
        if accepted is None:
            await output.send_text_message(conversation_id(user_id, None, False), LINK_EXPIRED)
            return True
        conversation, question = accepted
        await output.send_response(conversation, question)
        return True

    async def _handle_callback(self, query: CallbackQuery, on_new_message: OnNewMessage) -> None:
        if query.message is None:  # a button on an inline-mode message: no chat to continue in
            await query.answer(text=INLINE_BUTTON)
            return
        await query.answer()
        chat = query.message.chat
        group = chat.type in GROUP_CHATS
        conversation = (
            conversation_id(chat.id, query.from_user.id, group)
            if group
            else await self.conversations.of_private_chat(query.from_user.id)
        )
        output = self.get_output_channel()
        payload = await self.payloads.payload_of(query.data or "")
        if payload is None:
            await output.send_text_message(conversation, BUTTON_EXPIRED)
            return
        user = query.from_user
        metadata = {"telegram_user": user.username or user.full_name}
        # callback_data comes from the client: a payload is taken only if the bot offered it (channels.guard)
        await self.guard.handle(
            UserMessage(payload, output, conversation, input_channel=self.name(), metadata=metadata), on_new_message
        )
