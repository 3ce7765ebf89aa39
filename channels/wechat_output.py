"""The WeChat output channel: bot and agent messages as customer-service messages, or, during an Official
Account turn, buffered for the passive reply (which carries one message of at most 2,000 bytes)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import OutputChannel

from channels.guard import OfferedPayloads
from channels.identity import WECHAT, native_of
from channels.numbered_choices import NumberedChoices
from channels.splitting import CHARACTER, SENTENCE, cut, utf8_len
from channels.text import Button, render_message
from channels.wechat_api import WeChatApi

MESSAGE_GAP = "\n\n"  # between two bot messages joined into one passive reply
PASSIVE_HEAD_START = 0.3  # seconds between writing the passive reply and the first customer-service message
PASSIVE_WRITE_WAIT = 5.0  # seconds the rest waits at most for the passive reply to be written


class WeChatOutput(OutputChannel):
    """Sends bot messages as customer-service messages; while `buffered`, keeps them for a passive reply.
    Recipients are conversations ("wechat:<openid>"); the API gets the openid."""

    namespace = WECHAT

    def __init__(
        self,
        api: WeChatApi,
        choices: NumberedChoices,
        buffered: bool = False,
        offered: Optional[OfferedPayloads] = None,
    ) -> None:
        self.api = api
        self.choices = choices
        self.buffered = buffered
        self.offered = offered
        self.pending: List[str] = []
        self.shown: List[Button] = []  # the numbered choices this output has shown
        self.sender = uuid.uuid4().hex  # one turn, or one agent reply: its choices stand together
        self._lock = asyncio.Lock()

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """Renders the message as text (buttons as numbered choices) and sends or buffers it."""
        async with self._lock:
            text, buttons = render_message(message, first_number=len(self.shown) + 1)
            self.shown.extend(buttons)
            await self.choices.shown(recipient_id, self.sender, self.shown)
            if self.offered is not None and buttons:
                await self.offered.remember(recipient_id, [payload for _, payload in buttons])
            if not text:
                return
            if self.buffered:
                self.pending.append(text)
            else:
                await self.api.send_text(self.openid(recipient_id), text)

    def openid(self, conversation: str) -> str:
        return native_of(conversation, self.namespace)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    def take_passive(self, limit: int) -> Optional[str]:
        """Takes as much buffered text as fits in `limit` bytes for the passive reply: whole messages, then
        the next one up to a line or sentence break (the first one at any break). The rest stays buffered."""
        taken: List[str] = []
        room = limit
        while self.pending:
            separator = MESSAGE_GAP if taken else ""
            head, rest = cut(
                self.pending[0], room - utf8_len(separator), utf8_len, worst=SENTENCE if taken else CHARACTER
            )
            if not head:
                break
            taken.append(head)
            room -= utf8_len(separator + head)
            if rest:
                self.pending[0] = rest
                break
            self.pending.pop(0)
        return MESSAGE_GAP.join(taken) or None

    async def release(self, recipient_id: str, after: Optional[asyncio.Event] = None) -> None:
        """Stops buffering: once the passive reply is written (`after`), sends what is still buffered
        through the API in order, and later messages at once."""
        if after is not None:
            try:
                await asyncio.wait_for(after.wait(), timeout=PASSIVE_WRITE_WAIT)
            except asyncio.TimeoutError:  # the answer was never written (the handler was cancelled)
                pass
            await asyncio.sleep(PASSIVE_HEAD_START)
        async with self._lock:
            self.buffered = False
            pending, self.pending = self.pending, []
            if pending:
                await self.api.send_texts(self.openid(recipient_id), pending)
