"""200 pushes at once against one connector process, today's connector and the baseline revision's.

The connector runs in a subprocess (WeChat's servers do not share its event loop); its fake bot blocks the
loop for TURN_CPU seconds per turn, so the burst holds 6 s of work: more than WeChat's 5 s. The fake
WeChat API runs here and records every customer-service message."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from contextlib import asynccontextmanager
from io import BytesIO
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Optional

import aiohttp
import redis
from wechatpy import parse_message

from fakes.servers import aiohttp_server
from fakes.wechat import FakeWeChatApi, WeChatPusher, text_push

ROOT = Path(__file__).resolve().parents[2]
PUSHES = 200
TURN_CPU = 0.03  # seconds each turn blocks the connector's event loop
WECHAT_TIMEOUT = 5.0
API_PORT, CHANNEL_PORT = 42111, 42112
TOKEN = "bench-token"
SETTLE = 30.0  # seconds to wait for the customer-service messages after the burst


def baseline_tree(revision: str) -> Path:
    """channels/ and bot/ of `revision` (git archive, read-only), in a temporary folder."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "channels", "bot"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="bianmin-baseline-"))
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder)
    return folder


@asynccontextmanager
async def connector_process(redis_url: str, tree: Optional[Path]) -> AsyncIterator[None]:
    """The connector of `tree` (None: today's) listening on CHANNEL_PORT."""
    path = [str(tree)] if tree else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*path, str(ROOT)])}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.wechat.server",
            "--port",
            str(CHANNEL_PORT),
            "--redis-url",
            redis_url,
            "--api-url",
            f"http://127.0.0.1:{API_PORT}",
            "--token",
            TOKEN,
            "--turn-cpu",
            str(TURN_CPU),
        ],
        cwd=tree or ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,  # cwd: sys.path[0]
    )
    try:
        ready = await asyncio.get_running_loop().run_in_executor(None, process.stdout.readline)
        if ready.strip() != "ready":
            raise RuntimeError(f"connector process did not start (exit code {process.poll()})")
        yield
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def run(redis_url: str, tree: Optional[Path]) -> Dict[str, Any]:
    """Sends the burst; returns its figures."""
    redis.Redis.from_url(redis_url).flushdb()
    api = FakeWeChatApi()
    pusher = WeChatPusher(f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/wechat/webhook", TOKEN)
    expected = {f"oBurst{i:03d}": f"收到：问题{i}" for i in range(PUSHES)}
    async with aiohttp_server(api.app, API_PORT), connector_process(redis_url, tree):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
            sent = time.monotonic()
            results = await asyncio.gather(
                *(pusher.post(http, text_push(openid, f"问题{i}", 7000 + i)) for i, openid in enumerate(expected))
            )
        deadline = time.monotonic() + SETTLE
        passive = [
            (openid, body, seconds) for openid, (_, body, seconds) in zip(expected, results) if body != "success"
        ]
        while len(passive) + len(api.sent) < PUSHES and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # anything sent twice would arrive now
    elapsed = [seconds for _, _, seconds in results]
    # a passive reply answered after WeChat's 5 s never reaches the citizen
    delivered = Counter(
        [(openid, parse_message(body).content) for openid, body, seconds in passive if seconds < WECHAT_TIMEOUT]
        + [(m["touser"], m["text"]["content"]) for m in api.sent]
    )
    once = sum(delivered[(openid, text)] == 1 for openid, text in expected.items())
    answered_at = [m["at"] - sent for m in api.sent]
    return {
        "pushes": len(results),
        "late": sum(seconds >= WECHAT_TIMEOUT for seconds in elapsed),
        "max_http": max(elapsed),
        "p95_http": statistics.quantiles(elapsed, n=20)[-1],
        "passive": len(passive),
        "lost_passive": sum(seconds >= WECHAT_TIMEOUT for _, _, seconds in passive),
        "api": len(api.sent),
        "once": once,
        "twice": sum(count > 1 for count in delivered.values()),
        "last_answer": max([*answered_at, *[s for s in elapsed if s < WECHAT_TIMEOUT]], default=None),
    }


def table(figures: Dict[str, Dict[str, Any]]) -> str:
    rows = [
        "| connector | pushes | answered after 5 s | max answered in | p95 | passive replies (lost: after 5 s) "
        "| customer-service messages | messages answered exactly once | answered twice | last answer reached the "
        "citizen |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, f in figures.items():
        rows.append(
            f"| {name} | {f['pushes']} | {f['late']} | {f['max_http']:.2f} s | {f['p95_http']:.2f} s "
            f"| {f['passive']} ({f['lost_passive']}) | {f['api']} | {f['once']} / {f['pushes']} "
            f"| {f['twice']} | {_seconds(f['last_answer'])} |"
        )
    return "\n".join(rows)


def _seconds(value: Optional[float]) -> str:
    return "none arrived" if value is None else f"{value:.2f} s"
