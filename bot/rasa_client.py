"""Rasa's HTTP API as the hotline's services use it: `trigger_intent` tells a citizen something from outside
a conversation turn (ticket updates, outbox deliveries); `RasaClient` is the console's: read the tracker,
pause/resume, speak as the agent, hand back.

Agent messages are appended as `bot` events with `output_channel=latest`, so they reach the citizen on
the channel the citizen last wrote from, whatever it is: the console has no channel-specific code.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional
from urllib.parse import quote

import aiohttp

from bot.settings import Settings

logger = logging.getLogger(__name__)


async def trigger_intent(
    settings: Settings, sender_id: str, intent: str, entities: Optional[Dict[str, Any]] = None, timeout: float = 5.0
) -> bool:
    """Triggers `intent` with `entities` on the conversation `sender_id`, answering on its latest channel.

    Returns True when Rasa accepted it, False (logged, never raised) when Rasa is unreachable or refuses.
    """
    url = f"{settings.rasa_url.rstrip('/')}/conversations/{quote(sender_id, safe='')}/trigger_intent"
    params = {"output_channel": "latest", "token": settings.rasa_token}
    body = {"name": intent, "entities": entities or {}}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.post(url, params=params, json=body) as response:
                if 200 <= response.status < 300:
                    return True
                detail = (await response.text())[:200]
                logger.warning("Rasa refused %s for %s: HTTP %s %s", intent, sender_id, response.status, detail)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        logger.warning("Rasa unreachable for %s to %s: %s", intent, sender_id, type(error).__name__)
    return False


class RasaUnavailable(RuntimeError):
    """Rasa did not answer or refused; the message says what happened."""


class RasaClient:
    """Rasa HTTP API calls with the server's token; one shared aiohttp session per console process."""

    def __init__(self, settings: Settings, timeout: float = 5.0) -> None:
        self.settings = settings
        self.base = settings.rasa_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()

    def _url(self, conversation_id: str, tail: str) -> str:
        return f"{self.base}/conversations/{quote(conversation_id, safe='')}/{tail}"

    async def _call(self, method: str, url: str, params: Dict[str, str], body: Any = None) -> Any:
        params = {**params, "token": self.settings.rasa_token}
        try:
            async with self._http().request(method, url, params=params, json=body) as response:
                if response.status >= 300:
                    raise RasaUnavailable(f"Rasa answered HTTP {response.status}: {(await response.text())[:200]}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise RasaUnavailable(f"Rasa is not reachable: {type(error).__name__}") from error

    async def tracker(self, conversation_id: str) -> Dict[str, Any]:
        """The conversation's tracker (events, slots, latest message)."""
        return await self._call("GET", self._url(conversation_id, "tracker"), {})

    async def append(self, conversation_id: str, event: Any, side_effects: bool = False) -> None:
        """Appends one event (or a list); with side effects a bot event is sent on the citizen's latest
        channel."""
        params = {"output_channel": "latest", "execute_side_effects": "true"} if side_effects else {}
        await self._call("POST", self._url(conversation_id, "tracker/events"), params, event)

    async def pause(self, conversation_id: str) -> None:
        """Stops the bot from answering the conversation."""
        await self.append(conversation_id, {"event": "pause"})

    async def say(self, conversation_id: str, text: str, agent: str) -> None:
        """Sends `text` to the citizen as agent `agent`."""
        await self.append(conversation_id, {"event": "bot", "text": text, "metadata": {"agent": agent}}, True)

    async def hand_back(self, conversation_id: str, trigger: bool = True) -> None:
        """Resumes the bot; with `trigger`, the bot greets back and asks for a rating (EXTERNAL_handback).

        The pause stopped the turn before `action_listen`; it is logged with the resume so the next user
        turn (EXTERNAL_handback or the citizen's message) is predicted as after any other listen."""
        await self.append(conversation_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])
        if trigger and not await trigger_intent(self.settings, conversation_id, "EXTERNAL_handback", {}):
            raise RasaUnavailable("the bot was resumed but did not accept EXTERNAL_handback")
