"""The queue page's system notices: what agents should know of the stack's health, read from /health."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from console.system import notices

HEALTH_PORT = 24206
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)


def part(name: str, state: str = "up", restarts: int = 0, minutes_ago: int = 300) -> dict:
    since = (NOW - timedelta(minutes=minutes_ago)).isoformat()
    return {"name": name, "state": state, "since": since, "restarts": restarts, "supervised": True}


def report(*parts: dict, pending: int = 0) -> dict:
    return {"ok": all(p["state"] == "up" for p in parts), "parts": list(parts), "outbox": {"pending": pending}}


def test_a_healthy_stack_or_no_supervisor_shows_nothing():
    assert notices(report(part("rasa"), part("actions", restarts=2, minutes_ago=180)), NOW) == []
    assert notices(None, NOW) == []


def test_a_part_down_a_recent_restart_and_kept_complaints_are_told():
    lines = notices(
        report(part("tickets", state="down", minutes_ago=3), part("actions", restarts=2, minutes_ago=5), pending=4), NOW
    )
    assert lines == [
        "工单系统暂时不可用（3 分钟前起），系统正在自动恢复；市民会收到“系统正在恢复中”的提示。",
        "业务服务在 5 分钟前自动重启过（累计 2 次），现已恢复。",
        "有 4 件诉求暂存待送工单系统，恢复后会自动补送，请勿让市民重复提交。",
    ]


@pytest.fixture
def settings(settings):
    return replace(settings, supervisor_port=HEALTH_PORT)


@pytest.fixture
async def supervisor_health():
    """The supervisor's /health as `bianmin run` answers it while the action server is down (503)."""
    down = report(part("rasa"), {**part("actions", state="down", restarts=1, minutes_ago=0), "since": None})
    app = web.Application()
    app.router.add_get("/health", lambda _: web.json_response(down, status=503))
    server = TestServer(app, host="127.0.0.1", port=HEALTH_PORT)
    await server.start_server()
    yield
    await server.close()


async def test_the_console_reads_the_supervisors_health(console, login_as, supervisor_health):
    await login_as(console, "wang")
    body = await (await console.get("/api/system")).json()
    assert body == {"notices": ["业务服务暂时不可用，系统正在自动恢复；市民会收到“系统正在恢复中”的提示。"]}


async def test_no_supervisor_no_notice(console, login_as):
    await login_as(console, "wang")
    assert await (await console.get("/api/system")).json() == {"notices": []}
