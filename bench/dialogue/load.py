"""Load (issue 14): 20 concurrent conversations x 10 turns through the REST channel against bare
`/model/parse` at the same concurrency, in the same run; where a turn's time goes.

    nice -n 5 .venv/bin/python -m bench.dialogue.load [--conversations 20] [--turns 10] [--rounds 3]
        [--profile /tmp/rasa.prof]

Starts the whole stack as `bianmin run` does (stack.run.Stack: ticket backend, action server, Rasa, console)
on its own ports (+13000), Redis db 8 and a temporary var dir. One addition, through the Stack's
measurement hook `launchers`, not in the product: Rasa runs under bench.dialogue.rasa_timing (its own
command line with timers around the parts of a turn). Each round sends
the same texts first to `/model/parse` (each client its conversation's ten texts, one after the other),
then as conversations (each turn after the full reply to the previous one). Prints the tables; `--write` writes them into LOAD.md's "Last run" section.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import aiohttp
import redis

from bench.load.__main__ import percentile, send_turn
from bot.settings import load
from channels.guard import BUSY, FAILED, TOO_FAST
from stack.run import Stack, isolated_settings

HERE = Path(__file__).resolve().parent
REPORT = HERE / "LOAD.md"
PORT_OFFSET, REDIS_DB = 13000, 8
REFUSALS = (TOO_FAST, BUSY, FAILED)  # the channel's "send it again" answers: counted as errors
# conversation scripts: greetings, knowledge-base questions, acknowledgements, a complaint started and two
# of its questions answered, "在吗", a look-up; conversation i follows SCRIPTS[i % len(SCRIPTS)]
SCRIPTS = [
    ["你好", "身份证丢了怎么补办", "好的", "嗯", "我要投诉楼下饭店油烟太大", "对", "南开区幸福路12号", "在吗", "算了", "再见"],
    ["在吗", "办理居住证需要什么材料", "嗯嗯", "我要反映小区路灯不亮", "是的", "河西区友谊路5号", "好的", "查一下我的工单", "我忘了工单号", "谢谢"],
    ["你好", "家里暖气不热怎么办", "没有解决", "我要投诉", "小区暖气一直不热", "对", "嗯", "在吗", "取消", "好的"],
    ["你好", "查询工单进度", "BM261122K7M4Q9XZ", "好的", "社保断缴了有什么影响", "嗯", "你是机器人吗", "在吗", "谢谢", "再见"],
    ["好的", "你好", "公积金怎么提取", "知道了", "投诉工地夜间施工噪音", "对", "和平区南京路100号", "嗯", "在吗", "算了"],
]  # fmt: skip


@dataclasses.dataclass
class Run:
    name: str
    latencies: List[float]  # ms of each successful request
    errors: int
    seconds: float
    cpu: Dict[str, float]  # CPU seconds of each process during the run
    timings: Dict[str, List[float]]  # rasa_timing's [count, seconds] during the run

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    def p(self, share: float) -> float:
        return percentile(self.latencies, share)

    def row(self) -> str:
        return (
            f"| {self.name} | {self.requests} | {self.errors} | {len(self.latencies) / self.seconds:.1f} | "
            f"{self.p(0.5):.0f} | {self.p(0.95):.0f} | {self.p(0.99):.0f} | {max(self.latencies, default=0):.0f} |"
        )


# --- measuring the processes ---------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat_path: str) -> float:
    """utime + stime of a process or thread, from /proc."""
    try:
        fields = Path(stat_path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Probes:
    """CPU of the stack's processes and Rasa's timers, read before and after a run."""

    def __init__(self, running: Stack, timing_file: Path) -> None:
        self.running = running
        self.timing_file = timing_file

    def cpu(self) -> Dict[str, float]:
        usage = {}
        for name in ("rasa", "actions", "tickets", "redis"):
            try:
                process = self.running.service(name).process
            except StopIteration:
                continue
            if process is not None:
                usage[name] = cpu_seconds(f"/proc/{process.pid}/stat")
        usage["load generator (this process)"] = cpu_seconds("/proc/self/stat")
        return usage

    def timings(self) -> Dict[str, List[float]]:
        time.sleep(0.6)  # rasa_timing writes twice a second
        try:
            return json.loads(self.timing_file.read_text())
        except (OSError, ValueError):
            return {}

    def snapshot(self) -> Tuple[Dict[str, float], Dict[str, List[float]]]:
        return self.cpu(), self.timings()


def difference(after: Dict[str, Any], before: Dict[str, Any]) -> Dict[str, Any]:
    def minus(a: Any, b: Any) -> Any:
        return [x - y for x, y in zip(a, b)] if isinstance(a, list) else a - b

    zero = lambda value: [0, 0.0] if isinstance(value, list) else 0.0  # noqa: E731
    return {name: minus(value, before.get(name, zero(value))) for name, value in after.items()}


# --- the load ----------------------------------------------------------------------------------------


async def drive(rasa_url: str, token: str, count: int, turns: int, parse_only: bool) -> Tuple[List[float], int, float]:
    """`count` clients at once, `turns` requests each, the next after the full answer to the last."""
    latencies: List[float] = []
    errors: Counter = Counter()

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        sender = f"load-{uuid.uuid4().hex[:10]}"
        script = SCRIPTS[index % len(SCRIPTS)]
        for turn in range(turns):
            text = script[turn % len(script)]
            try:
                status, answer, elapsed = await send_turn(session, rasa_url, token, sender, text, parse_only)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                errors[type(error).__name__] += 1
                continue
            if status != 200:
                errors[f"HTTP {status}"] += 1
            elif not parse_only and not answer:
                errors["empty reply"] += 1
            elif not parse_only and any(message.get("text") in REFUSALS for message in answer):
                errors["refused by the channel"] += 1
            else:
                latencies.append(elapsed)

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.perf_counter()
        await asyncio.gather(*[client(session, index) for index in range(count)])
        seconds = time.perf_counter() - started
    if errors:
        print("errors:", dict(errors), flush=True)
    return latencies, sum(errors.values()), seconds


def measure(
    running: Stack, probes: Probes, name: str, count: int, turns: int, parse_only: bool, profile: bool = False
) -> Run:
    s = running.settings
    profiled = [running.service(name).process for name in ("rasa", "actions")] if profile else []
    before = probes.snapshot()
    for process in profiled:
        os.kill(process.pid, signal.SIGUSR1)  # type: ignore[union-attr]
    latencies, errors, seconds = asyncio.run(drive(s.rasa_url, s.rasa_token, count, turns, parse_only))
    for process in profiled:
        os.kill(process.pid, signal.SIGUSR2)  # type: ignore[union-attr]
    after = probes.snapshot()
    cpu, timings = (difference(a, b) for a, b in zip(after, before))
    run = Run(name, latencies, errors, seconds, cpu, timings)
    print(run.row(), flush=True)
    return run


# --- the report --------------------------------------------------------------------------------------


def cost_table(parses: Run, turns: Run) -> List[str]:
    """CPU milliseconds per request of each process, bare parse against a full turn."""
    lines = ["| process | CPU ms per bare parse | CPU ms per turn |", "| --- | --- | --- |"]
    for name in turns.cpu:
        per_parse = parses.cpu.get(name, 0.0) * 1000 / max(parses.requests, 1)
        per_turn = turns.cpu[name] * 1000 / max(turns.requests, 1)
        lines.append(f"| {name} | {per_parse:.1f} | {per_turn:.1f} |")
    return lines


def timing_table(parses: Run, turns: Run) -> List[str]:
    """Rasa's timers: calls and milliseconds per request."""
    lines = [
        "| inside Rasa | calls per parse | ms per parse | calls per turn | ms per turn |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in sorted(turns.timings):
        p_count, p_seconds = parses.timings.get(name, [0, 0.0])
        t_count, t_seconds = turns.timings[name]
        if not (t_count or p_count):
            continue
        lines.append(
            f"| {name} | {p_count / parses.requests:.2f} | {p_seconds * 1000 / parses.requests:.1f} | "
            f"{t_count / turns.requests:.2f} | {t_seconds * 1000 / turns.requests:.1f} |"
        )
    return lines


def report(runs: List[Run], count: int, turns: int, ready: float) -> str:
    parses, conversations = runs[0::2], runs[1::2]
    pooled_parse = [ms for run in parses for ms in run.latencies]
    pooled_turns = [ms for run in conversations for ms in run.latencies]
    ratios = [c.p(0.99) / p.p(0.99) for p, c in zip(parses, conversations)]
    errors = sum(run.errors for run in runs)
    last_parse, last_turns = parses[-1], conversations[-1]
    lines = [
        f"{count} clients at once, {turns} requests each, {len(conversations)} rounds (bare parse, then "
        f"conversations); stack start to ready: {ready:.0f} s; load average at the end: "
        f"{os.getloadavg()[0]:.1f}.",
        "",
        "| run | requests | errors | throughput /s | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *[run.row() for run in runs],
        "",
        f"**Ratio of p99s (full turn / bare parse):** {', '.join(f'{r:.2f}' for r in ratios)} by round; "
        f"pooled over the rounds {percentile(pooled_turns, 0.99):.0f} / {percentile(pooled_parse, 0.99):.0f} ms = "
        f"**{percentile(pooled_turns, 0.99) / percentile(pooled_parse, 0.99):.2f}x**; p50s "
        f"{percentile(pooled_turns, 0.5) / percentile(pooled_parse, 0.5):.2f}x; errors: {errors}.",
        "",
        "Where the time goes (last round):",
        "",
        *cost_table(last_parse, last_turns),
        "",
        *timing_table(last_parse, last_turns),
    ]
    return "\n".join(lines)


def write_report(body: str) -> None:
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Load\n"
    marker = "## Last run"
    head = text.split(marker, 1)[0].rstrip() + "\n\n"
    REPORT.write_text(f"{head}{marker}\n\n{body}\n", encoding="utf-8")


# --- the stack ---------------------------------------------------------------------------------------


def start_stack(
    var_dir: Path, timing_file: Path, profile_file: Optional[Path], model: Optional[Path], offset: int, db: int
) -> Tuple[Stack, Probes]:
    base = load()
    if (base.var_dir / "routing").is_dir():
        shutil.copytree(base.var_dir / "routing", var_dir / "routing")
    settings = isolated_settings(base, var_dir, port_offset=offset, redis_db=db)
    redis.Redis.from_url(settings.redis_url).flushdb()
    extra = {"BIANMIN_TIMING_FILE": str(timing_file)}
    if profile_file is not None:
        extra["BIANMIN_PROFILE_FILE"] = str(profile_file)
    timed = [sys.executable, "-m", "bench.dialogue.rasa_timing"]  # runs the part's module with timers
    running = Stack(
        settings,
        extra_env=extra,
        launchers={"rasa": timed, **({"actions": timed} if profile_file is not None else {})},
        model=model,  # a given model instead of the one for the current inputs (no training)
    )
    probes = Probes(running, timing_file)
    running.start(timeout=600, train_quietly=True)
    return running, probes


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dialogue.load")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile", type=Path, help="cProfile Rasa and the action server during the last conversations (FILE.MODULE)"
    )
    parser.add_argument("--model", type=Path, help="this model instead of the one for the current inputs")
    parser.add_argument("--port-offset", type=int, default=PORT_OFFSET, help="added to the usual ports")
    parser.add_argument("--redis-db", type=int, default=REDIS_DB)
    parser.add_argument("--write", action="store_true", help="write the tables into LOAD.md")
    args = parser.parse_args(argv)
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-dialogue-load-"))
    runs: List[Run] = []
    try:
        started = time.perf_counter()
        running, probes = start_stack(
            var_dir, var_dir / "rasa-timing.json", args.profile, args.model, args.port_offset, args.redis_db
        )
        ready = time.perf_counter() - started
        try:
            measure(running, probes, "warm-up", 5, len(SCRIPTS[0]), parse_only=False)
            for round_ in range(1, args.rounds + 1):
                for parse_only, what in ((True, "bare /model/parse"), (False, "conversations (REST)")):
                    profile = bool(args.profile) and round_ == args.rounds and not parse_only
                    name = f"{what}, round {round_}"
                    runs.append(measure(running, probes, name, args.conversations, args.turns, parse_only, profile))
        finally:
            running.stop()
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    body = report(runs, args.conversations, args.turns, ready)
    print(body)
    if args.write:
        write_report(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
