"""Loopback servers for tests and benchmarks: an aiohttp app on a port, input channels mounted in Sanic the
way `rasa run` mounts them, and a poll-until helper."""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, List

from aiohttp import web
from rasa.core.channels.channel import InputChannel
from sanic import Sanic


@asynccontextmanager
async def aiohttp_server(app: web.Application, port: int) -> AsyncIterator[str]:
    """Runs `app` on 127.0.0.1:`port`; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def rasa_like_server(channels: List[InputChannel], on_new_message: Any, port: int) -> AsyncIterator[str]:
    """A Sanic app with the channels' blueprints under /webhooks/<name>, as `rasa run` mounts them."""
    Sanic.test_mode = True  # lets several apps start in one process (Sanic re-compiles methods otherwise)
    app = Sanic(f"bianmin_test_{uuid.uuid4().hex[:8]}", configure_logging=False)
    for channel in channels:
        app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.url_prefix()}")
    app.ctx.input_channels = channels
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False, backlog=1024
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> "asyncio.Future[bool]":
    """Resolves True as soon as `predicate()` holds, False after `timeout` seconds."""

    async def poll() -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            await asyncio.sleep(0.05)
        return predicate()

    return asyncio.ensure_future(poll())
