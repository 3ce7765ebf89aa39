"""Background work of the connectors: Rasa turns run as their own tasks, never inside a Sanic handler."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Set

logger = logging.getLogger(__name__)


class BackgroundTasks:
    """Keeps references to running tasks (so they are not garbage-collected) and logs their failures."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._tasks: Set["asyncio.Task[Any]"] = set()

    def spawn(self, coroutine: Awaitable[Any]) -> "asyncio.Task[Any]":
        """Runs `coroutine` on its own, so Sanic cancelling a request never cuts a Rasa turn short."""
        task = asyncio.ensure_future(self._logged(coroutine))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _logged(self, coroutine: Awaitable[Any]) -> Any:
        try:
            return await coroutine
        except Exception:  # a failed turn must not vanish silently
            logger.exception("%s: background work failed", self.owner)
            return None
