"""One Official Account connector served in a process of its own, as `rasa run` mounts it, with a fake bot
whose every turn blocks the event loop for --turn-cpu seconds (as a model prediction does). Run by
bench.wechat.burst; whichever `channels` package comes first on PYTHONPATH is served (today's, or the
baseline revision's). Prints "ready" once listening; stops when stdin closes."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys

from bot.settings import load
from channels.wechat import WeChatInput
from fakes.bot import FakeBot
from fakes.servers import rasa_like_server


async def serve(args: argparse.Namespace) -> None:
    settings = dataclasses.replace(
        load(),
        redis_url=args.redis_url,
        wechat_token=args.token,
        wechat_appid="wx_bench",
        wechat_secret="bench-secret",
        wechat_api_url=args.api_url,
    )
    bot = FakeBot(cpu_seconds=args.turn_cpu)
    async with rasa_like_server([WeChatInput(settings)], bot, args.port):
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def main() -> None:
    parser = argparse.ArgumentParser()
    for name, kind in [
        ("--port", int),
        ("--api-url", str),
        ("--redis-url", str),
        ("--token", str),
        ("--turn-cpu", float),
    ]:
        parser.add_argument(name, type=kind, required=True)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
