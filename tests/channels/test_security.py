"""Issue 15 on the channel side: who a conversation belongs to, system intents, limits with a polite answer,
and no message acknowledged and dropped. Each test failed on the channels before issue 15."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

from rasa.core.lock_store import RedisLockStore

from channels.guard import BUSY, FAILED, NOT_A_BUTTON, TOO_FAST, Guard, Limits
from channels.rest import TokenRestInput
from channels.telegram import TelegramInput
from channels.wechat import WeChatInput
from fakes.bot import FakeBot
from fakes.servers import rasa_like_server, wait_until
from fakes.telegram import bot_user, callback_query, message, private_chat, update, user, wire
from fakes.wechat import text_push
from tests.channels.conftest import CHANNEL_PORT, OPENID, oa_pusher, reply_text

REST = f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/rest/webhook"
TELEGRAM = f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/telegram/webhook"
EXTERNAL = '/EXTERNAL_ticket_update{"ticket_number":"BM261122K7M4Q9XZ","ticket_status":"已办结"}'
RATE = '/rate{"ticket_rating":"不满意"}'


def auth(settings):
    return {"Authorization": f"Bearer {settings.rasa_token}"}


async def rest(http, settings, sender, text, **extra):
    async with http.post(REST, json={"sender": sender, "message": text, **extra}, headers=auth(settings)) as response:
        assert response.status == 200, await response.text()
        return [m.get("text") for m in await response.json()]


# --- 1. identity ------------------------------------------------------------------------------------------


async def test_rest_needs_the_token_and_cannot_reach_another_channels_conversation(settings, http):
    bot = FakeBot()
    async with rasa_like_server([TokenRestInput(settings)], bot, CHANNEL_PORT):
        body = {"sender": f"wechat:{OPENID}", "message": "我的电话是多少"}
        async with http.post(REST, json=body) as response:
            assert response.status == 401
        async with http.post(REST, json=body, headers={"Authorization": "Bearer guessed"}) as response:
            assert response.status == 401
        async with http.post(REST, json=body, headers=auth(settings)) as response:
            assert response.status == 200
        for bad in [[1, 2], "text", {"sender": ["a"], "message": "x"}, {"sender": "a", "message": 3}]:
            async with http.post(REST, json=bad, headers=auth(settings)) as response:
                assert response.status == 400 and "error" in await response.json()
    assert [m.sender_id for m in bot.received] == [f"rest:wechat:{OPENID}"]  # never the WeChat citizen's


async def test_wechat_and_telegram_conversations_are_namespaced(settings, http, wechat_api, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([WeChatInput(settings), TelegramInput(settings)], bot, CHANNEL_PORT):
        await oa_pusher(settings).post(http, text_push(OPENID, "你好", 5001))
        chat = private_chat(42)
        async with http.post(
            TELEGRAM,
            json=wire(update(message=message("你好", user(42), chat))),
            headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"},
        ):
            pass
        assert await wait_until(lambda: len(bot.received) == 2)
    assert sorted(m.sender_id for m in bot.received) == [f"tg:{42}", f"wechat:{OPENID}"]


# --- 4. system intents --------------------------------------------------------------------------------------


async def test_citizens_cannot_send_system_intents_or_payloads_never_offered(settings, http):
    bot = FakeBot()
    async with rasa_like_server([TokenRestInput(settings)], bot, CHANNEL_PORT):
        assert await rest(http, settings, "mallory", EXTERNAL) == [NOT_A_BUTTON]
        assert await rest(http, settings, "mallory", "/EXTERNAL_handback") == [NOT_A_BUTTON]
        assert await rest(http, settings, "mallory", RATE) == [NOT_A_BUTTON]
        assert await rest(http, settings, "mallory", "/file_complaint") == [NOT_A_BUTTON]  # not offered yet
        await rest(http, settings, "mallory", "按钮")  # the bot offers /ask_question and /file_complaint
        assert await rest(http, settings, "mallory", " /file_complaint") == ["收到：/file_complaint"]
        assert await rest(http, settings, "alice", "/file_complaint") == [NOT_A_BUTTON]  # offered to mallory only
        assert await rest(http, settings, "mallory", "/路灯不亮") == ["收到：路灯不亮"]  # not a payload: plain text
    assert bot.texts() == ["按钮", "/file_complaint", "路灯不亮"]


async def test_wechat_typed_system_intents_are_refused_menu_keys_are_taken(settings, http, wechat_api):
    bot, push = FakeBot(), oa_pusher(settings)
    now = int(time.time())
    head = f"<ToUserName>gh_bianmin</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>{now}</CreateTime>"
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        _, body, _ = await push.post(http, text_push(OPENID, "/EXTERNAL_handback", 5101))
        assert reply_text(body) == NOT_A_BUTTON
        _, body, _ = await push.post(http, text_push(OPENID, RATE, 5102))
        assert reply_text(body) == NOT_A_BUTTON
        await push.post(
            http, f"<xml>{head}<MsgType>event</MsgType><Event>CLICK</Event><EventKey>check_ticket</EventKey></xml>"
        )
        _, body, _ = await push.post(
            http,
            f"<xml>{head}<MsgType>event</MsgType><Event>CLICK</Event>"
            f"<EventKey>EXTERNAL_handback</EventKey></xml>".replace(str(now), str(now + 1)),
        )
        assert reply_text(body) == NOT_A_BUTTON  # not even from a menu
    assert bot.texts() == ["/check_ticket"]


async def test_telegram_forged_callback_data_is_refused(settings, http, telegram_api):
    bot = FakeBot()
    citizen, chat = user(43), private_chat(43)
    shown = message("请选择：", bot_user(), chat)
    headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        for data in ["/EXTERNAL_handback", RATE]:
            async with http.post(
                TELEGRAM, json=wire(update(callback_query=callback_query(data, citizen, shown))), headers=headers
            ):
                pass
        # each update is handled in its own task: the refusals are awaited before the next update is sent
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 2)
        async with http.post(TELEGRAM, json=wire(update(message=message("按钮", citizen, chat))), headers=headers):
            pass
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 3)
        async with http.post(
            TELEGRAM,
            json=wire(update(callback_query=callback_query("/file_complaint", citizen, shown))),
            headers=headers,
        ):
            pass
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 4)
    assert [m["text"] for m in telegram_api.sent("sendMessage")][:2] == [NOT_A_BUTTON, NOT_A_BUTTON]
    assert bot.texts() == ["按钮", "/file_complaint"]


# --- 2. limits ------------------------------------------------------------------------------------------------


async def test_long_messages_metadata_and_rates_get_a_polite_answer(settings, http):
    bot = FakeBot()
    parsed = []

    async def parse(prefix):
        parsed.append(prefix)
        return {"text": prefix, "intent": {"name": "file_complaint", "confidence": 1.0}, "entities": []}

    channel = TokenRestInput(settings, Limits(per_conversation=5))
    channel.guard._parse = parse
    async with rasa_like_server([channel], bot, CHANNEL_PORT):
        long_text = "小区门口的烧烤摊每天晚上油烟很大。" * 100  # 1,700 characters: taken, the model reads 500
        assert await rest(http, settings, "long", long_text) == [f"收到：{long_text}"]
        (too_long,) = await rest(http, settings, "long", "吵" * 100_000)
        assert "100000字" in too_long and "3000字" in too_long
        metadata = {"page": "/faq", "blob": "x" * 500_000}  # would be stored three times a message, for 30 days
        assert await rest(http, settings, "meta", "你好", metadata=metadata) == ["收到：你好"]
        answers = [await rest(http, settings, "fast", f"第{i}条") for i in range(7)]
    assert parsed == [long_text[:500]]
    assert bot.received[0].text == long_text and bot.received[0].parse_data["text"] == long_text
    assert answers[:5] == [[f"收到：第{i}条"] for i in range(5)]
    assert answers[5:] == [[TOO_FAST], [TOO_FAST]]
    assert "吵" * 100 not in "".join(bot.texts())  # the 100,000 characters never reached the bot
    assert bot.received[1].metadata == {"truncated": True, "page": "/faq"}


async def test_per_ip_rate_on_the_web_chat(channel_redis_url):
    from channels.socketio import WebChatSocketInput
    from tests.channels.test_webchat import WebClient

    bot = FakeBot()
    channel = WebChatSocketInput(redis_url=channel_redis_url, limits=Limits(per_ip=3))
    async with rasa_like_server([channel], bot, CHANNEL_PORT):
        clients = [WebClient() for _ in range(2)]
        for client in clients:
            await client.connect()
        for i in range(4):
            await clients[i % 2].says(f"第{i}条")
            await asyncio.sleep(0.1)
        assert await wait_until(lambda: sum(len(c.received) for c in clients) == 4)
        for client in clients:
            await client.close()
    assert bot.texts() == ["第0条", "第1条", "第2条"]  # two sessions, one address: 3 a minute
    assert clients[1].received[-1]["text"] == TOO_FAST


# --- 3. nothing lost ------------------------------------------------------------------------------------------


class LockedBot(FakeBot):
    """A FakeBot behind Rasa's Redis lock store, as Rasa's Agent.handle_message runs a turn."""

    def __init__(self, redis_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        from urllib.parse import urlparse

        url = urlparse(redis_url)
        self.locks = RedisLockStore(
            host=url.hostname, port=url.port or 6379, db=int(url.path.strip("/") or 0), key_prefix="bianmin"
        )

    async def __call__(self, message) -> None:
        async with self.locks.lock(message.sender_id):
            await super().__call__(message)


async def test_seventy_messages_ten_ms_apart_are_answered_or_told_to_resend(settings, http):
    """Issue 15, finding 4: 70 messages 10 ms apart to one sender; 8 got HTTP 200 with [] and were lost."""
    bot = LockedBot(settings.redis_url, latency=lambda text: 0.05)
    channel = TokenRestInput(settings, Limits(per_conversation=100, queue_depth=20, queue_wait=2.0))
    async with rasa_like_server([channel], bot, CHANNEL_PORT):

        async def send(i):
            await asyncio.sleep(i * 0.01)
            return i, await rest(http, settings, "burst", f"第{i}条")

        answers = dict(await asyncio.gather(*(send(i) for i in range(70))))
    processed = [int(text[1:-1]) for text in bot.texts()]
    assert len(set(processed)) == len(processed)  # each once (in the order they reached the server)
    for i, texts in answers.items():
        assert texts, f"message {i} got HTTP 200 with []"
        assert texts == [f"收到：第{i}条"] if i in processed else texts == [BUSY], (i, texts)
    assert len(processed) >= 25  # 20 waiting at most at a time, each turn 50 ms and more


async def test_a_failed_turn_is_answered_with_please_resend(settings, http):
    from rasa.core.lock_store import LockError  # what Rasa raises when another server holds the conversation

    async def failing(message):
        raise LockError("Could not acquire lock for conversation_id 'rest:x'.")

    async with rasa_like_server([TokenRestInput(settings)], failing, CHANNEL_PORT):
        assert await rest(http, settings, "x", "你好") == [FAILED]


async def test_guard_queue_bounds_the_wait(channel_redis_url):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from redis import asyncio as aioredis

    redis = aioredis.Redis.from_url(channel_redis_url)
    guard = Guard(redis, dataclasses.replace(Limits(), queue_wait=0.2))

    async def slow(message):
        await asyncio.sleep(0.5)

    outputs = [CollectingOutputChannel() for _ in range(2)]
    results = await asyncio.gather(
        *(guard.handle(UserMessage(f"m{i}", out, "web:q"), slow) for i, out in enumerate(outputs))
    )
    await redis.close()
    assert len(results) == 2 and set(results) == {None, BUSY}  # one ran, the other waited 0.2 s and was told to resend
    told = [out.messages for out in outputs]
    assert sorted(json.dumps(m, ensure_ascii=False) for m in told) == sorted(
        ["[]", json.dumps([{"recipient_id": "web:q", "text": BUSY}], ensure_ascii=False)]
    )
