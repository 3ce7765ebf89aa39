"""WeChat mini-program customer-service messages (小程序客服消息), at /webhooks/miniprogram/webhook.

Pushes come as JSON or XML (plain or safe mode). There is no passive reply: every push is answered
"success" at once and the bot's replies go through the customer-service API.
"""

from __future__ import annotations

from typing import Any, Dict

from channels.identity import MINIPROGRAM
from channels.wechat_gate import parse_fields
from channels.wechat_output import WeChatOutput
from channels.wechat_retries import dedup_key
from channels.wechat_webhook import (
    GREET_PAYLOAD,
    IMAGE_RECEIVED,
    UNSUPPORTED_MESSAGE,
    Answer,
    Incoming,
    OnNewMessage,
    WeChatInputBase,
)


class MiniProgramOutput(WeChatOutput):
    """Customer-service messages of the mini-program."""

    namespace = MINIPROGRAM

    @classmethod
    def name(cls) -> str:
        return "miniprogram"


def incoming_of(fields: Dict[str, Any]) -> Incoming:
    """What a mini-program push asks of the bot."""
    msg_type = str(fields.get("MsgType", "")).lower()
    if msg_type == "text":
        return Incoming(text=str(fields.get("Content", "")))
    if msg_type == "event":
        if str(fields.get("Event", "")).lower() == "user_enter_tempsession":
            return Incoming(
                text=GREET_PAYLOAD, metadata={"session_from": str(fields.get("SessionFrom", ""))[:200]}, trusted=True
            )
        return Incoming()
    if msg_type == "image":
        return Incoming(local_reply=IMAGE_RECEIVED)
    return Incoming(local_reply=UNSUPPORTED_MESSAGE)


class MiniProgramInput(WeChatInputBase):
    """Mini-program customer-service messages: every reply through the customer-service API."""

    settings_prefix = "miniprogram"
    namespace = MINIPROGRAM  # conversations are "mp:<openid>"
    output_class = MiniProgramOutput

    @classmethod
    def name(cls) -> str:
        return "miniprogram"

    async def handle_push(self, plaintext: str, on_new_message: OnNewMessage, started: float) -> Answer:
        fields = parse_fields(plaintext)
        openid = str(fields.get("FromUserName", ""))
        if not openid or not await self.retries.claim(dedup_key(fields)):
            return Answer()
        incoming = incoming_of(fields)
        if incoming.local_reply:
            self.tasks.spawn(self.api.send_text(openid, incoming.local_reply))
        elif incoming.text:
            message, trusted = await self.user_message(incoming, openid, self.get_output_channel())
            self.tasks.spawn(self.turn(message, trusted, on_new_message))
        return Answer()
