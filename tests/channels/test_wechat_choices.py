"""Numbered choices are bound to the latest bot message with buttons: a number typed later, after a message
without buttons, after the window, or while an agent holds the conversation stays the citizen's number."""

from __future__ import annotations

import asyncio

from bot.handoff import HandoffStore
from channels.wechat import WeChatInput
from fakes.bot import FakeBot
from fakes.servers import rasa_like_server
from fakes.wechat import text_push
from tests.channels.conftest import CHANNEL_PORT, CONVERSATION, OPENID, oa_pusher, reply_text


async def test_an_agent_question_after_the_menu_gets_the_citizens_number(settings, http, wechat_api):
    bot, push, channel = FakeBot(), oa_pusher(settings), WeChatInput(settings)
    async with rasa_like_server([channel], bot, CHANNEL_PORT):
        await push.post(http, text_push(OPENID, "按钮", 3001))
        await channel.get_output_channel().send_response(CONVERSATION, {"text": "请问您住在几号楼？直接回复数字就行。"})
        _, body, _ = await push.post(http, text_push(OPENID, "2", 3002))
    assert bot.texts() == ["按钮", "2"]
    assert reply_text(body) == "收到：2"


async def test_a_later_answer_without_buttons_retires_the_choices(settings, http, wechat_api):
    bot, push = FakeBot(), oa_pusher(settings)
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        await push.post(http, text_push(OPENID, "按钮", 3003))
        await push.post(http, text_push(OPENID, "两条", 3004))  # answered without buttons
        await push.post(http, text_push(OPENID, "1", 3005))
        await push.post(http, text_push(OPENID, "按钮", 3006))
        await push.post(http, text_push(OPENID, "1", 3007))  # the answer to the latest menu
    assert bot.texts() == ["按钮", "两条", "1", "按钮", "/ask_question"]


async def test_no_choice_while_an_agent_holds_the_conversation(settings, http, wechat_api):
    bot, push = FakeBot(), oa_pusher(settings)
    handoff = HandoffStore.from_url(settings.redis_url)
    async with rasa_like_server([WeChatInput(settings)], bot, CHANNEL_PORT):
        await push.post(http, text_push(OPENID, "按钮", 3008))
        assert await handoff.pick_up(CONVERSATION, "小王", {})  # the agent has not written yet
        await push.post(http, text_push(OPENID, "1", 3009))
        await handoff.finish(CONVERSATION, "小王", "resolved")
    await handoff.close()
    assert bot.texts() == ["按钮", "1"]


async def test_choices_expire_after_their_window(settings, http, wechat_api):
    bot, push, channel = FakeBot(), oa_pusher(settings), WeChatInput(settings)
    channel.choices.seconds = 1
    async with rasa_like_server([channel], bot, CHANNEL_PORT):
        await push.post(http, text_push(OPENID, "按钮", 3010))
        await asyncio.sleep(1.5)
        await push.post(http, text_push(OPENID, "1", 3011))
    assert bot.texts() == ["按钮", "1"]
