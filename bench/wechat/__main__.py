"""WeChat Official Account under load, all on loopback: a steady load of 50 users (bench.wechat.steady) and a
burst of 200 pushes at once (bench.wechat.burst), each with its baseline measured in the same run.

Run: .venv/bin/python -m bench.wechat [--baseline REV]   (needs Redis; writes bench/wechat/REPORT.md)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
from pathlib import Path

import redis

from bench.wechat import burst, steady
from bot.settings import load

REPORT = Path(__file__).with_name("REPORT.md")
REDIS_URL = "redis://127.0.0.1:6379/11"
# the connector before issue 18 (numbered choices, splitting, safe mode, the deadline under overload)
BASELINE_REVISION = "3dead1e"


async def main(baseline: str) -> None:
    settings = dataclasses.replace(
        load(),
        redis_url=REDIS_URL,
        wechat_token="bench-token",
        wechat_appid="wx_bench",
        wechat_secret="bench-secret",
        wechat_api_url=f"http://127.0.0.1:{steady.API_PORT}",
    )
    delays = steady.latencies()
    slow = sum(d > steady.WECHAT_TIMEOUT for d in delays.values())
    steady_figures = {}
    for name, channel_class in steady.CONNECTORS:
        redis.Redis.from_url(REDIS_URL).flushdb()
        steady_figures[name] = await steady.run(channel_class, settings, delays)
        print(name, steady_figures[name], flush=True)

    tree = burst.baseline_tree(baseline)
    try:
        burst_figures = {"bianmin (today)": await burst.run(REDIS_URL, None)}
        print(burst_figures, flush=True)
        burst_figures[f"baseline: the connector at {baseline}"] = await burst.run(REDIS_URL, tree)
        print(burst_figures, flush=True)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
        redis.Redis.from_url(REDIS_URL).flushdb()
    REPORT.write_text(report(steady_figures, slow, len(delays), burst_figures, baseline), encoding="utf-8")
    print(f"wrote {REPORT}")


def report(steady_figures, slow: int, total: int, burst_figures, baseline: str) -> str:
    return "\n".join(
        [
            "# WeChat Official Account under load",
            "",
            "`.venv/bin/python -m bench.wechat`: signed pushes over loopback to the connector mounted in Sanic 21.12 "
            "as `rasa run` mounts it; fake WeChat API on loopback; Redis for de-duplication, choices and the "
            "access_token. A push answered after 5 s is counted as lost (WeChat drops the reply and retries the "
            "push; the retries are not simulated).",
            "",
            "## A burst: 200 pushes at once",
            "",
            f"{burst.PUSHES} text pushes from {burst.PUSHES} citizens sent at the same moment to one connector process "
            f"(its own event loop, as in `rasa run`). Every turn of the fake bot blocks the loop for "
            f"{burst.TURN_CPU * 1000:.0f} ms, as a model prediction does (a sleep, so the figures do not depend on "
            f"other processes' CPU use): {burst.PUSHES * burst.TURN_CPU:.0f} s of work, more than WeChat's 5 s. "
            f"The baseline is the connector at commit `{baseline}` (before issue 18), extracted with "
            "`git archive` and served by the same harness (`bench/wechat/server.py`) in the same run.",
            "",
            burst.table(burst_figures),
            "",
            "Today's connector runs at most `TURNS_AT_ONCE` turns at a time, so the loop never holds more than a "
            "few turns' work and each push's 4 s deadline (taken when the push arrived) is kept: a push whose turn "
            "has not finished by then is answered `success` and its reply follows through the customer-service "
            "API. The baseline starts every turn at once: the loop is blocked for seconds, its handlers resume "
            "after WeChat has given up, and their passive replies are lost.",
            "",
            "## Steady load: 50 users",
            "",
            f"{steady.USERS} concurrent users, {steady.MESSAGES_PER_USER} text messages each ({total} pushes, at "
            f"most {steady.USERS} in flight), connector in the bench's process. Fake bot latency: {total - slow} "
            f"turns ~50-150 ms, {slow} turns 5.5-7 s (same seeded mix for both connectors).",
            "",
            steady.table(steady_figures),
            "",
            "Bianmin answers every push within the 4 s passive window (+ loopback time), so WeChat never retries; "
            "slow turns are answered `success` and reach the citizen as customer-service messages as soon as the "
            "turn ends. The naive connector holds the request for the whole turn: WeChat would have dropped every "
            "push answered after 5 s (its reply is lost and the push retried three times). The turn limit of the "
            "burst queues turns at their start (a slot is held up to 0.5 s, here also while a fake turn waits), "
            "so an answer that follows a slow turn can reach the citizen a little after the turn's 7 s.",
            "",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default=BASELINE_REVISION, help="git revision of the baseline connector")
    asyncio.run(main(parser.parse_args().baseline))
