"""Load: 50 concurrent conversations x 10 turns on one Rasa server and on two behind haproxy (issue 15),
each against bare `/model/parse` at the same concurrency in the same run; then the two-server load again
with a 100,000-character message sent in the middle, to see how it changes the others' p99.

`.venv/bin/python -m bench.load [--conversations 50] [--turns 10]` starts the local cluster
(stack/cluster.py: two Rasa servers, two action servers, haproxy, Redis db 9, ports + 22000) and writes
bench/load/REPORT.md. "One server" is rasa-1's own port; "two" is haproxy's. The conversations go through
the REST channel (with the Rasa token), the path every channel's messages take into Rasa.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import List, Optional

import aiohttp
import redis

from bot.settings import load
from stack.cluster import Cluster
from stack.run import isolated_settings

REPORT = Path(__file__).resolve().parent / "REPORT.md"
# one conversation's turns: greetings, knowledge-base questions, feedback, small talk (no tickets are filed)
TURNS = [
    "你好",
    "家里暖气不热怎么办",
    "解决了",
    "谢谢",
    "身份证丢了怎么补办",
    "没有解决",
    "办理居住证需要什么材料",
    "好的",
    "你是机器人吗",
    "再见",
]
LONG = "吵" * 100_000
PAIRS = 3


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


@dataclasses.dataclass
class Run:
    name: str
    latencies: List[float]
    errors: int
    seconds: float

    def row(self) -> str:
        done = len(self.latencies)
        return (
            f"| {self.name} | {done + self.errors} | {self.errors} | {done / self.seconds:.1f} | "
            f"{percentile(self.latencies, 0.5):.0f} | {percentile(self.latencies, 0.99):.0f} | "
            f"{max(self.latencies, default=float('nan')):.0f} |"
        )


async def conversations(
    url: str, token: str, count: int, turns: int, parse_only: bool, long_at: Optional[float] = None
) -> Run:
    """`count` conversations at once, `turns` messages each (the next after the answer to the last)."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies: List[float] = []
    errors = 0
    long_latency: List[float] = []

    async def one(session: aiohttp.ClientSession, sender: str) -> None:
        nonlocal errors
        for turn in range(turns):
            text = TURNS[turn % len(TURNS)]
            if parse_only:
                target, body = f"{url}/model/parse?token={token}", {"text": text}
            else:
                target, body = f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text}
            started = time.perf_counter()
            try:
                async with session.post(target, json=body, headers=headers) as response:
                    answer = await response.json(content_type=None)
                    ok = response.status == 200 and (parse_only or bool(answer))
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1

    async def long_message(session: aiohttp.ClientSession, delay: float) -> None:
        await asyncio.sleep(delay)
        started = time.perf_counter()
        async with session.post(
            f"{url}/webhooks/rest/webhook", json={"sender": "long", "message": LONG}, headers=headers
        ) as response:
            await response.read()
        long_latency.append((time.perf_counter() - started) * 1000)

    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.perf_counter()
        jobs = [one(session, f"load-{uuid.uuid4().hex[:10]}") for _ in range(count)]
        if long_at is not None:
            jobs.append(long_message(session, long_at))
        await asyncio.gather(*jobs)
        seconds = time.perf_counter() - started
    name = ""
    run = Run(name, latencies, errors, seconds)
    run.long_ms = long_latency[0] if long_latency else None  # type: ignore[attr-defined]
    return run


async def measure(cluster: Cluster, count: int, turns: int) -> List[Run]:
    s = cluster.settings
    one = f"http://{s.host}:{cluster.rasa_ports[0]}"
    two = s.rasa_url
    token = s.rasa_token
    await conversations(two, token, 4, 2, False)  # warm-up: both servers, the action servers, the caches
    runs = []
    for name, url, parse_only, long_at in [
        ("one server: /model/parse (baseline)", one, True, None),
        ("one server: conversations", one, False, None),
        ("two servers + haproxy: /model/parse (baseline)", two, True, None),
        ("two servers + haproxy: conversations", two, False, None),
        # the long message's effect is measured in alternating pairs: one run alone is within the noise
        *[
            (f"two servers + haproxy: conversations{tag} (pair {pair})", two, False, long_at)
            for pair in range(1, PAIRS + 1)
            for tag, long_at in [("", None), (", 100,000-character message in the middle", "middle")]
        ],
    ]:
        at = None
        if long_at == "middle":
            at = runs[-1].seconds / 2
        run = await conversations(url, token, count, turns, parse_only, at)
        run.name = name
        runs.append(run)
        print(run.row(), flush=True)
    return runs


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args(argv)
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-load-"))
    base = load()
    if (base.var_dir / "routing").is_dir():
        shutil.copytree(base.var_dir / "routing", var_dir / "routing")
    settings = isolated_settings(base, var_dir, port_offset=22000, redis_db=9)
    redis.Redis.from_url(settings.redis_url).flushdb()
    cluster = Cluster(settings)
    started = time.perf_counter()
    cluster.start()
    ready = time.perf_counter() - started
    try:
        runs = asyncio.run(measure(cluster, args.conversations, args.turns))
    finally:
        cluster.stop()
    base_one, one, base_two, two, *pairs = runs
    changes = [
        (percentile(b.latencies, 0.99) / percentile(a.latencies, 0.99) - 1) * 100
        for a, b in zip(pairs[::2], pairs[1::2])
    ]
    long_ms = [getattr(run, "long_ms", float("nan")) for run in pairs[1::2]]
    lines = [
        "# Load: concurrent conversations on one and two Rasa servers",
        "",
        f"Machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, shared with "
        "other work. Command: `.venv/bin/python -m bench.load`. Local cluster (stack/cluster.py): two Rasa "
        "servers, two action servers, haproxy 2.6, one Redis, ticket backend. "
        f"{args.conversations} conversations at once, {args.turns} turns each over the REST channel (each turn "
        "sent after the answer to the previous one); the baseline sends the same texts to bare `/model/parse` "
        '(NLU only) at the same concurrency, in the same run. "One server" is rasa-1\'s own port, "two" is '
        f"haproxy's. Cluster start to ready: {ready:.0f} s.",
        "",
        "| run | requests | errors | throughput /s | p50 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[run.row() for run in runs],
        "",
        f"The 100,000-character message (refused by the channel with a polite answer, the model never reads "
        f"it) was answered in {', '.join(f'{ms:.0f}' for ms in long_ms)} ms; the other conversations' p99 changed "
        f"by {', '.join(f'{c:+.1f}' for c in changes)} % against the run just before it without the message "
        f"(median {statistics.median(changes):+.1f} %). The pairs of runs without it differ among themselves by "
        f"{(max(percentile(r.latencies, 0.99) for r in pairs[::2]) / min(percentile(r.latencies, 0.99) for r in pairs[::2]) - 1) * 100:.0f} %: "
        "the noise of a shared 2-core machine.",
        f"Two servers vs one: {len(two.latencies) / two.seconds / (len(one.latencies) / one.seconds):.2f}x the "
        "throughput of conversations (on 2 cores the two Rasa processes share the same CPUs, so the balancer buys "
        "availability here rather than speed; on two machines the CPU doubles too).",
        f"Conversation turns vs bare parse: p50 {percentile(two.latencies, 0.5) / percentile(base_two.latencies, 0.5):.1f}x "
        f"on two servers, {percentile(one.latencies, 0.5) / percentile(base_one.latencies, 0.5):.1f}x on one (a turn "
        "is a parse plus the dialogue policies, the action server calls and the tracker in Redis).",
    ]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
