"""Telegram connector (python-telegram-bot 22) in private chats, against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timezone

from channels.telegram import EDITED, NOT_TEXT, TelegramInput
from fakes.bot import FakeBot
from fakes.servers import rasa_like_server, wait_until
from fakes.telegram import bot_user, callback_query, message, photo, private_chat, update, user, wire
from tests.channels.conftest import CHANNEL_PORT

CHAT_ID = 5550001
URL = f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/telegram/webhook"
CITIZEN, CHAT = user(CHAT_ID), private_chat(CHAT_ID)


def says(text: str, **fields):
    return update(message=message(text, CITIZEN, CHAT, **fields))


def presses(data: str):
    return update(callback_query=callback_query(data, CITIZEN, message("请选择：", bot_user(), CHAT)))


async def post(http, body, secret: str = "tg-secret") -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    async with http.post(URL, json=body if isinstance(body, list) else wire(body), headers=headers) as response:
        return response.status


async def test_message_in_send_message_out_and_start_greets(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        assert await post(http, says("/start")) == 200
        assert await wait_until(lambda: telegram_api.sent("sendMessage"))
        assert await post(http, says("噪音扰民")) == 200
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 2)
    assert bot.texts() == ["/greet", "噪音扰民"]
    greeting, echo = telegram_api.sent("sendMessage")
    assert greeting["text"] == "您好，这里是12345便民服务热线。" and int(greeting["chat_id"]) == CHAT_ID
    assert echo["text"] == "收到：噪音扰民"
    assert [name for name, _ in telegram_api.calls][0] == "getMe"  # initialised once, lazily


async def test_wrong_or_missing_secret_is_refused(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        assert await post(http, says("伪造"), secret="wrong") == 403
        assert await post(http, says("伪造"), secret="") == 403
    assert bot.received == [] and telegram_api.sent("sendMessage") == []


async def test_a_body_that_is_not_an_update_is_a_bad_request(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT) as base:
        assert await post(http, [wire(says("数组"))]) == 400
        headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
        for body in ["not json", '"a string"', '{"message": {"text": "no update_id"}}']:
            async with http.post(f"{base}/webhooks/telegram/webhook", data=body, headers=headers) as response:
                assert response.status == 400, body
    assert bot.received == []


async def test_buttons_are_an_inline_keyboard_and_callbacks_are_answered(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        await post(http, says("按钮"))
        await post(http, says("长按钮"))
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 2)
        menu, long_one = telegram_api.sent("sendMessage")
        keyboard = menu["reply_markup"]["inline_keyboard"]
        assert [[b["text"], b["callback_data"]] for row in keyboard for b in row] == [
            ["咨询问题", "/ask_question"],
            ["投诉建议", "/file_complaint"],
        ]
        long_data = long_one["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        assert len(long_data.encode()) <= 64
        await post(http, presses("/file_complaint"))
        await post(http, presses(long_data))
        assert await wait_until(lambda: len(telegram_api.sent("answerCallbackQuery")) == 2)
        assert await wait_until(lambda: len(bot.received) == 4)
    assert bot.texts()[2] == "/file_complaint"
    assert bot.texts()[3].startswith("/inform{") and "幸福路" in bot.texts()[3]


async def test_a_button_on_an_inline_message_is_answered(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        await post(http, update(callback_query=callback_query("/ask_question", CITIZEN, shown_in=None)))
        assert await wait_until(lambda: telegram_api.sent("answerCallbackQuery"), timeout=3)
    assert telegram_api.sent("answerCallbackQuery")[0]["text"]
    assert bot.received == []


async def test_a_photo_caption_is_the_message(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        await post(http, says(None, photo=photo(), caption="小区门口垃圾堆了好几天没人清理"))
        await post(http, says(None, photo=photo()))
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 2)
    assert bot.texts() == ["小区门口垃圾堆了好几天没人清理"]
    assert bot.received[0].metadata["photo"] is True
    assert [m["text"] for m in telegram_api.sent("sendMessage")] == ["收到：小区门口垃圾堆了好几天没人清理", NOT_TEXT]


async def test_an_edited_message_is_not_processed_again_and_the_citizen_is_told(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        edited = message("电话是13812345679", CITIZEN, CHAT, edit_date=datetime.now(timezone.utc))
        await post(http, update(edited_message=edited))
        assert await wait_until(lambda: telegram_api.sent("sendMessage"), timeout=3)
    assert bot.received == []
    assert telegram_api.sent("sendMessage")[0]["text"] == EDITED


async def test_output_channel_reaches_the_chat_outside_a_request(settings, telegram_api):
    channel = TelegramInput(settings)
    await channel.get_output_channel().send_response(str(CHAT_ID), {"text": "您的工单已办结。", "agent": "小王"})
    assert telegram_api.sent("sendMessage")[0]["text"] == "您的工单已办结。"
    await channel.bot.shutdown()
