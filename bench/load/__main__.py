"""Load: 50 concurrent conversations x 10 turns on one Rasa server and on two behind haproxy (issue 15),
each against bare `/model/parse` at the same concurrency in the same run; then the two-server load again
with and without a 100,000-character message sent in the middle, to see how it changes the others' p99.

That change is small next to the noise of a shared machine (identical runs differ by tens of percent in
p99), so it is measured in repeated paired trials: each round runs the load once without and once with the
long message, in alternating order (without-with, then with-without, ...), and the report gives every
round's figures, the median change with its spread, the change of the pooled p99, and how long the long
message itself took to be refused, alone and under load.

`.venv/bin/python -m bench.load [--conversations 50] [--turns 10] [--rounds 5]` starts the local cluster
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
from typing import Any, List, Optional, Tuple

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
ROUNDS = 5


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


@dataclasses.dataclass
class Run:
    name: str
    latencies: List[float]
    errors: int
    seconds: float
    long_ms: float = float("nan")  # the long message's answer time, in a run that sent it

    def row(self) -> str:
        done = len(self.latencies)
        return (
            f"| {self.name} | {done + self.errors} | {self.errors} | {done / self.seconds:.1f} | "
            f"{percentile(self.latencies, 0.5):.0f} | {percentile(self.latencies, 0.99):.0f} | "
            f"{max(self.latencies, default=float('nan')):.0f} |"
        )


async def refuse_long(session: aiohttp.ClientSession, url: str, token: str) -> float:
    """Sends the 100,000-character message; the milliseconds until its (refusing) answer."""
    started = time.perf_counter()
    async with session.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": f"long-{uuid.uuid4().hex[:8]}", "message": LONG},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        answer = await response.json(content_type=None)
    assert response.status == 200 and "100000字" in answer[0]["text"], answer
    return (time.perf_counter() - started) * 1000


async def send_turn(
    session: aiohttp.ClientSession, url: str, token: str, sender: str, text: str, parse_only: bool
) -> Tuple[int, Any, float]:
    """One bare `/model/parse` or one full turn through the REST channel: (status, answer, milliseconds).
    Transport errors (aiohttp.ClientError, asyncio.TimeoutError, ValueError) are the caller's to count."""
    if parse_only:
        target, body = f"{url}/model/parse?token={token}", {"text": text}
    else:
        target, body = f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text}
    started = time.perf_counter()
    async with session.post(target, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
        answer = await response.json(content_type=None)
    return response.status, answer, (time.perf_counter() - started) * 1000


async def conversations(
    url: str, token: str, count: int, turns: int, parse_only: bool, long_at: Optional[float] = None
) -> Run:
    """`count` conversations at once, `turns` messages each (the next after the answer to the last)."""
    latencies: List[float] = []
    errors = 0
    long_latency: List[float] = []

    async def one(session: aiohttp.ClientSession, sender: str) -> None:
        nonlocal errors
        for turn in range(turns):
            try:
                status, answer, elapsed = await send_turn(
                    session, url, token, sender, TURNS[turn % len(TURNS)], parse_only
                )
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                errors += 1
                continue
            if status == 200 and (parse_only or bool(answer)):
                latencies.append(elapsed)
            else:
                errors += 1

    async def long_message(session: aiohttp.ClientSession, delay: float) -> None:
        await asyncio.sleep(delay)
        long_latency.append(await refuse_long(session, url, token))

    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.perf_counter()
        jobs = [one(session, f"load-{uuid.uuid4().hex[:10]}") for _ in range(count)]
        if long_at is not None:
            jobs.append(long_message(session, long_at))
        await asyncio.gather(*jobs)
        seconds = time.perf_counter() - started
    return Run("", latencies, errors, seconds, *long_latency)


@dataclasses.dataclass
class Trial:
    """One round of the long-message experiment: the same load without and with the message."""

    number: int
    without: Run
    with_long: Run

    @property
    def change(self) -> float:
        """The others' p99 with the long message, against without, in percent."""
        return (percentile(self.with_long.latencies, 0.99) / percentile(self.without.latencies, 0.99) - 1) * 100

    @property
    def order(self) -> str:
        return "without, with" if self.number % 2 else "with, without"

    def row(self) -> str:
        p99 = [percentile(run.latencies, 0.99) for run in (self.without, self.with_long)]
        errors = self.without.errors + self.with_long.errors
        return (
            f"| {self.number} | {self.order} | {p99[0]:.0f} | {p99[1]:.0f} | {self.change:+.1f} | "
            f"{self.with_long.long_ms:.0f} | {errors} |"
        )


@dataclasses.dataclass
class Measurement:
    baselines: List[Run]  # one server, two servers: bare parse and conversations each
    trials: List[Trial]
    long_alone_ms: List[float]  # the long message refused with no other load


async def measure(cluster: Cluster, count: int, turns: int, rounds: int = ROUNDS) -> Measurement:
    s = cluster.settings
    one = f"http://{s.host}:{cluster.rasa_ports[0]}"
    two = s.rasa_url
    token = s.rasa_token
    await conversations(two, token, 4, 2, False)  # warm-up: both servers, the action servers, the caches
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        long_alone = [await refuse_long(session, two, token) for _ in range(5)]
    print(f"long message alone: {', '.join(f'{ms:.0f}' for ms in long_alone)} ms", flush=True)
    baselines = []
    for name, url, parse_only in [
        ("one server: /model/parse (baseline)", one, True),
        ("one server: conversations", one, False),
        ("two servers + haproxy: /model/parse (baseline)", two, True),
        ("two servers + haproxy: conversations", two, False),
    ]:
        run = await conversations(url, token, count, turns, parse_only)
        run.name = name
        baselines.append(run)
        print(run.row(), flush=True)
    middle = baselines[-1].seconds / 2
    trials = []
    for number in range(1, rounds + 1):
        pair = {}
        for with_long in (False, True) if number % 2 else (True, False):  # alternating: drift cancels out
            pair[with_long] = await conversations(two, token, count, turns, False, middle if with_long else None)
        trial = Trial(number, pair[False], pair[True])
        trials.append(trial)
        print(trial.row(), flush=True)
    return Measurement(baselines, trials, long_alone)


def spread(values: List[float]) -> str:
    return f"{min(values):+.1f} to {max(values):+.1f}"


def long_message_section(result: Measurement) -> List[str]:
    trials = result.trials
    changes = [trial.change for trial in trials]
    without = [percentile(trial.without.latencies, 0.99) for trial in trials]
    pooled_without = percentile([ms for trial in trials for ms in trial.without.latencies], 0.99)
    pooled_with = percentile([ms for trial in trials for ms in trial.with_long.latencies], 0.99)
    under_load = [trial.with_long.long_ms for trial in trials]
    return [
        "## A 100,000-character message in the middle",
        "",
        f"{len(trials)} rounds; each runs the two-server load once without and once with the long message (sent "
        "half-way through the run), in alternating order. Columns: the other conversations' p99 without and with "
        "it, the change, and how long the long message waited for its refusal.",
        "",
        "| round | order | p99 without ms | p99 with ms | change % | long message ms | errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[trial.row() for trial in trials],
        "",
        f"- **Change of the others' p99: median {statistics.median(changes):+.1f} %** (rounds: {spread(changes)} %). "
        f"Pooled over the rounds ({sum(len(t.without.latencies) for t in trials)} turns each side): "
        f"{pooled_without:.0f} ms without, {pooled_with:.0f} ms with, {(pooled_with / pooled_without - 1) * 100:+.1f} %.",
        f"- Noise: the runs without the message alone range {min(without):.0f}–{max(without):.0f} ms in p99 "
        f"({(max(without) / min(without) - 1) * 100:.0f} % apart).",
        f"- The long message is refused (polite answer, the model never reads it) in "
        f"{statistics.median(result.long_alone_ms):.0f} ms alone (median of {len(result.long_alone_ms)}: "
        f"{', '.join(f'{ms:.0f}' for ms in result.long_alone_ms)}) and in "
        f"{', '.join(f'{ms:.0f}' for ms in under_load)} ms under the load, where every request first waits for "
        "the busy event loop (the others' p50 is of the same order).",
    ]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
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
        result = asyncio.run(measure(cluster, args.conversations, args.turns, args.rounds))
    finally:
        cluster.stop()
    base_one, one, base_two, two = result.baselines
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
        *[run.row() for run in result.baselines],
        "",
        f"Two servers vs one: {len(two.latencies) / two.seconds / (len(one.latencies) / one.seconds):.2f}x the "
        "throughput of conversations (on 2 cores the two Rasa processes share the same CPUs, so the balancer buys "
        "availability here rather than speed; on two machines the CPU doubles too).",
        f"Conversation turns vs bare parse: p50 {percentile(two.latencies, 0.5) / percentile(base_two.latencies, 0.5):.1f}x "
        f"on two servers, {percentile(one.latencies, 0.5) / percentile(base_one.latencies, 0.5):.1f}x on one (a turn "
        "is a parse plus the dialogue policies, the action server calls and the tracker in Redis).",
        "",
        *long_message_section(result),
    ]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
