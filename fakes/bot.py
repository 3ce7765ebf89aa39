"""A fake Rasa bot: plays `on_new_message` with canned answers, latency and (blocking) CPU time."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Callable, List

from rasa.core.channels.channel import UserMessage

GREETING = "您好，这里是12345便民服务热线。"
MENU = [{"title": "咨询问题", "payload": "/ask_question"}, {"title": "投诉建议", "payload": "/file_complaint"}]


@dataclass
class FakeBot:
    """Echoes, shows buttons for "按钮", takes `slow_seconds` for "slow"; `latency(text)` seconds of waiting
    and `cpu_seconds` of loop-blocking work (as Rasa's NLU does) before each answer."""

    slow_seconds: float = 6.0
    latency: Callable[[str], float] = lambda text: 0.0
    cpu_seconds: float = 0.0
    received: List[UserMessage] = field(default_factory=list)

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        text = message.text or ""
        if self.cpu_seconds:
            time.sleep(self.cpu_seconds)  # blocks the event loop like a model prediction does
        await asyncio.sleep(self.slow_seconds if text == "slow" else self.latency(text))
        out, sender = message.output_channel, message.sender_id
        if text == "/greet":
            await out.send_response(sender, {"text": GREETING, "buttons": [dict(b) for b in MENU]})
        elif text == "按钮":
            await out.send_response(sender, {"text": "请选择：", "buttons": [dict(b) for b in MENU]})
        elif text == "两条":
            await out.send_response(sender, {"text": "第一条"})
            await out.send_response(sender, {"text": "第二条"})
        elif text == "长按钮":
            payload = "/inform" + json.dumps({"address": "幸福路" * 20}, ensure_ascii=False)
            await out.send_response(sender, {"text": "地址对吗？", "buttons": [{"title": "对", "payload": payload}]})
        elif text == "slow":
            await out.send_response(sender, {"text": "让您久等了，这是查询结果。"})
        else:
            await out.send_response(sender, {"text": f"收到：{text}"})

    def texts(self) -> List[str]:
        return [m.text or "" for m in self.received]
