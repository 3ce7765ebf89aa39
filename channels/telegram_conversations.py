"""Who a Telegram conversation is with, and where its messages go.

A private chat is one conversation (id: "tg:<chat id>"). In a group, every member who talks to the bot has a
conversation of their own (id: "tg:<chat id>:<user id>"), answered in the group. When the bot asks such a
conversation for personal data (phone, address, name), it does not ask in the group: it posts a deep link
(t.me/<bot>?start=<token>), and once the member opens it the conversation moves to their private chat
(their private messages continue it; its replies go there) for a day, or until they send a plain /start.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any, Dict, Optional, Tuple

from redis import asyncio as aioredis

from channels.identity import TELEGRAM, conversation_of, native_of

MOVED_SECONDS = 24 * 3600
INVITE_SECONDS = 24 * 3600
# the bot's questions for personal data (Rasa puts the response name in the message's `utter_action`)
PERSONAL_QUESTION = re.compile(r"^utter_ask_(address|person_name|phone|lookup_phone)$")


def conversation_id(chat_id: int, user_id: Optional[int], group: bool) -> str:
    """The conversation of `user_id` in the chat: the chat itself when private, the member's own in a group."""
    return conversation_of(TELEGRAM, f"{chat_id}:{user_id}" if group and user_id is not None else chat_id)


def chat_and_member(conversation: str) -> Tuple[str, Optional[int]]:
    """(chat id, member's user id or None for a private chat) of a conversation id."""
    conversation = native_of(conversation, TELEGRAM)
    chat, _, member = conversation.rpartition(":")
    if chat and member.isdigit():
        return chat, int(member)
    return conversation, None


def asks_for_personal_data(message: Dict[str, Any]) -> bool:
    """Whether a bot message asks the citizen for a phone number, an address or a name."""
    return bool(PERSONAL_QUESTION.match(str(message.get("utter_action") or "")))


class Conversations:
    """Group conversations moved to private chats, and the deep links that move them (in Redis)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def moved_to(self, conversation: str) -> Optional[str]:
        """The private chat a group conversation moved to, if it did."""
        chat = await self.redis.get(f"telegram:moved:{conversation}")
        return chat.decode() if chat else None

    async def of_private_chat(self, user_id: int) -> str:
        """The conversation a member's private messages continue: a moved group one, else the chat's own."""
        moved = await self.redis.get(f"telegram:private:{user_id}")
        return moved.decode() if moved else conversation_id(user_id, None, False)

    async def invite(self, conversation: str, user_id: int, question: Dict[str, Any]) -> str:
        """A deep-link token that moves `conversation` to `user_id`'s private chat and asks `question` there."""
        token = secrets.token_urlsafe(12)
        record = {"conversation": conversation, "user": user_id, "question": question}
        await self.redis.set(f"telegram:invite:{token}", json.dumps(record, ensure_ascii=False), ex=INVITE_SECONDS)
        return token

    async def accept(self, token: str, user_id: int) -> Optional[Tuple[str, Dict[str, Any]]]:
        """(conversation, question) when `token` invites `user_id`, whose conversation then moves; else None."""
        stored = await self.redis.get(f"telegram:invite:{token}")
        record = json.loads(stored) if stored else {}
        if record.get("user") != user_id:
            return None
        conversation = record["conversation"]
        await self.redis.set(f"telegram:moved:{conversation}", user_id, ex=MOVED_SECONDS)
        await self.redis.set(f"telegram:private:{user_id}", conversation, ex=MOVED_SECONDS)
        await self.redis.delete(f"telegram:invite:{token}")
        return conversation, record.get("question") or {}

    async def stay_private(self, user_id: int) -> None:
        """A plain /start: the member's private chat is its own conversation again."""
        moved = await self.redis.get(f"telegram:private:{user_id}")
        if moved:
            await self.redis.delete(f"telegram:moved:{moved.decode()}", f"telegram:private:{user_id}")
