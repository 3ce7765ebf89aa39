"""Fixtures shared by the whole suite: a reachable Redis, Chromium for browser tests, a private action server."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from bot.settings import ROOT, load
from stack.run import StackError, ensure_redis
from tests.ticket_backend.conftest import unused_port

ACTION_SERVER_START_TIMEOUT = 240  # it loads the knowledge base, jieba and the routing model before answering

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def redis_url():
    """URL of a Redis that answers (a local redis-server is started if none runs)."""
    settings = load()
    log_dir = Path(tempfile.mkdtemp(prefix="bianmin-redis-"))
    try:
        process = ensure_redis(settings, log_dir)
    except StackError as error:
        pytest.fail(str(error))
    yield settings.redis_url
    if process is not None:
        process.terminate()
        process.wait()


@pytest.fixture(scope="session")
def chromium_path():
    """Debian's chromium; a missing browser fails in CI and skips with the install hint elsewhere."""
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        message = "chromium is not installed: run `sudo apt-get install chromium` (Debian/Ubuntu)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
async def browser(chromium_path):
    """A headless Chromium driven by playwright (no browser download: Debian's binary)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@contextmanager
def running_action_server(var_dir: Path, redis_url: str) -> Iterator[str]:
    """`python -m actions` on a free port with its own var dir and no ticket backend; yields its webhook URL
    (with the caller's token, as Rasa sends it) once /health answers."""
    port, token = unused_port(), secrets.token_urlsafe(16)
    env = dict(
        os.environ,
        BIANMIN_VAR_DIR=str(var_dir),
        BIANMIN_ACTIONS_PORT=str(port),
        REDIS_URL=redis_url,
        BIANMIN_EMBEDDINGS_CACHE=str(load().embeddings_cache),
        BIANMIN_TICKETS_URL="http://127.0.0.1:9",
        BIANMIN_ACTIONS_TOKEN=token,
    )
    log_path = var_dir / "actions.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "actions"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + ACTION_SERVER_START_TIMEOUT
            while not _answers(f"http://127.0.0.1:{port}/health"):
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}/webhook?token={token}"
            assert server.poll() is None, "the action server stopped during the test"
        except Exception:
            print(log_path.read_text()[-3000:])  # the server's side of a failure
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
