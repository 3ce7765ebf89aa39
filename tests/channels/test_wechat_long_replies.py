"""A long confirmation summary on the Official Account: the passive reply is filled first, the rest follows in
order after it, cut only after sentences, and the citizen's words arrive unchanged."""

from __future__ import annotations

import asyncio
import time

from channels.wechat import WeChatInput
from fakes.servers import aiohttp_server, rasa_like_server, wait_until
from fakes.wechat import FakeWeChatApi, text_push
from tests.channels.conftest import CHANNEL_PORT, OPENID, WECHAT_API_PORT, oa_pusher, reply_text

DESCRIPTION = "".join(
    f"楼下饭店的排油烟管道直通我家窗户，油烟很大，第{i}次反映，已经持续{i + 3}个月。" for i in range(50)
)  # about 5,500 bytes, as the citizen typed it
SUMMARY = f"请确认您的诉求：\n类别：环境保护\n描述：{DESCRIPTION}\n地址：南开区鞍山西道100号\n电话：138****5678"
MENU = [{"title": "确认提交", "payload": "/affirm"}, {"title": "修改信息", "payload": "/deny"}]


async def summary_bot(message):
    await message.output_channel.send_response(message.sender_id, {"text": SUMMARY, "buttons": MENU})


async def test_long_summary_fills_the_passive_reply_and_the_rest_follows_in_order(settings, http):
    api = FakeWeChatApi(ack_seconds=0.2)
    async with (
        aiohttp_server(api.app, WECHAT_API_PORT),
        rasa_like_server([WeChatInput(settings)], summary_bot, CHANNEL_PORT),
    ):
        _, body, _ = await oa_pusher(settings).post(http, text_push(OPENID, "确认", 4001))
        answered = time.monotonic()
        assert await wait_until(lambda: len(api.sent) >= 2 and "acked_at" in api.sent[-1], timeout=5)
        await asyncio.sleep(0.5)  # nothing more is on its way
    passive, rest = reply_text(body), api.texts_to(OPENID)
    pieces = [passive, *rest]
    assert len(passive.encode()) > 1500 and len(rest) == 2  # filled first (it carried 133 bytes)
    assert all(len(piece.encode()) <= 2000 for piece in pieces)
    full = SUMMARY + "\n回复1：确认提交\n回复2：修改信息"
    assert all(piece in full for piece in pieces)  # nothing inserted, nothing changed
    assert "".join(pieces).replace("\n", "") == full.replace("\n", "")
    assert all(
        full[full.index(piece) + len(piece) :][:1] in ("", "\n") or piece.endswith("。") for piece in pieces
    )  # every cut at a line or sentence end
    assert api.sent[0]["at"] >= answered  # after the passive reply
    assert all(later["at"] >= earlier["acked_at"] for earlier, later in zip(api.sent, api.sent[1:]))
