"""Numbered choices of text-only channels: "回复1：咨询问题" and the citizen types 1.

A number picks a button only as the answer to the latest bot message, when that message (or its turn) had
buttons, for a short while, and never while a human agent holds the conversation: a bot or agent message
without buttons forgets the choices, and so does the handoff."""

from __future__ import annotations

import json
from typing import List, Optional

from redis import asyncio as aioredis

from bot.handoff import HandoffStore
from channels.text import Button, choice_number

CHOICES_SECONDS = 10 * 60


class NumberedChoices:
    """The choices last shown to each user of one connector (`prefix`), in Redis."""

    def __init__(
        self, redis: aioredis.Redis, handoff: HandoffStore, prefix: str, seconds: int = CHOICES_SECONDS
    ) -> None:
        self.redis = redis
        self.handoff = handoff
        self.prefix = prefix
        self.seconds = seconds

    def _key(self, user: str) -> str:
        return f"{self.prefix}:choices:{user}"

    async def shown(self, user: str, sender: str, buttons: List[Button]) -> None:
        """A bot message from `sender` (one turn, or one agent reply) reached `user`, with all the buttons
        `sender` has shown so far: they become the choices; without any, earlier choices are forgotten."""
        if buttons:
            record = {"sender": sender, "payloads": [payload for _, payload in buttons]}
            await self.redis.set(self._key(user), json.dumps(record, ensure_ascii=False), ex=self.seconds)
            return
        stored = await self.redis.get(self._key(user))
        if stored and json.loads(stored).get("sender") != sender:
            await self.redis.delete(self._key(user))

    async def resolve(self, user: str, text: Optional[str]) -> Optional[str]:
        """The payload of the choice `user` picked by typing its number, if they did."""
        number = choice_number(text)
        if number is None:
            return None
        stored = await self.redis.get(self._key(user))
        if not stored or await self.handoff.holder(user):
            return None
        payloads = json.loads(stored).get("payloads") or []
        return payloads[number - 1] if 1 <= number <= len(payloads) else None
