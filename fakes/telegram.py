"""Telegram's side of the wire: the Bot API (api.telegram.org/bot<token>/<method>) and the updates it
posts to a webhook, built as python-telegram-bot objects."""

from __future__ import annotations

import itertools
import json
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web
from telegram import CallbackQuery, Chat, Message, MessageEntity, PhotoSize, TelegramObject, Update, User

BOT_ID, BOT_USERNAME = 777, "bianmin_bot"
_ids = itertools.count(100)


class FakeTelegramApi:
    """getMe, sendMessage, answerCallbackQuery; every call is recorded in `calls`."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self._message_ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self.method)

    async def method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        name = request.match_info["method"]
        params = await _params(request)
        self.calls.append((name, params))
        if name == "getMe":
            result: Any = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "便民",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        elif name == "sendMessage":
            chat_id = int(params["chat_id"])
            result = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "text": params.get("text", ""),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "便民"},
            }
            if params.get("reply_markup"):
                result["reply_markup"] = params["reply_markup"]
        elif name == "answerCallbackQuery":
            result = True
        else:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.json_response({"ok": True, "result": result})

    def sent(self, method: str) -> List[Dict[str, Any]]:
        return [params for name, params in self.calls if name == method]


async def _params(request: web.Request) -> Dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    form = await request.post()
    params: Dict[str, Any] = {}
    for key, value in form.items():
        try:
            params[key] = json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value
        except ValueError:
            params[key] = value
    return params


def user(user_id: int, first_name: str = "小李", username: str = "xiaoli") -> User:
    return User(id=user_id, is_bot=False, first_name=first_name, username=username)


def private_chat(user_id: int) -> Chat:
    return Chat(id=user_id, type=Chat.PRIVATE, first_name="小李")


def group_chat(chat_id: int) -> Chat:
    return Chat(id=chat_id, type=Chat.SUPERGROUP, title="幸福里小区业主群")


def bot_user() -> User:
    return User(id=BOT_ID, is_bot=True, first_name="便民", username=BOT_USERNAME)


def message(text: Optional[str], sender: User, chat: Chat, **fields: Any) -> Message:
    """A Message; `fields` adds caption, photo, entities, reply_to_message, ..."""
    return Message(
        message_id=next(_ids), date=datetime.now(timezone.utc), chat=chat, from_user=sender, text=text, **fields
    )


def addressing(text: str, username: str = BOT_USERNAME) -> Dict[str, Any]:
    """Message fields of a group message that starts by mentioning the bot."""
    handle = f"@{username}"
    return {"text": f"{handle} {text}", "entities": [MessageEntity(MessageEntity.MENTION, 0, len(handle))]}


def photo() -> List[PhotoSize]:
    return [PhotoSize(file_id="AgAD-photo", file_unique_id="photo-1", width=1280, height=960)]


def update(**fields: Any) -> Update:
    """An Update carrying `fields` (message=..., edited_message=..., callback_query=...)."""
    return Update(update_id=next(_ids), **fields)


def callback_query(data: str, sender: User, shown_in: Optional[Message]) -> CallbackQuery:
    """A button press; `shown_in` is the message with the keyboard, None for an inline-mode message."""
    if shown_in is None:
        return CallbackQuery(
            id=f"cb{next(_ids)}",
            from_user=sender,
            chat_instance="ci",
            data=data,
            inline_message_id=f"inline{next(_ids)}",
        )
    return CallbackQuery(id=f"cb{next(_ids)}", from_user=sender, chat_instance="ci", data=data, message=shown_in)


def wire(telegram_object: TelegramObject) -> Dict[str, Any]:
    """The JSON Telegram posts for an Update (or any object)."""
    return json.loads(telegram_object.to_json())
