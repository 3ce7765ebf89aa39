"""Parts of the real stack crash in the middle of conversations; citizens keep getting answers.

One extra stack for all of them (its own ports, its own Redis on its own port and folder, started and
supervised by the stack as `make run` does), the same trained model. In turn: the ticket backend, the
action server and the console are killed (SIGKILL, as a crash), then the stack's Redis. Every message a
citizen sends while parts are away gets an answer; none is lost.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy

from bot.recovering import NOTICE
from bot.settings import ROOT, load
from stack.run import Stack, isolated_settings
from stack.status import fetch
from stack.supervisor import RestartPolicy
from tests.e2e.citizens import SocketCitizen

TICKET = re.compile(r"BM\d{6}[0-9A-HJKMNP-TV-Z]{8}")
PORT_OFFSET = 11000  # beside the session stack (+10000) and the stack benchmark (+20000)
RECOVERING = NOTICE[:12]


@pytest.fixture(scope="module")
def faulty():
    """The fault-test stack. First restart after 3 s, so that a crashed part is away long enough to act in."""
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-faults-"))
    base = load()
    settings = isolated_settings(base, var_dir, port_offset=PORT_OFFSET, redis_db=0)
    from dataclasses import replace

    settings = replace(settings, redis_url=f"redis://127.0.0.1:{6379 + PORT_OFFSET}/0")
    stack = Stack(settings, start_redis=True, policy=RestartPolicy(first_delay=3.0))
    stack.start(timeout=300, train_quietly=True)
    try:
        yield stack
    finally:
        stack.stop()


class Citizens:
    """REST citizens; counts every message sent and every one answered."""

    def __init__(self, session: aiohttp.ClientSession, rasa_url: str, token: str) -> None:
        self.session, self.url = session, f"{rasa_url}/webhooks/rest/webhook"
        self.headers = {"Authorization": f"Bearer {token}"}  # the REST channel needs the Rasa token
        self.sent = self.answered = 0

    async def says(self, sender: str, text: str) -> str:
        self.sent += 1
        async with self.session.post(
            self.url, json={"sender": sender, "message": text}, headers=self.headers
        ) as response:
            assert response.status == 200, f"{text!r}: HTTP {response.status}"
            replies = await response.json()
        reply = "\n".join(
            [r.get("text") or "" for r in replies] + [b["title"] for r in replies for b in r.get("buttons") or []]
        )
        self.answered += bool(reply.strip())
        return reply


@pytest.fixture
async def citizens(faulty):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        crowd = Citizens(session, faulty.settings.rasa_url, faulty.settings.rasa_token)
        yield crowd
        assert crowd.answered == crowd.sent, f"{crowd.sent - crowd.answered} of {crowd.sent} messages got no answer"


def crash(stack: Stack, name: str) -> int:
    """Kills the part like a crash would; returns its pid."""
    pid = stack.service(name).process.pid
    os.killpg(pid, signal.SIGKILL)
    return pid


async def back_up(stack: Stack, name: str, restarts: int, timeout: float = 180.0) -> float:
    """Waits until /health shows the part serving again after `restarts` restarts; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        report = await asyncio.to_thread(fetch, stack.settings.health_url)
        part = next(p for p in report["parts"] if p["name"] == name)
        if part["state"] == "up" and part["restarts"] >= restarts:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise AssertionError(f"{name} not back after {timeout:.0f} s: {report}")


async def ask_faq(citizens: Citizens, sender: str) -> None:
    reply = await citizens.says(sender, "家里暖气不热怎么办")
    assert "排气" in reply, reply


async def test_the_ticket_backend_crashes_while_a_complaint_is_filed(faulty, citizens):
    citizen = SocketCitizen()
    await citizen.connect(faulty.settings.rasa_url)
    try:
        for text, expected in [
            ("我要投诉", "描述"),
            ("小区门口的井盖丢了好几天了，晚上特别危险", "分类对吗"),
            ("/affirm", "地址"),
            ("河西区友谊路20号", "称呼"),  # "好几天了" already said when
            ("周先生", "电话"),
            ("13712345678", "保密"),
            ("/deny", "请核对"),
        ]:
            await citizen.says(text)
            await citizen.hears(expected, timeout=60)
        crash(faulty, "tickets")
        await citizen.says("/affirm")
        await citizen.hears("不会丢失", timeout=60)  # kept in the outbox while the backend is away
        await ask_faq(citizens, "faq-during-tickets-crash")  # others keep being answered
        await back_up(faulty, "tickets", restarts=1)
        _, told = await citizen.hears("已成功提交", timeout=90)
        number = TICKET.search(told["text"]).group(0)
    finally:
        await citizen.client.disconnect()
    rows = ticket_rows(faulty.settings.database_url, "井盖丢了")
    assert [row["number"] for row in rows] == [number]  # one ticket, the one the citizen was told


async def test_the_action_server_crashes_mid_conversation(faulty, citizens):
    assert "描述" in await citizens.says("form", "我要投诉")
    assert "分类对吗" in await citizens.says("form", "楼下的饭馆每天半夜排风机轰轰响，吵得孩子睡不着")
    crash(faulty, "actions")
    crashed_at = time.monotonic()
    assert RECOVERING in await citizens.says("faq", "家里暖气不热怎么办")
    assert RECOVERING in await citizens.says("form", "/affirm")
    await back_up(faulty, "actions", restarts=1)
    print(f"action server serving again {time.monotonic() - crashed_at:.1f} s after the crash")
    assert "地址" in await citizens.says("form", "/affirm")  # the form goes on from the same question
    await ask_faq(citizens, "faq")


async def test_the_console_crashes(faulty, citizens):
    crash(faulty, "console")
    await ask_faq(citizens, "during-console-crash")
    await back_up(faulty, "console", restarts=1)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{faulty.settings.host}:{faulty.settings.console_port}/health") as response:
            assert response.status == 200
    await ask_faq(citizens, "after-console-crash")


async def test_the_stacks_redis_restarts_and_a_form_in_progress_continues(faulty, citizens):
    assert "描述" in await citizens.says("redis-form", "我要投诉")
    assert "分类对吗" in await citizens.says("redis-form", "小区垃圾站的垃圾好几天没人清运，臭味很大")
    crash(faulty, "redis")
    await back_up(faulty, "redis", restarts=1)
    assert "地址" in await citizens.says("redis-form", "/affirm")


def test_bianmin_status_shows_each_part_and_its_restarts(faulty):
    def status(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "BIANMIN_SUPERVISOR_PORT": str(faulty.settings.supervisor_port)}
        return subprocess.run(
            [sys.executable, "-m", "stack.cli", "status", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    report = json.loads(status("--json").stdout)
    assert report["ok"] and report["outbox"]["pending"] == 0
    assert {p["name"]: (p["state"], p["restarts"]) for p in report["parts"]} == {
        "redis": ("up", 1),
        "tickets": ("up", 1),
        "actions": ("up", 1),
        "rasa": ("up", 0),
        "console": ("up", 1),
    }
    shown = status()
    assert shown.returncode == 0 and "last exit code -9" in shown.stdout
    assert "outbox: 0 complaint(s) waiting for the ticket system" in shown.stdout


def ticket_rows(database_url: str, words: str) -> list:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            table = sqlalchemy.Table("tickets", sqlalchemy.MetaData(), autoload_with=connection)
            return [
                dict(r._mapping) for r in connection.execute(table.select().where(table.c.description.contains(words)))
            ]
    finally:
        engine.dispose()
