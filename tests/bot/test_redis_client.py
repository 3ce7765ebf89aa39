"""The asyncio Redis client of the long-running processes goes on after its Redis restarts (a private
redis-server on its own port and folder, killed as a crash would)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bot.redis_client import async_redis
from stack.run import redis_argv, redis_reachable

PORT = 23990  # inside the test port range, below Linux's ephemeral ports


def start_redis(data_dir: Path) -> subprocess.Popen:
    process = subprocess.Popen(redis_argv(PORT, data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(50):
        if redis_reachable(f"redis://127.0.0.1:{PORT}/0"):
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("redis-server did not start")


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
async def test_commands_and_pipelines_go_on_after_a_redis_restart(tmp_path: Path):
    server = start_redis(tmp_path)
    client = async_redis(f"redis://127.0.0.1:{PORT}/0")
    try:
        await client.set("kept", "yes")
        async with client.pipeline(transaction=False) as pipe:
            await pipe.incr("count").execute()
        server.kill()
        server.wait()
        await asyncio.sleep(1.2)  # the supervisor's first restart comes after a second
        server = start_redis(tmp_path)
        async with client.pipeline(transaction=False) as pipe:
            assert await pipe.incr("count").expire("count", 60).execute() == [2, True]
        assert await client.get("kept") == b"yes"  # and the append-only file kept the data
    finally:
        await client.close()
        server.kill()
        server.wait()
