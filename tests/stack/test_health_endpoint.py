"""The supervisor's endpoint: the health report of every part of the stack."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from stack.gateway import create_app


def status_report():
    return {"ok": False, "parts": [], "outbox": {"pending": 1}}


async def test_the_health_report_is_503_while_a_part_is_down():
    runner = web.AppRunner(create_app(status_report))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/health"
        async with aiohttp.ClientSession() as session, session.get(url) as health:
            assert health.status == 503 and (await health.json())["outbox"] == {"pending": 1}
    finally:
        await runner.cleanup()
