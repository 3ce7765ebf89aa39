"""The supervisor's own HTTP endpoint (settings.supervisor_port): `GET /health`, every part of the stack, up
or down, since when, restarts, and the outbox's backlog, as JSON (HTTP 200 when every part is up, 503
otherwise), what `bianmin status` prints.

Rasa calls the action server directly; a call that fails gets its answer from Rasa itself
(bot/nlu/action_recovery.py), in this stack as in a cluster.

It runs on its own thread and event loop inside the `bianmin run` process.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Callable, Optional

from aiohttp import web


def create_app(status: Callable[[], dict]) -> web.Application:
    """The endpoint's routes; `status()` builds the health JSON (it may block: it runs on a thread)."""
    app = web.Application()

    async def health(request: web.Request) -> web.Response:
        report = await asyncio.get_running_loop().run_in_executor(None, status)
        return web.json_response(report, status=200 if report["ok"] else 503, dumps=_dumps)

    app.router.add_get("/health", health)
    return app


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class Gateway:
    """Serves create_app() on host:port from a background thread."""

    def __init__(self, host: str, port: int, app: web.Application) -> None:
        self.host, self.port, self.app = host, port, app
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        """Binds the port (raising OSError when it is taken) and serves in the background."""
        started = threading.Event()
        failure: list = []

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._open())
            except BaseException as error:  # handed to the starting thread
                failure.append(error)
                started.set()
                return
            started.set()
            self._loop.run_forever()
            assert self._runner is not None
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="bianmin-gateway", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]

    async def _open(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._thread = None
