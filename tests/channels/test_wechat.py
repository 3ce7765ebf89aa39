"""WeChat Official Account connector against a fake WeChat API, with pushes built as WeChat builds them."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from redis import asyncio as aioredis
from wechatpy import parse_message

from channels.wechat import WeChatInput
from channels.wechat_api import WeChatAccount, WeChatApi
from fakes.bot import FakeBot
from fakes.servers import rasa_like_server, wait_until
from fakes.wechat import text_push
from tests.channels.conftest import AES_KEY, CHANNEL_PORT, CONVERSATION, OPENID, reply_text
from tests.channels.conftest import oa_pusher as pusher


async def test_url_verification_echoes_only_with_a_valid_signature(settings, http):
    bot = FakeBot()
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT) as base:
        query = {**pusher(settings).signed_query(), "echostr": "4567890123"}
        async with http.get(f"{base}/webhooks/wechat/webhook", params=query) as response:
            assert (response.status, await response.text()) == (200, "4567890123")
        query["signature"] = "0" * 40
        async with http.get(f"{base}/webhooks/wechat/webhook", params=query) as response:
            assert response.status == 403


async def test_fast_turn_is_answered_passively(settings, http, wechat_api):
    bot = FakeBot()
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        status, body, _ = await pusher(settings).post(http, text_push(OPENID, "两条", 1001))
    assert status == 200
    reply = parse_message(body)
    assert (reply.source, reply.target) == ("gh_bianmin", OPENID)  # passive reply goes back to the citizen
    assert reply.content == "第一条\n\n第二条"  # several bot replies joined in one passive message
    assert wechat_api.sent == []


async def test_safe_mode_push_is_decrypted_and_the_reply_encrypted(settings, http, wechat_api):
    settings = dataclasses.replace(settings, wechat_aes_key=AES_KEY)
    bot, push = FakeBot(), pusher(settings, aes=True)
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        status, body, _ = await push.post(http, text_push(OPENID, "路灯坏了", 1002), aes=True)
    assert status == 200 and "<Encrypt>" in body and "路灯" not in body
    assert reply_text(push.open_reply(body)) == "收到：路灯坏了"
    assert bot.texts() == ["路灯坏了"]


async def test_forged_signatures_are_refused_and_never_processed(settings, http, wechat_api):
    settings = dataclasses.replace(settings, wechat_aes_key=AES_KEY)
    bot, push = FakeBot(), pusher(settings, aes=True)
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        forged = {**push.signed_query(), "signature": "f" * 40}
        status, _, _ = await push.post(http, text_push(OPENID, "伪造", 1003), query=forged)
        assert status == 403
        query, body = push.request(text_push(OPENID, "伪造", 1004), aes=True)
        query["msg_signature"] = "0" * 40
        async with http.post(push.url, params=query, data=body.encode()) as response:
            assert response.status == 403
    assert bot.received == []


async def test_slow_turn_answers_success_in_time_and_delivers_through_the_api(settings, http, wechat_api):
    bot = FakeBot(slow_seconds=6.0)
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        started = time.monotonic()
        status, body, elapsed = await pusher(settings).post(http, text_push(OPENID, "slow", 1005))
        assert (status, body) == (200, "success")
        assert elapsed < 5.0
        assert await wait_until(lambda: wechat_api.sent, timeout=8)
    assert wechat_api.texts_to(OPENID) == ["让您久等了，这是查询结果。"]
    assert wechat_api.sent[0]["at"] - started >= 5.5  # delivered when the turn ended
    assert len(wechat_api.token_calls) == 1


async def test_three_retries_of_one_message_are_processed_once(settings, http, wechat_api):
    bot = FakeBot(slow_seconds=6.0)
    push = pusher(settings)
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        xml = text_push(OPENID, "slow", 1006)
        # WeChat's retries: the second and third arrive while the first turn is still running
        results = await asyncio.gather(*(push.post(http, xml) for _ in range(3)))
        assert all(status == 200 and elapsed < 5.0 for status, _, elapsed in results)
        assert await wait_until(lambda: wechat_api.sent, timeout=8)
        await asyncio.sleep(0.5)
        # a late retry of a fast message gets the same passive reply, still without a second turn
        fast = text_push(OPENID, "你好", 1007)
        first = await push.post(http, fast)
        again = await push.post(http, fast)
    assert bot.texts() == ["slow", "你好"]
    assert len(wechat_api.sent) == 1
    assert reply_text(first[1]) == reply_text(again[1]) == "收到：你好"


async def test_buttons_become_numbered_choices_and_a_number_picks_one(settings, http, wechat_api):
    bot = FakeBot()
    push = pusher(settings)
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        _, body, _ = await push.post(http, text_push(OPENID, "按钮", 1008))
        assert reply_text(body) == "请选择：\n回复1：咨询问题\n回复2：投诉建议"
        _, body, _ = await push.post(http, text_push(OPENID, "２", 1009))
        await push.post(http, text_push(OPENID, "7", 1010))
    assert bot.texts() == ["按钮", "/file_complaint", "7"]
    assert reply_text(body) == "收到：/file_complaint"


async def test_events_voice_location_and_images(settings, http, wechat_api):
    bot = FakeBot()
    push = pusher(settings)
    now = int(time.time())
    head = f"<ToUserName>gh_bianmin</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>{now}</CreateTime>"
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        _, welcome, _ = await push.post(http, f"<xml>{head}<MsgType>event</MsgType><Event>subscribe</Event></xml>")
        await push.post(
            http,
            f"<xml>{head.replace(str(now), str(now + 1))}<MsgType>event</MsgType>"
            f"<Event>CLICK</Event><EventKey>check_ticket</EventKey></xml>",
        )
        await push.post(
            http,
            f"<xml>{head}<MsgType>voice</MsgType><MediaId>m1</MediaId><Format>amr</Format>"
            f"<Recognition><![CDATA[小区停水了]]></Recognition><MsgId>1011</MsgId></xml>",
        )
        await push.post(
            http,
            f"<xml>{head}<MsgType>location</MsgType><Location_X>30.27</Location_X>"
            f"<Location_Y>120.15</Location_Y><Scale>15</Scale><Label><![CDATA[西湖区文三路]]></Label>"
            f"<MsgId>1012</MsgId></xml>",
        )
        _, image, _ = await push.post(
            http,
            f"<xml>{head}<MsgType>image</MsgType><PicUrl>http://x/y.jpg</PicUrl>"
            f"<MediaId>m2</MediaId><MsgId>1013</MsgId></xml>",
        )
    assert bot.texts() == ["/greet", "/check_ticket", "小区停水了", "西湖区文三路"]
    assert bot.received[3].metadata["location"]["latitude"] == "30.27"
    assert reply_text(welcome).startswith("您好，这里是12345便民服务热线。\n回复1：咨询问题")
    assert "图片" in reply_text(image)


async def test_long_answer_is_split_between_passive_reply_and_api(settings, http, wechat_api):
    long_text = "\n".join(f"第{i}条办事须知：请携带身份证原件及复印件到街道便民服务中心办理。" for i in range(60))

    async def long_bot(message):
        await message.output_channel.send_response(message.sender_id, {"text": long_text})

    async with rasa_like_server([WeChatInput(settings)], long_bot, CHANNEL_PORT):
        _, body, _ = await pusher(settings).post(http, text_push(OPENID, "须知", 1014))
        assert await wait_until(lambda: "".join(wechat_api.texts_to(OPENID)).endswith(long_text[-20:]), timeout=5)
    passive = reply_text(body)
    assert len(passive.encode()) <= 2048
    sent = wechat_api.texts_to(OPENID)
    assert all(len(text.encode()) <= 2048 for text in sent)
    assert "\n".join([passive, *sent]) == long_text


async def test_output_channel_sends_agent_replies_through_the_api(settings, wechat_api):
    channel = WeChatInput(settings)
    await channel.get_output_channel().send_response(
        CONVERSATION, {"text": "【人工客服】您好，我是客服小王。", "agent": "小王"}
    )
    assert wechat_api.texts_to(OPENID) == ["【人工客服】您好，我是客服小王。"]
    await channel.api.close()


async def test_access_token_is_shared_through_redis_and_refreshed_once(settings, wechat_api):
    account = WeChatAccount.from_settings(settings, "wechat")
    first = WeChatApi(account, aioredis.Redis.from_url(settings.redis_url))
    second = WeChatApi(account, aioredis.Redis.from_url(settings.redis_url))
    # two processes asking at the same moment: only one stable_token call
    tokens = await asyncio.gather(first.access_token(), second.access_token(), first.access_token())
    assert len(set(tokens)) == 1 and len(wechat_api.token_calls) == 1
    await second.send_text(OPENID, "一")
    assert len(wechat_api.token_calls) == 1
    wechat_api.expire_token()  # WeChat answers 40001: both refresh at once, one stable_token call
    await asyncio.gather(first.send_text(OPENID, "二"), second.send_text(OPENID, "三"))
    assert len(wechat_api.token_calls) == 2
    assert sorted(wechat_api.texts_to(OPENID)) == ["一", "三", "二"]
    for api in (first, second):
        await api.close()
        await api.redis.close()


async def test_malformed_signed_push_gets_a_polite_success_not_an_error(settings, http, wechat_api):
    bot = FakeBot()
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        for body in ["<xml><MsgType>text", "not xml at all", "<xml><FromUserName>o</FromUserName></xml>"]:
            status, reply, _ = await pusher(settings).post(http, body)
            assert (status, reply) == (200, "success")
    assert bot.received == []
