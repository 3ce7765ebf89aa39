"""Fixtures shared by the whole suite: a reachable Redis, and Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bot.settings import load
from stack.run import StackError, ensure_redis

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
