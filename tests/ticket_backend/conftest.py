"""Fixtures of the ticket backend tests (reused by tests/ticket_client/): a database (SQLite and
PostgreSQL), the backend served on a loopback port, a fake Rasa HTTP API that records trigger_intent
calls, and an authorised HTTP session."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterator, Dict, List

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from bot.settings import Settings, load
from tickets.app import create_app

PORTS = range(23000, 24000)  # below Linux's ephemeral ports (32768-60999): no outgoing connection holds one
POSTGRES_URL = os.environ.get("BIANMIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = "test-tickets-token"


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serves `app` on a free 127.0.0.1 port of the test range; yields its base URL."""
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)  # a hung handler ends with its client
    await runner.setup()
    try:
        for port in random.sample(PORTS, 50):
            site = web.TCPSite(runner, "127.0.0.1", port)
            try:
                await site.start()
            except OSError:
                continue
            yield f"http://127.0.0.1:{port}"
            return
        raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")
    finally:
        await runner.cleanup()


def unused_port() -> int:
    """A port of the test range that nothing uses, so nothing answers there and a test's server can take it
    (for 'backend down' tests and for servers a test starts)."""
    import socket

    for port in random.sample(PORTS, 50):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no unused port in {PORTS.start}-{PORTS.stop - 1}")


def _postgres_reachable() -> str:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return ""
    except sa.exc.SQLAlchemyError as error:
        return f"PostgreSQL is not reachable at {POSTGRES_URL}: {str(error).splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_problem() -> str:
    return _postgres_reachable()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, postgres_problem):
    """A fresh, empty database: a SQLite file, or a throw-away schema in the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'tickets.sqlite3'}"
        return
    if postgres_problem:
        if os.environ.get("CI"):
            pytest.fail(postgres_problem)
        pytest.skip(postgres_problem)
    schema = f"bianmin_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class FakeRasa:
    """Records the trigger_intent calls it receives; answers `status` (503 makes it "down")."""

    url: str = ""
    status: int = 200
    calls: List[Dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append(
            {"sender_id": request.match_info["sender_id"], "query": dict(request.query), "body": await request.json()}
        )
        return web.json_response({"tracker": {}}, status=self.status)

    async def wait_for(self, count: int, timeout: float = 5.0) -> List[Dict[str, Any]]:
        """Waits until `count` calls arrived; returns them."""
        for _ in range(int(timeout / 0.02)):
            if len(self.calls) >= count:
                break
            await asyncio.sleep(0.02)
        return self.calls


@pytest.fixture
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    rasa = FakeRasa()
    app = web.Application()
    app.router.add_post("/conversations/{sender_id}/trigger_intent", rasa.handle)
    async with serve(app) as url:
        rasa.url = url
        yield rasa


def test_settings(tmp_path, database_url: str, rasa_url: str) -> Settings:
    """Settings of a backend under test."""
    return replace(
        load(),
        database_url=database_url,
        var_dir=tmp_path / "var",
        tickets_token=TOKEN,
        rasa_url=rasa_url,
        rasa_token="test-rasa-token",
    )


test_settings.__test__ = False  # a helper, not a test


@pytest.fixture
def settings(tmp_path, database_url, fake_rasa) -> Settings:
    return test_settings(tmp_path, database_url, fake_rasa.url)


@pytest.fixture
async def backend(settings) -> AsyncIterator[Settings]:
    """The ticket backend served on a loopback port; yields settings whose tickets_url points at it."""
    async with serve(create_app(settings)) as url:
        yield replace(settings, tickets_url=url)


@pytest.fixture
async def api(backend) -> AsyncIterator[aiohttp.ClientSession]:
    """A session with the bearer token whose base URL is the backend."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(
        base_url=backend.tickets_url, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
    ) as session:
        yield session


def _complaint(**overrides: Any) -> Dict[str, Any]:
    """A valid create payload, as actions/complaint.py builds it."""
    payload = {
        "client_ref": uuid.uuid4().hex,
        "category": "环境保护",
        "subcategory": "餐饮油烟",
        "department": "区生态环境局",
        "confidence": 0.87,
        "description": "小区门口烧烤摊油烟很大，晚上没法开窗",
        "district": "南开区",
        "address": "鞍山西道100号",
        "occurred_at": "每天晚上",
        "name": "王先生",
        "phone": "138 1234 5678",
        "confidential": False,
        "channel": "rest",
        "sender_id": uuid.uuid4().hex,
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def complaint():
    """Factory of valid create payloads: complaint(phone="...") overrides fields."""
    return _complaint


@pytest.fixture
def serve_app():
    """`async with serve_app(app) as url`: an aiohttp app on a loopback test port."""
    return serve


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{unused_port()}"
