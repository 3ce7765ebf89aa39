"""The supervisor's own HTTP endpoint (settings.supervisor_port):

- `GET /health`: every part of the stack, up or down, since when, restarts, and the outbox's backlog, as
  JSON (HTTP 200 when every part is up, 503 otherwise), what `bianmin status` prints;
- `POST /webhook`: Rasa's action endpoint. Calls are passed on to the action server unchanged (with their
  token, which the action server checks: the relay grants nothing by itself); while it
  does not answer (crashed, restarting), the citizen gets a short notice instead of silence
  (stack/recovering.py).

It runs on its own thread and event loop inside the `bianmin run` process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import AsyncIterator, Callable, Optional

import aiohttp
from aiohttp import web

from stack.recovering import RecoveryAnswers

logger = logging.getLogger("bianmin.stack")
SESSION = web.AppKey("session", aiohttp.ClientSession)
CONNECT_TIMEOUT = 3.0  # seconds to reach the action server; the action itself may take as long as Rasa allows


def create_app(actions_url: str, status: Callable[[], dict]) -> web.Application:
    """The endpoint's routes; `status()` builds the health JSON (it may block: it runs on a thread)."""
    recovery = RecoveryAnswers()
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def health(request: web.Request) -> web.Response:
        report = await asyncio.get_running_loop().run_in_executor(None, status)
        return web.json_response(report, status=200 if report["ok"] else 503, dumps=_dumps)

    async def relay(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            async with request.app[SESSION].post(
                actions_url, data=body, params=request.query, headers=_passed_headers(request)
            ) as answer:
                return web.Response(body=await answer.read(), status=answer.status, content_type="application/json")
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
            call = json.loads(body or b"{}")
            logger.warning(
                "action server unavailable for %s (%s): the citizen is told to retry shortly",
                call.get("next_action"),
                error.__class__.__name__,
            )
            return web.json_response(recovery.answer(call), dumps=_dumps)

    async def client_session(app: web.Application) -> AsyncIterator[None]:
        app[SESSION] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT))
        yield
        await app[SESSION].close()

    app.cleanup_ctx.append(client_session)
    app.router.add_get("/health", health)
    app.router.add_post("/webhook", relay)
    return app


def _passed_headers(request: web.Request) -> dict:
    headers = {"Content-Type": "application/json"}
    if "Authorization" in request.headers:
        headers["Authorization"] = request.headers["Authorization"]
    return headers


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
