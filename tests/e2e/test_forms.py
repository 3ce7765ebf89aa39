"""Questions inside each form, corrections, the ticket just filed, and the look-up by phone, over REST on the
real stack (issue 14)."""

from __future__ import annotations

import aiohttp
import pytest

from tests.e2e.test_conversation import TICKET, Citizen

PHONE = "13812345678"
# what the form asks -> what the citizen answers
ANSWERS = [  # the summary first: it also names 保密 and 联系电话
    ("请核对", "确认提交"),
    ("分类对吗", "对"),
    ("请选", "城乡建设"),
    ("具体地址", "南开区长江道5号"),
    ("哪个区", "南开区"),
    ("什么时候发生", "每天半夜"),
    ("怎么称呼", "王先生"),
    ("联系电话", PHONE),
    ("保密", "不需要"),
]


@pytest.fixture
async def session(stack):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


def citizen_of(session, stack) -> Citizen:
    return Citizen(session, stack.rasa_url, stack.rasa_token)


async def file_complaint(citizen: Citizen) -> str:
    """Files a complaint by answering whatever the form asks; returns the ticket number."""
    reply = await citizen.says("我要投诉楼下饭馆的排风机每天半夜轰轰响，吵得孩子睡不着")
    for _ in range(12):
        found = TICKET.search(reply)
        if found:
            return found.group(0)
        answer = next((said for asked, said in ANSWERS if asked in reply), None)
        assert answer, reply
        reply = await citizen.says(answer)
    raise AssertionError(reply)


async def test_questions_inside_the_complaint_form_are_answered_and_the_form_resumes(session, stack):
    citizen = citizen_of(session, stack)
    await citizen.says("我要投诉")
    reply = await citizen.says("楼下饭馆的排风机每天半夜轰轰响，吵得孩子睡不着")
    if "分类对吗" in reply:
        reply = await citizen.says("对")
    assert "具体地址" in reply, reply
    reply = await citizen.says("你是机器人吗")
    assert "智能客服" in reply and "我们继续" in reply and "具体地址" in reply, reply
    reply = await citizen.says("你们几点下班？")
    assert "我们继续" in reply and "具体地址" in reply, reply
    reply = await citizen.says("南开区长江道5号")
    assert "称呼" in reply and "什么时候" not in reply, reply  # 每天半夜 was in the description: not asked
    reply = await citizen.says("嗯")
    assert "没法记作" in reply and "称呼" in reply, reply
    reply = await citizen.says("电话改成13900001111")
    assert "13900001111" in reply and "称呼" in reply, reply
    reply = await citizen.says("我不是要投诉，只是想问问")
    assert "不登记" in reply, reply


async def test_a_question_inside_the_look_up_and_a_look_up_by_phone(session, stack):
    filer = citizen_of(session, stack)
    number = await file_complaint(filer)

    reply = await filer.says("查一下进度")  # the ticket just filed: no number, no phone asked
    assert number in reply and "当前状态" in reply, reply

    reply = await filer.says("我忘了工单号")
    assert "电话" in reply, reply
    reply = await filer.says(PHONE)
    assert number in reply, reply
    assert "长江道*号" in reply or "长江道" not in reply  # details are masked
    reply = await filer.says(number)  # one of the listed tickets: its phone was just checked, not asked again
    assert number in reply and "当前状态" in reply, reply

    stranger = citizen_of(session, stack)  # the same phone from another conversation lists nothing
    reply = await stranger.says("查询工单")
    assert "工单号" in reply, reply
    reply = await stranger.says("我反映的问题处理完会有人回访吗")
    assert "回访" in reply and "我们继续" in reply and "工单号" in reply, reply
    reply = await stranger.says(PHONE)
    assert number not in reply and "没有查到" in reply, reply
