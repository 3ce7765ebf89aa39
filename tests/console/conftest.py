"""Console fixtures: real Redis (db 12), a real ticket backend, a fake Rasa HTTP API that speaks Rasa's
wire format and records what the console sends, and console apps on 127.0.0.1:242xx."""

from __future__ import annotations

import os
import re
import time
from dataclasses import replace
from typing import Any, Dict, List

import pytest
import redis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import load
from console.accounts import Accounts
from console.app import create_app

RASA_PORT, TICKETS_PORT, CONSOLE_PORT, SECOND_CONSOLE_PORT = (
    24201,
    24202,
    24203,
    24204,
)  # below the ephemeral range (32768-60999)
TOKEN = "console-test-token"
PASSWORD = "correct horse 42"


class FakeRasa:
    """Rasa's HTTP API for trackers, tracker events and trigger_intent, kept in memory."""

    def __init__(self) -> None:
        self.events: Dict[str, List[Dict[str, Any]]] = {}
        self.slots: Dict[str, Dict[str, Any]] = {}
        self.appended: List[Dict[str, Any]] = []
        self.triggered: List[Dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_get("/conversations/{id}/tracker", self.tracker)
        self.app.router.add_post("/conversations/{id}/tracker/events", self.append)
        self.app.router.add_post("/conversations/{id}/trigger_intent", self.trigger)

    def citizen_says(self, conversation_id: str, text: str, intent: str = "ask_question") -> None:
        """A user event as the Rasa server would log it."""
        self.events.setdefault(conversation_id, []).append(
            {
                "event": "user",
                "text": text,
                "timestamp": time.time(),
                "input_channel": "socketio",
                "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []},
            }
        )

    def _authorised(self, request: web.Request) -> None:
        if request.query.get("token") != TOKEN:
            raise web.HTTPUnauthorized()

    async def tracker(self, request: web.Request) -> web.Response:
        self._authorised(request)
        conversation_id = request.match_info["id"]
        events = self.events.get(conversation_id, [])
        return web.json_response(
            {
                "sender_id": conversation_id,
                "events": events,
                "slots": self.slots.get(conversation_id, {}),
                "latest_message": next((e.get("parse_data") for e in reversed(events) if e["event"] == "user"), {}),
                "latest_input_channel": "socketio",
                "paused": False,
            }
        )

    async def append(self, request: web.Request) -> web.Response:
        self._authorised(request)
        body = await request.json()
        conversation_id = request.match_info["id"]
        for event in body if isinstance(body, list) else [body]:
            self.appended.append({"id": conversation_id, "query": dict(request.query), "event": event})
            self.events.setdefault(conversation_id, []).append({**event, "timestamp": time.time()})
        return web.json_response({"sender_id": conversation_id, "events": self.events[conversation_id]})

    async def trigger(self, request: web.Request) -> web.Response:
        self._authorised(request)
        self.triggered.append(
            {"id": request.match_info["id"], "query": dict(request.query), "body": await request.json()}
        )
        return web.json_response({"tracker": {}, "messages": []})

    def kinds(self, conversation_id: str) -> List[str]:
        """Event types the console appended to a conversation, in order."""
        return [a["event"]["event"] for a in self.appended if a["id"] == conversation_id]


@pytest.fixture
def settings(tmp_path, redis_url):
    base = load()
    test_settings = replace(
        base,
        redis_url=redis_url.rsplit("/", 1)[0] + "/12",
        database_url=f"sqlite:///{tmp_path / 'console.sqlite3'}",
        rasa_url=f"http://127.0.0.1:{RASA_PORT}",
        rasa_token=TOKEN,
        tickets_url=f"http://127.0.0.1:{TICKETS_PORT}",
        tickets_token="tickets-test-token",
        var_dir=tmp_path,
        staffed_hours="00:00-24:00",
    )
    client = redis.Redis.from_url(test_settings.redis_url)
    client.flushdb()
    client.close()
    return test_settings


@pytest.fixture
def env_settings(settings, monkeypatch):
    """The same settings seen through the environment (what `load()` in the actions reads)."""
    from bot.settings import to_env

    for key, value in to_env(settings).items():
        monkeypatch.setenv(key, value)
    return settings


@pytest.fixture
async def rasa():
    fake = FakeRasa()
    server = TestServer(fake.app, host="127.0.0.1", port=RASA_PORT)
    await server.start_server()
    yield fake
    await server.close()


@pytest.fixture
async def tickets(settings):
    from tickets.app import create_app as tickets_app

    server = TestServer(tickets_app(settings), host="127.0.0.1", port=TICKETS_PORT)
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
def accounts(settings):
    store = Accounts(settings.database_url)
    store.add("wang", PASSWORD, display_name="小王")
    store.add("li", PASSWORD, display_name="小李")
    store.add("boss", PASSWORD, supervisor=True, display_name="班长")
    yield store
    store.dispose()


async def _client(settings, accounts, port: int) -> TestClient:
    client = TestClient(TestServer(create_app(settings, accounts), host="127.0.0.1", port=port))
    await client.start_server()
    return client


@pytest.fixture
async def console(settings, accounts, rasa, tickets):
    client = await _client(settings, accounts, CONSOLE_PORT)
    yield client
    await client.close()


@pytest.fixture
async def second_console(settings, accounts, rasa, tickets):
    """Another console process on the same Redis and database."""
    client = await _client(settings, accounts, SECOND_CONSOLE_PORT)
    yield client
    await client.close()


async def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Logs `client` in as `name`; returns the session's CSRF token."""
    page = await (await client.get("/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = await client.post(
        "/login", data={"csrf": csrf, "name": name, "password": password}, allow_redirects=False
    )
    assert response.status == 302, await response.text()
    home = await (await client.get("/")).text()
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', home).group(1)


@pytest.fixture
def login_as():
    """`await login_as(client, name)` logs in and returns the CSRF token for X-CSRF-Token."""
    return login


@pytest.fixture
def queued(settings):
    """Puts a conversation in the handoff queue as action_handoff does; returns its id."""
    from bot.handoff import HandoffStore

    async def enqueue(conversation_id: str, **summary: Any) -> str:
        store = HandoffStore.from_url(settings.redis_url)
        try:
            await store.enqueue(conversation_id, {"channel": "socketio", "intent": "request_human", **summary})
        finally:
            await store.close()
        return conversation_id

    return enqueue


# --- browser tests: the widget against a fake socket.io server, axe-core --------------------------------

CHAT_PORT = 24205
HERE = __import__("pathlib").Path(__file__).resolve().parent
STATIC = HERE.parent.parent / "channels" / "static"
GREETING = "您好，这里是12345便民服务热线智能客服。请问有什么可以帮您？"
MENU = [{"title": "咨询问题", "payload": "/ask_question"}, {"title": "查询工单", "payload": "/check_ticket"}]


class FakeChat:
    """Rasa's socket.io channel as the widget sees it: session_request/confirm, user_uttered → bot_uttered.
    `answers` maps a message to the replies; `push` sends a message as the console would (agent, handoff)."""

    def __init__(self) -> None:
        import socketio

        self.sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
        self.app = web.Application()
        self.sio.attach(self.app, socketio_path="/socket.io")
        self.received: List[str] = []
        self.sids: Dict[str, str] = {}  # session id -> socket id
        self.answers: Dict[str, List[Dict[str, Any]]] = {"/greet": [{"text": GREETING, "quick_replies": MENU}]}
        for route, name in (
            ("/", "chat.html"),
            ("/demo", "demo.html"),
            ("/widget.js", "widget.js"),
            ("/socket.io.min.js", "socket.io.min.js"),
        ):
            self.app.router.add_get("/webhooks/webchat" + route, self._file(name))
        self.sio.on("session_request", self._session)
        self.sio.on("user_uttered", self._uttered)

    @staticmethod
    def _file(name: str):
        async def handler(request: web.Request) -> web.Response:
            kind = "text/html" if name.endswith(".html") else "application/javascript"
            return web.Response(body=(STATIC / name).read_bytes(), content_type=kind, charset="utf-8")

        return handler

    async def _session(self, sid: str, data: Any) -> None:
        session = (data or {}).get("session_id") or f"s-{sid}"
        self.sids[session] = sid
        await self.sio.emit("session_confirm", session, room=sid)

    async def _uttered(self, sid: str, data: Dict[str, Any]) -> None:
        message = data.get("message") or ""
        self.received.append(message)
        for reply in self.answers.get(message, []):
            await self.sio.emit("bot_uttered", reply, room=sid)

    async def push(self, text: str, **metadata: Any) -> None:
        """A message to every connected widget (the console's tracker/events with side effects)."""
        message: Dict[str, Any] = {"text": text}
        if metadata:
            message["metadata"] = metadata
        for sid in list(self.sids.values()):
            await self.sio.emit("bot_uttered", message, room=sid)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{CHAT_PORT}/webhooks/webchat"


@pytest.fixture
async def chat():
    fake = FakeChat()
    server = TestServer(fake.app, host="127.0.0.1", port=CHAT_PORT)
    await server.start_server()
    yield fake
    await server.close()


AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core, installed from tests/console/package-lock.json on first use (`npm ci`)."""
    import shutil
    import subprocess

    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:  # like chromium: failed in CI, skipped with the install hint elsewhere
            message = "npm is needed for axe-core: `sudo apt-get install npm` (.ci/run installs it)"
            pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=HERE, check=True, timeout=300)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source):
    """`await axe(page)`: the serious and critical WCAG 2.1 A/AA violations on the page, as readable lines."""

    async def check(page) -> List[str]:
        if not await page.evaluate("() => !!window.axe"):
            await page.add_script_tag(content=axe_source)
        result = await page.evaluate(
            """async () => (await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})).violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => v.id + ': ' + v.help + ' @ ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"""
        )
        return list(result)

    return check


@pytest.fixture
async def agent_page(browser, console):
    """`await agent_page(name, viewport=...)`: a logged-in browser page on the test console."""
    contexts = []

    async def open_as(name: str, viewport: Dict[str, int] = {"width": 1280, "height": 800}):  # noqa: B006
        context = await browser.new_context(viewport=viewport, locale="zh-CN")
        contexts.append(context)
        page = await context.new_page()
        base = f"http://127.0.0.1:{CONSOLE_PORT}"
        await page.goto(base + "/login")
        await page.fill("input[name=name]", name)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(base + "/")
        return page

    yield open_as
    for context in contexts:
        await context.close()


@pytest.fixture
def screenshot():
    """`await screenshot(page, name)`: with BIANMIN_SCREENSHOTS=<dir> set, saves <dir>/<name>-<width>.png
    (how docs/console-*.png and docs/widget-*.png are made)."""
    import os
    from pathlib import Path

    async def save(page, name: str) -> None:
        folder = os.environ.get("BIANMIN_SCREENSHOTS")
        if folder:
            width = page.viewport_size["width"]
            await page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"))

    return save
