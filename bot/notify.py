"""Telling a citizen something from outside a conversation turn, through Rasa's trigger_intent API."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional
from urllib.parse import quote

import aiohttp

from bot.settings import Settings

logger = logging.getLogger(__name__)


async def trigger_intent(
    settings: Settings, sender_id: str, intent: str, entities: Optional[Dict[str, Any]] = None,
    timeout: float = 5.0,
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
