"""The real stack, started once per test session exactly as `bianmin run` starts it.

Trained model, action server, Redis, ticket backend (SQLite in a temporary folder), agent console,
all on their own ports so a developer's running assistant is not disturbed.
"""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest
import redis

from bot.run import Stack
from bot.settings import load

E2E_REDIS_DB = 14


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
        return self.stack.env()


@pytest.fixture(scope="session")
def stack(redis_url):
    base = load()
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-e2e-"))
    e2e_redis = redis_url.rsplit("/", 1)[0] + f"/{E2E_REDIS_DB}"
    redis.Redis.from_url(e2e_redis).flushdb()
    settings = dataclasses.replace(
        base,
        redis_url=e2e_redis,
        database_url=f"sqlite:///{var_dir / 'tickets.sqlite3'}",
        rasa_port=15005, actions_port=15055, tickets_port=18070, console_port=18060,
        rasa_url="http://127.0.0.1:15005",
        actions_url="http://127.0.0.1:15055/webhook",
        tickets_url="http://127.0.0.1:18070",
        var_dir=var_dir,
        staffed_hours="00:00-24:00",
    )
    running = Stack(settings)
    running.start(timeout=300, train_quietly=True)
    try:
        yield RunningStack(
            rasa_url=settings.rasa_url, rasa_token=settings.rasa_token,
            tickets_url=settings.tickets_url, tickets_token=settings.tickets_token,
            console_url=f"http://127.0.0.1:{settings.console_port}",
            redis_url=e2e_redis, database_url=settings.database_url, var_dir=var_dir, stack=running,
        )
    finally:
        running.stop()
