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


class TurnSlots:
    """At most `size` Rasa turns of a connector start at once; the others wait for a slot.

    A turn's model prediction blocks the event loop. With hundreds of turns started at once, the work ready
    to run would keep the loop busy for seconds, and no answer (not even WeChat's "success") could be
    written in time. A slot is held until the turn ends, or for `hold` seconds: the CPU work of a turn is
    at its start (the NLU parse, the first predictions), and a turn waiting for a slow action server must
    not keep others from starting."""

    def __init__(self, size: int, hold: float = 0.5) -> None:
        self._slots = asyncio.Semaphore(size)
        self.hold = hold

    async def run(self, turn: Awaitable[Any]) -> Any:
        """Runs `turn` once a slot is free."""
        await self._slots.acquire()
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._slots.release()

        timer = asyncio.get_running_loop().call_later(self.hold, release)
        try:
            return await turn
        finally:
            timer.cancel()
            release()
