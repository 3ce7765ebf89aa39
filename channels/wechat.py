"""WeChat Official Account (公众号) connector, at /webhooks/wechat/webhook.

The 5-second rule: WeChat waits 5 s for an answer and then retries. The Rasa turn runs as its own task;
if it finishes within `passive_timeout` its replies go back passively in the HTTP answer, otherwise we
answer "success" at once and the replies follow as customer-service messages.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from sanic.request import Request
from wechatpy import create_reply, parse_message
from wechatpy import events, messages

from bot.settings import Settings
from channels.wechat_common import (
    GREET_PAYLOAD, IMAGE_RECEIVED, UNSUPPORTED_MESSAGE, VOICE_NOT_RECOGNISED, Incoming, WeChatInputBase,
    WeChatOutput, dedup_key, parse_fields,
)

PASSIVE_TIMEOUT = 4.0  # seconds we wait for the turn before falling back to customer-service messages
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
        return Incoming(text=recognised, metadata={"voice": True}) if recognised else Incoming(
            local_reply=VOICE_NOT_RECOGNISED)
    if isinstance(msg, messages.LocationMessage):
        latitude, longitude = msg.location
        label = (msg.label or "").strip()
        location = {"latitude": latitude, "longitude": longitude, "label": label, "scale": msg.scale}
        return Incoming(text=label or f"我的位置：{latitude},{longitude}", metadata={"location": location})
    if isinstance(msg, messages.ImageMessage):
        return Incoming(local_reply=IMAGE_RECEIVED)
    if isinstance(msg, (events.SubscribeEvent, events.SubscribeScanEvent)):
        return Incoming(text=GREET_PAYLOAD)
    if isinstance(msg, events.ClickEvent):
        return Incoming(text=menu_payload(msg.key))
    if isinstance(msg, messages.BaseMessage) and msg.type != "event":
        return Incoming(local_reply=UNSUPPORTED_MESSAGE)
    return Incoming()  # other events (unsubscribe, view, location reports): nothing to say


class WeChatInput(WeChatInputBase):
    """Official Account: passive replies for fast turns, customer-service messages for slow ones."""

    def __init__(self, settings: Settings, passive_timeout: float = PASSIVE_TIMEOUT) -> None:
        super().__init__(settings)
        self.passive_timeout = passive_timeout

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def handle_push(
        self, plaintext: str, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> str:
        msg = parse_message(plaintext)
        key = dedup_key(parse_fields(plaintext))
        if not await self.store.claim(key):
            return await self.store.reply_for_retry(key)
        reply = await self._answer(msg, on_new_message)
        await self.store.record_reply(key, reply)
        return reply

    async def _answer(self, msg: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> str:
        incoming = incoming_of(msg)
        if incoming.local_reply:
            return create_reply(incoming.local_reply, msg).render()
        if not incoming.text:
            return "success"
        output = WeChatOutput(self.api, self.store, buffered=True)
        turn = self.tasks.spawn(on_new_message(await self.user_message(incoming, msg.source, output)))
        try:
            await asyncio.wait({turn}, timeout=self.passive_timeout)
        finally:
            passive = output.take_passive(PASSIVE_LIMIT) if turn.done() else None
            # whatever did not fit, and everything a slow turn still says, goes through the API
            self.tasks.spawn(output.release(msg.source))
        return create_reply(passive, msg).render() if passive else "success"
