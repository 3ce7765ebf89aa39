"""Steady load: 50 concurrent users, 4 messages each, against the connector in this process.

The fake bot answers 80% of turns in ~100 ms and 20% in 5.5-7 s (a slow ticket lookup). Compared in the
same run with a naive connector that waits for the turn and always replies passively. WeChat gives up
on a push after 5 s (and retries it), so every push answered later than that is a lost reply.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any, Dict, List

import aiohttp
from wechatpy import create_reply, parse_message

from channels.wechat import PASSIVE_LIMIT, WeChatInput, incoming_of
from channels.wechat_output import WeChatOutput
from channels.wechat_webhook import Answer
from fakes.bot import FakeBot
from fakes.servers import aiohttp_server, rasa_like_server
from fakes.wechat import FakeWeChatApi, WeChatPusher, text_push

USERS = 50
MESSAGES_PER_USER = 4
SLOW_SHARE = 0.2
WECHAT_TIMEOUT = 5.0
API_PORT, CHANNEL_PORT = 42101, 42102


class NaiveWeChatInput(WeChatInput):
    """Baseline: waits for the whole turn inside the request and replies passively."""

    async def _answer(self, msg: Any, on_new_message: Any, deadline: float) -> Answer:
        output = WeChatOutput(self.api, self.choices, buffered=True)
        await on_new_message(await self.user_message(incoming_of(msg), msg.source, output))
        passive = output.take_passive(PASSIVE_LIMIT)
        return Answer(create_reply(passive, msg).render() if passive else "success")


def latencies(seed: int = 2026) -> Dict[str, float]:
    """Bot latency of every message text: 80% ~100 ms, 20% between 5.5 and 7 s."""
    rng = random.Random(seed)
    return {
        f"用户{user}的第{n}个问题": (rng.uniform(5.5, 7.0) if rng.random() < SLOW_SHARE else rng.uniform(0.05, 0.15))
        for user in range(USERS)
        for n in range(MESSAGES_PER_USER)
    }


async def run(channel_class: type, settings: Any, delays: Dict[str, float]) -> Dict[str, Any]:
    """Sends every user's messages (users concurrently, each user's in order); returns the figures."""
    fake_api = FakeWeChatApi()
    bot = FakeBot(latency=lambda text: delays.get(text, 0.0))
    results: List[Dict[str, Any]] = []
    url = f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/wechat/webhook"
    pusher = WeChatPusher(url, settings.wechat_token)
    limit = asyncio.Semaphore(USERS)

    async def user(session: aiohttp.ClientSession, index: int) -> None:
        openid = f"oBench{index:03d}"
        for n in range(MESSAGES_PER_USER):
            text = f"用户{index}的第{n}个问题"
            async with limit:
                sent = time.monotonic()
                status, body, elapsed = await pusher.post(session, text_push(openid, text, index * 100 + n + 1))
            passive = body != "success"
            if passive:
                assert parse_message(body).content == f"收到：{text}"
            results.append(
                {"openid": openid, "text": text, "sent": sent, "status": status, "elapsed": elapsed, "passive": passive}
            )
            if not passive:  # the citizen sees the answer when the customer-service message arrives
                while f"收到：{text}" not in fake_api.texts_to(openid):
                    await asyncio.sleep(0.05)

    channel = channel_class(settings)
    async with aiohttp_server(fake_api.app, API_PORT), rasa_like_server([channel], bot, CHANNEL_PORT):
        started = time.monotonic()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            await asyncio.gather(*(user(session, i) for i in range(USERS)))
        wall = time.monotonic() - started
    delivered_at = {(m["touser"], m["text"]["content"]): m["at"] for m in fake_api.sent}
    answer_delays = [  # a passive reply after WeChat's 5 s never reaches the citizen
        (r["elapsed"] if r["passive"] else delivered_at[(r["openid"], f"收到：{r['text']}")] - r["sent"])
        for r in results
        if not (r["passive"] and r["elapsed"] >= WECHAT_TIMEOUT)
    ]
    elapsed = [r["elapsed"] for r in results]
    late = [r for r in results if r["elapsed"] >= WECHAT_TIMEOUT]
    return {
        "pushes": len(results),
        "passive": sum(r["passive"] for r in results),
        "api": sum(not r["passive"] for r in results),
        "max_http": max(elapsed),
        "p95_http": statistics.quantiles(elapsed, n=20)[-1],
        "late": len(late),
        "turns": len(bot.received),
        "max_answer": max(answer_delays),
        "token_calls": len(fake_api.token_calls),
        "wall": wall,
    }


def table(figures: Dict[str, Dict[str, Any]]) -> str:
    rows = []
    for name, f in figures.items():
        rows.append(
            f"| {name} | {f['pushes']} | {f['turns']} | {f['passive']} ({f['passive'] / f['pushes']:.0%}) "
            f"| {f['api']} ({f['api'] / f['pushes']:.0%}) | {f['max_http']:.2f} s | {f['p95_http']:.2f} s "
            f"| {f['late']} | {f['max_answer']:.2f} s | {f['token_calls']} | {f['wall']:.1f} s |"
        )
    return "\n".join(
        [
            "| connector | pushes | turns run | passive replies | via customer-service API | max push answered in "
            "| p95 | pushes answered ≥ 5 s (lost: WeChat gave up) | max until the citizen has an answer that arrives "
            "| stable_token calls | wall time |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *rows,
        ]
    )


CONNECTORS = [
    ("bianmin (4 s passive window, then API)", WeChatInput),
    ("naive baseline (wait for the turn)", NaiveWeChatInput),
]
