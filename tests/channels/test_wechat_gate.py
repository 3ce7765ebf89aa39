"""Safe mode cannot be bypassed with a plaintext push, and a stale timestamp is refused in every mode."""

from __future__ import annotations

import dataclasses
import time

from channels.miniprogram import MiniProgramInput
from channels.wechat import WeChatInput
from fakes.bot import FakeBot
from fakes.servers import rasa_like_server
from fakes.wechat import WeChatPusher, text_push
from tests.channels.conftest import AES_KEY, CHANNEL_PORT, OPENID, oa_pusher

DAY_AGO = int(time.time()) - 24 * 3600


async def test_safe_mode_account_refuses_a_plaintext_push(settings, http, wechat_api):
    settings = dataclasses.replace(settings, wechat_aes_key=AES_KEY)
    bot, push = FakeBot(), oa_pusher(settings, aes=True)
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        # a real safe-mode push's query, without encrypt_type and msg_signature, and a forged plaintext body
        query, _ = push.request(text_push(OPENID, "真的", 5001), aes=True)
        plain_query = {name: query[name] for name in ("timestamp", "nonce", "signature")}
        forged = text_push("oSomeoneElse", "我要撤销工单", 5002)
        async with http.post(push.url, params=plain_query, data=forged.encode()) as response:
            assert response.status == 403
        status, _, _ = await push.post(http, text_push(OPENID, "真的", 5003), aes=True)
        assert status == 200
    assert bot.texts() == ["真的"]


async def test_plaintext_pushes_are_accepted_during_the_migration_when_configured(settings, http, wechat_api):
    settings = dataclasses.replace(settings, wechat_aes_key=AES_KEY, wechat_accept_plaintext="1")
    bot = FakeBot()
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        status, _, _ = await oa_pusher(settings).post(http, text_push(OPENID, "明文", 5004))
        assert status == 200
    assert bot.texts() == ["明文"]


async def test_stale_timestamps_are_refused_in_every_mode(settings, http, wechat_api):
    safe = dataclasses.replace(settings, wechat_aes_key=AES_KEY, miniprogram_aes_key=AES_KEY)
    bot = FakeBot()
    mini_url = f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/miniprogram/webhook"
    for account, aes in [(settings, False), (safe, True)]:
        oa, mini = (
            oa_pusher(account, aes),
            WeChatPusher(mini_url, account.miniprogram_token, account.miniprogram_appid, AES_KEY if aes else ""),
        )
        async with rasa_like_server([WeChatInput(account), MiniProgramInput(account)], bot, CHANNEL_PORT) as base:
            for push in (oa, mini):
                query, body = push.request(text_push(OPENID, "重放", 5005), aes=aes, timestamp=DAY_AGO)
                async with http.post(push.url, params=query, data=body.encode()) as response:
                    assert response.status == 403, (push.url, aes)
            check = {**oa.signed_query(timestamp=DAY_AGO), "echostr": "42"}
            async with http.get(f"{base}/webhooks/wechat/webhook", params=check) as response:
                assert response.status == 403
    assert bot.received == []
