"""Telegram groups: the bot answers only when addressed, keeps one conversation per member, and asks for
personal data only in a private chat, reached through a deep link."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from channels.telegram import LINK_EXPIRED, TelegramInput
from channels.telegram_output import MOVE_TO_PRIVATE
from fakes.bot import FakeBot
from fakes.servers import rasa_like_server, wait_until
from fakes.telegram import addressing, bot_user, group_chat, message, private_chat, update, user, wire
from tests.channels.conftest import CHANNEL_PORT

URL = f"http://127.0.0.1:{CHANNEL_PORT}/webhooks/telegram/webhook"
GROUP = -1001234567890
LI, WANG = user(5550001, "小李", "xiaoli"), user(5550002, "老王", "laowang")
PHONE_QUESTION = "请留下您的联系电话（手机号，或带区号的座机），方便承办单位联系和回复您。"


async def post(http, telegram_update) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    async with http.post(URL, json=wire(telegram_update), headers=headers) as response:
        assert response.status == 200


def in_group(sender, text=None, **fields):
    return update(message=message(text, sender, group_chat(GROUP), **fields))


def in_private(sender, text):
    return update(message=message(text, sender, private_chat(sender.id)))


class ComplaintBot(FakeBot):
    """Asks for the phone number (as the complaint form does) when told "我要投诉"."""

    async def __call__(self, user_message):
        if user_message.text == "我要投诉":
            self.received.append(user_message)
            await user_message.output_channel.send_response(
                user_message.sender_id, {"text": PHONE_QUESTION, "utter_action": "utter_ask_phone"}
            )
            return
        await super().__call__(user_message)


async def test_only_addressed_messages_are_answered_one_conversation_per_member(settings, http, telegram_api):
    bot = FakeBot()
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        await post(http, in_group(LI, "今天停水了吗"))  # members talking among themselves
        await post(http, in_group(LI, **addressing("路灯不亮")))
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 1)
        answer = message("收到：路灯不亮", bot_user(), group_chat(GROUP))
        await post(http, in_group(WANG, "我家门口也是", reply_to_message=answer))
        assert await wait_until(lambda: len(telegram_api.sent("sendMessage")) == 2)
    assert bot.texts() == ["路灯不亮", "我家门口也是"]
    assert [m.sender_id for m in bot.received] == [f"tg:{GROUP}:{LI.id}", f"tg:{GROUP}:{WANG.id}"]
    assert {int(m["chat_id"]) for m in telegram_api.sent("sendMessage")} == {GROUP}


async def test_personal_questions_move_to_a_private_chat_through_a_deep_link(settings, http, telegram_api):
    bot = ComplaintBot()
    sent = telegram_api.sent
    async with rasa_like_server([TelegramInput(settings)], bot, CHANNEL_PORT):
        await post(http, in_group(LI, **addressing("我要投诉")))
        assert await wait_until(lambda: sent("sendMessage"))
        invitation = sent("sendMessage")[0]
        link = invitation["reply_markup"]["inline_keyboard"][0][0]["url"]
        token = parse_qs(urlparse(link).query)["start"][0]
        assert link.startswith("https://t.me/bianmin_bot?start=")
        assert (int(invitation["chat_id"]), invitation["text"]) == (GROUP, MOVE_TO_PRIVATE)

        await post(http, in_private(WANG, f"/start {token}"))  # someone else's link
        assert await wait_until(lambda: len(sent("sendMessage")) == 2)
        await post(http, in_private(LI, f"/start {token}"))
        assert await wait_until(lambda: len(sent("sendMessage")) == 3)
        await post(http, in_private(LI, "13812345678"))
        assert await wait_until(lambda: len(sent("sendMessage")) == 4)
        await post(http, in_private(LI, "/start"))  # back to a conversation of the private chat's own
        assert await wait_until(lambda: len(sent("sendMessage")) == 5)
    assert [(int(m["chat_id"]), m["text"]) for m in sent("sendMessage")[1:4]] == [
        (WANG.id, LINK_EXPIRED),
        (LI.id, PHONE_QUESTION),
        (LI.id, "收到：13812345678"),
    ]
    assert [(m.text, m.sender_id) for m in bot.received] == [
        ("我要投诉", f"tg:{GROUP}:{LI.id}"),
        ("13812345678", f"tg:{GROUP}:{LI.id}"),
        ("/greet", f"tg:{LI.id}"),
    ]
    assert all(PHONE_QUESTION not in m["text"] for m in sent("sendMessage") if int(m["chat_id"]) == GROUP)
