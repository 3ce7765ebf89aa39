"""Telegram connector (python-telegram-bot 22) against a fake Bot API on 127.0.0.1."""
from __future__ import annotations

import itertools
import time

from channels.telegram import TelegramInput
from tests.channels.conftest import CHANNEL_PORT
from tests.channels.fakes import FakeBot, rasa_like_server, wait_until

CHAT_ID = 5550001
URL = f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/telegram/webhook"
_update_ids = itertools.count(100)
USER = {"id": CHAT_ID, "is_bot": False, "first_name": "小李", "username": "xiaoli"}


def message_update(text: str) -> dict:
    return {"update_id": next(_update_ids), "message": {
        "message_id": next(_update_ids), "date": int(time.time()), "text": text, "from": USER,
        "chat": {"id": CHAT_ID, "type": "private", "first_name": "小李"}}}


def callback_update(data: str) -> dict:
    return {"update_id": next(_update_ids), "callback_query": {
        "id": f"cb{next(_update_ids)}", "from": USER, "chat_instance": "ci", "data": data,
        "message": {"message_id": 1, "date": int(time.time()), "text": "请选择：",
                    "chat": {"id": CHAT_ID, "type": "private"}}}}


async def post(http, update: dict, secret: str = "tg-secret") -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    async with http.post(URL, json=update, headers=headers) as response:
        return response.status


async def test_message_in_send_message_out_and_start_greets(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        assert await post(http, message_update("/start")) == 200
        assert await wait_until(lambda: telegram_api.sent("sendMessage"))
        assert await post(http, message_update("噪音扰民")) == 200
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 2)
    assert bot.texts() == ["/greet", "噪音扰民"]
    greeting, echo = telegram_api.sent("sendMessage")
    assert greeting["text"] == "您好，这里是12345便民服务热线。" and int(greeting["chat_id"]) == CHAT_ID
    assert echo["text"] == "收到：噪音扰民"
    assert [name for name, _ in telegram_api.calls][0] == "getMe"  # initialised once, lazily


async def test_wrong_or_missing_secret_is_refused(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        assert await post(http, message_update("伪造"), secret="wrong") == 403
        assert await post(http, message_update("伪造"), secret="") == 403
    assert bot.received == [] and telegram_api.sent("sendMessage") == []


async def test_buttons_are_an_inline_keyboard_and_callbacks_are_answered(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        await post(http, message_update("按钮"))
        await post(http, message_update("长按钮"))
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 2)
        menu, long_one = telegram_api.sent("sendMessage")
        keyboard = menu["reply_markup"]["inline_keyboard"]
        assert [[b["text"], b["callback_data"]] for row in keyboard for b in row] == [
            ["咨询问题", "/ask_question"], ["投诉建议", "/file_complaint"]]
        long_data = long_one["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        assert len(long_data.encode()) <= 64
        await post(http, callback_update("/file_complaint"))
        await post(http, callback_update(long_data))
        assert await wait_until(lambda: len(telegram_api.sent("answerCallbackQuery")) == 2)
        assert await wait_until(lambda: len(bot.received) == 4)
    assert bot.texts()[2] == "/file_complaint"
    assert bot.texts()[3].startswith("/inform{") and "幸福路" in bot.texts()[3]


async def test_output_channel_reaches_the_chat_outside_a_request(settings, telegram_api):
    channel = TelegramInput(settings)
    await channel.get_output_channel().send_response(str(CHAT_ID), {"text": "您的工单已办结。", "agent": "小王"})
    assert telegram_api.sent("sendMessage")[0]["text"] == "您的工单已办结。"
    await channel.bot.shutdown()
