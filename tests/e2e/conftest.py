"""The real stack, started once per test session exactly as `bianmin run` starts it.

Trained model, action server, Redis, ticket backend (SQLite in a temporary folder), agent console,
all on their own ports (the usual ones + 10000, or BIANMIN_E2E_PORT_OFFSET; Redis db 14 or BIANMIN_E2E_REDIS_DB) so a developer's running assistant is not disturbed.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import pytest
import redis

from bot.settings import load
from stack.run import Stack, isolated_settings


@dataclasses.dataclass
class RunningStack:
    """What a test needs to talk to the running assistant."""

    rasa_url: str
    rasa_token: str
    tickets_url: str
    tickets_token: str
    console_url: str
    redis_url: str
    database_url: str
    var_dir: Path
    stack: Stack

    @property
    def env(self):
        """Environment the stack's processes run with."""
        return self.stack.env()


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(redis_url):
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-e2e-"))
    offset = int(os.environ.get("BIANMIN_E2E_PORT_OFFSET", "10000"))
    settings = isolated_settings(
        load(), var_dir, port_offset=offset, redis_db=int(os.environ.get("BIANMIN_E2E_REDIS_DB", "14"))
    )
    redis.Redis.from_url(settings.redis_url).flushdb()
    running = Stack(settings)
    running.start(timeout=300, train_quietly=True)
    try:
        yield RunningStack(
            rasa_url=settings.rasa_url,
            rasa_token=settings.rasa_token,
            tickets_url=settings.tickets_url,
            tickets_token=settings.tickets_token,
            console_url=f"http://{settings.host}:{settings.console_port}",
            redis_url=settings.redis_url,
            database_url=settings.database_url,
            var_dir=var_dir,
            stack=running,
        )
    finally:
        running.stop()
