"""WeChat mini-program customer-service messages: JSON and XML pushes, safe mode, replies through the API."""

from __future__ import annotations

import dataclasses
import json
import time

from channels.miniprogram import MiniProgramInput
from channels.wechat import WeChatInput
from fakes.bot import FakeBot
from fakes.servers import rasa_like_server, wait_until
from fakes.wechat import WeChatPusher, text_push
from tests.channels.conftest import AES_KEY, CHANNEL_PORT

OPENID = "oUser_mini_1"


def pusher(settings, aes: bool = False) -> WeChatPusher:
    url = f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/miniprogram/webhook"
    return WeChatPusher(url, settings.miniprogram_token, settings.miniprogram_appid, AES_KEY if aes else "")


def json_text(content: str, msg_id: int) -> str:
    return json.dumps(
        {
            "ToUserName": "gh_mini",
            "FromUserName": OPENID,
            "CreateTime": int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id,
        },
        ensure_ascii=False,
    )


async def test_json_and_xml_pushes_are_answered_success_and_replied_through_the_api(settings, http, wechat_api):
    bot = FakeBot()
    push = pusher(settings)
    async with rasa_like_server([MiniProgramInput(settings)], bot, CHANNEL_PORT):
        assert (await push.post(http, json_text("公交卡丢了", 2001)))[:2] == (200, "success")
        assert await wait_until(lambda: len(wechat_api.sent) == 1)
        assert (await push.post(http, text_push(OPENID, "按钮", 2002)))[:2] == (200, "success")
        assert await wait_until(lambda: len(wechat_api.sent) == 2)
        await push.post(http, json_text("1", 2003))  # a numbered choice maps back to its payload
        assert await wait_until(lambda: len(wechat_api.sent) == 3)
    assert wechat_api.texts_to(OPENID) == [
        "收到：公交卡丢了",
        "请选择：\n回复1：咨询问题\n回复2：投诉建议",
        "收到：/ask_question",
    ]
    assert [m.input_channel for m in bot.received] == ["miniprogram"] * 3


async def test_safe_mode_json_push_and_tempsession_greeting(settings, http, wechat_api):
    settings = dataclasses.replace(settings, miniprogram_aes_key=AES_KEY)
    bot = FakeBot()
    push = pusher(settings, aes=True)
    enter = json.dumps(
        {
            "ToUserName": "gh_mini",
            "FromUserName": OPENID,
            "CreateTime": int(time.time()),
            "MsgType": "event",
            "Event": "user_enter_tempsession",
            "SessionFrom": "home",
        }
    )
    async with rasa_like_server([MiniProgramInput(settings)], bot, CHANNEL_PORT):
        status, body, elapsed = await push.post(http, enter, aes=True, as_json=True)
        assert (status, body) == (200, "success") and elapsed < 1.0
        again = await push.post(http, enter, aes=True, as_json=True)  # WeChat's retry of the same event
        assert again[:2] == (200, "success")
        assert await wait_until(lambda: wechat_api.sent)
        forged = {**push.signed_query(), "encrypt_type": "aes", "msg_signature": "0" * 40}
        assert (await push.post(http, json_text("伪造", 2004), query=forged))[0] == 403
    assert bot.texts() == ["/greet"]
    assert wechat_api.texts_to(OPENID)[0].startswith("您好，这里是12345便民服务热线。")


async def test_oa_and_mini_program_of_one_app_share_the_cached_token(settings, http, wechat_api):
    same_app = dataclasses.replace(
        settings, miniprogram_appid=settings.wechat_appid, miniprogram_secret=settings.wechat_secret
    )
    oa, mini = WeChatInput(same_app), MiniProgramInput(same_app)
    await oa.get_output_channel().send_text_message(OPENID, "工单已办结")
    await mini.get_output_channel().send_text_message(OPENID, "请评价")
    assert len(wechat_api.token_calls) == 1 and len(wechat_api.sent) == 2
    for channel in (oa, mini):
        await channel.api.close()
