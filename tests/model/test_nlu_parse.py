"""The trained model reads citizens' messages as intended, including the awkward ones."""

from __future__ import annotations

import pytest

from bot.settings import load
from stack.training import ensure_model


@pytest.fixture(scope="module")
async def agent():
    from rasa.core.agent import Agent

    return Agent.load(str(ensure_model(load(), quiet=True)))


@pytest.mark.parametrize(
    "text, intent",
    [
        ("我要投诉", "file_complaint"),
        ("我要投诉南开区幸福里小区的暖气一直不热，我的电话是13812345678", "file_complaint"),
        ("家里暖气片冰凉的咋整", "ask_question"),
        ("查一下我的工单", "check_ticket"),
        ("算了，不投诉了", "cancel"),
        ("我想申请劳动仲裁", "out_of_scope"),
        ("转人工", "request_human"),
        ("我想找个开锁的", "ask_question"),
        ("楼下着火了", "report_emergency"),
        ("请问咱们市为什么禁止摩托车上路？", "ask_question"),  # "请问" opens a question, not a greeting
        ("想寻找当年一起参军的战友下落", "file_complaint"),  # a request, not a wish for a human agent
        ("呱呱呱呱", "nlu_fallback"),  # gibberish is not guessed at
        ("asdf qwer", "nlu_fallback"),
        ("😀😀", "nlu_fallback"),
        ("   ", "nlu_fallback"),
        ("？？？", "nlu_fallback"),
    ],
)
async def test_intents(agent, text, intent):
    parsed = await agent.parse_message(text)
    assert parsed["intent"]["name"] == intent


async def test_entities_phone_ticket_and_district(agent):
    parsed = await agent.parse_message("查一下BM261122K7M4Q9XZ，电话13812345678，南开的")
    values = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert ("ticket_number", "BM261122K7M4Q9XZ") in values
    assert ("phone", "13812345678") in values
    assert ("district", "南开区") in values
