"""WeChat Official Account (公众号) connector, at /webhooks/wechat/webhook.

The 5-second rule: WeChat waits 5 s for an answer and then retries. The Rasa turn runs as its own task;
if it has finished when the push's deadline comes (`passive_window` after the push arrived) its replies
go back passively in the HTTP answer, otherwise the answer is "success" and the replies follow as
customer-service messages. The deadline is a loop-time stamp taken when the push arrived: a handler that
gets the CPU late (an overloaded loop) answers "success" rather than a passive reply WeChat would drop.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from wechatpy import create_reply, events, messages, parse_message

from bot.settings import Settings
from channels.guard import Limits
from channels.wechat_gate import parse_fields
from channels.wechat_output import WeChatOutput
from channels.wechat_retries import dedup_key
from channels.wechat_webhook import (
    GREET_PAYLOAD,
    IMAGE_RECEIVED,
    TURNS_AT_ONCE,
    UNSUPPORTED_MESSAGE,
    VOICE_NOT_RECOGNISED,
    Answer,
    Incoming,
    OnNewMessage,
    WeChatInputBase,
)

# WeChat waits 5 s. Window + grace leave 1.2 s for what the budget cannot see: the time a push waits for an
# overloaded loop before its handler runs (CI measured 0.9 s in a 100-push burst), and the way back.
PASSIVE_WINDOW = 3.5  # seconds after the push's handler started that a finished turn is answered passively
PASSIVE_GRACE = 0.3  # seconds after the deadline a handler resumed late may still answer passively
PASSIVE_LIMIT = 2000  # bytes of one passive text reply


def menu_payload(event_key: str) -> str:
    """The Rasa payload of a menu button: the key itself if it is a payload ("/check_ticket"), else "/<key>"."""
    key = (event_key or "").strip()
    return key if key.startswith("/") else f"/{key}"


def incoming_of(msg: Any) -> Incoming:
    """What a parsed wechatpy message or event asks of the bot."""
    if isinstance(msg, messages.TextMessage):
        return Incoming(text=msg.content)
    if isinstance(msg, messages.VoiceMessage):
        recognised = (msg.recognition or "").strip()
        return (
            Incoming(text=recognised, metadata={"voice": True})
            if recognised
            else Incoming(local_reply=VOICE_NOT_RECOGNISED)
        )
    if isinstance(msg, messages.LocationMessage):
        latitude, longitude = msg.location
        label = (msg.label or "").strip()
        location = {"latitude": latitude, "longitude": longitude, "label": label, "scale": msg.scale}
        return Incoming(text=label or f"我的位置：{latitude},{longitude}", metadata={"location": location})
    if isinstance(msg, messages.ImageMessage):
        return Incoming(local_reply=IMAGE_RECEIVED)
    if isinstance(msg, (events.SubscribeEvent, events.SubscribeScanEvent)):
        return Incoming(text=GREET_PAYLOAD, trusted=True)
    if isinstance(msg, events.ClickEvent):
        return Incoming(text=menu_payload(msg.key), trusted=True)
    if isinstance(msg, messages.BaseMessage) and msg.type != "event":
        return Incoming(local_reply=UNSUPPORTED_MESSAGE)
    return Incoming()  # other events (unsubscribe, view, location reports): nothing to say


class WeChatInput(WeChatInputBase):
    """Official Account: passive replies for fast turns, customer-service messages for slow ones."""

    def __init__(
        self,
        settings: Settings,
        passive_window: float = PASSIVE_WINDOW,
        turns_at_once: int = TURNS_AT_ONCE,
        limits: Optional[Limits] = None,
    ) -> None:
        super().__init__(settings, turns_at_once, limits)
        self.passive_window = passive_window

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def handle_push(self, plaintext: str, on_new_message: OnNewMessage, started: float) -> Answer:
        msg = parse_message(plaintext)
        key = dedup_key(parse_fields(plaintext))
        if not await self.retries.claim(key):
            return Answer(await self.retries.reply_for_retry(key))
        answer = await self._answer(msg, on_new_message, deadline=started + self.passive_window)
        await self.retries.record_reply(key, answer.body)
        return answer

    async def _answer(self, msg: Any, on_new_message: OnNewMessage, deadline: float) -> Answer:
        incoming = incoming_of(msg)
        if incoming.local_reply:
            return Answer(create_reply(incoming.local_reply, msg).render())
        if not incoming.text:
            return Answer()
        output = WeChatOutput(self.api, self.choices, buffered=True, offered=self.guard.offered)
        message, trusted = await self.user_message(incoming, msg.source, output)
        conversation = message.sender_id
        turn = self.tasks.spawn(self.turn(message, trusted, on_new_message))
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait({turn}, timeout=max(0.0, deadline - loop.time()))
        except asyncio.CancelledError:  # WeChat hung up: everything goes through the API
            self.tasks.spawn(output.release(conversation))
            raise
        # a passive reply only if the handler runs soon enough after the deadline, else "success"
        in_time = turn.done() and loop.time() <= deadline + PASSIVE_GRACE
        passive = output.take_passive(PASSIVE_LIMIT) if in_time else None
        answer = Answer(create_reply(passive, msg).render()) if passive else Answer()
        # whatever did not fit follows the passive reply; everything a slow turn says goes through the API
        self.tasks.spawn(output.release(conversation, after=answer.written if passive else None))
        return answer
