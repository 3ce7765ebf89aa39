"""A citizen talks to the real stack over the REST channel, exactly as a new user would."""

from __future__ import annotations

import re
import uuid

import aiohttp
import pytest
import sqlalchemy

TICKET = re.compile(r"BM\d{6}[0-9A-HJKMNP-TV-Z]{8}")


class Citizen:
    """One conversation over Rasa's REST channel."""

    def __init__(self, session: aiohttp.ClientSession, rasa_url: str, token: str) -> None:
        self.session, self.url, self.sender = session, f"{rasa_url}/webhooks/rest/webhook", uuid.uuid4().hex
        self.headers = {"Authorization": f"Bearer {token}"}  # the REST channel needs the Rasa token

    async def says(self, text: str) -> str:
        """Sends one message; returns all reply texts and button titles joined."""
        async with self.session.post(
            self.url, json={"sender": self.sender, "message": text}, headers=self.headers
        ) as response:
            assert response.status == 200
            replies = await response.json()
        parts = []
        for reply in replies:
            parts.append(reply.get("text") or "")
            parts += [button["title"] for button in reply.get("buttons") or []]
        return "\n".join(parts)


@pytest.fixture
async def citizen(stack):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield Citizen(session, stack.rasa_url, stack.rasa_token)


def ticket_rows(database_url: str, number: str) -> list:
    """Rows of every table that has a `number` column equal to `number`, as dicts."""
    engine = sqlalchemy.create_engine(database_url)
    metadata = sqlalchemy.MetaData()
    metadata.reflect(engine)
    rows = []
    with engine.connect() as connection:
        for table in metadata.tables.values():
            if "number" in table.c:
                rows += [
                    dict(row._mapping) for row in connection.execute(table.select().where(table.c.number == number))
                ]
    engine.dispose()
    return rows


async def test_faq_answer_and_feedback(citizen):
    reply = await citizen.says("家里暖气不热怎么办")
    assert "排气" in reply and ("截门" in reply or "阀门" in reply)
    assert "解决了" in reply
    assert "很高兴" in await citizen.says("解决了")


async def test_emergency_is_answered_at_once(citizen):
    assert "119" in await citizen.says("楼道里着火了，好多烟")
    assert "120" in await citizen.says("我爸突然晕倒了")


async def test_emergency_interrupts_a_complaint_form(citizen):
    await citizen.says("我要投诉")
    reply = await citizen.says("等等，楼下闻到很大的煤气味")
    assert "燃气" in reply or "煤气" in reply
    assert "119" in reply


async def test_complaint_becomes_a_ticket_and_can_be_looked_up(citizen, stack):
    assert "描述" in await citizen.says("我要投诉")
    reply = await citizen.says("小区门口的烧烤摊每天晚上油烟很大，呛得家里没法开窗")
    assert "分类对吗" in reply
    assert "地址" in await citizen.says("/affirm")
    assert "称呼" in await citizen.says("南开区鞍山西道100号")  # "每天晚上" in the description said when
    assert "电话" in await citizen.says("王先生")
    assert "不太对" in await citizen.says("12345")  # malformed: explained and asked again
    assert "保密" in await citizen.says("138 1234 5678")
    summary = await citizen.says("/deny")
    assert "请核对" in summary and "13812345678" in summary and "南开区" in summary
    confirmation = await citizen.says("/affirm")
    number = TICKET.search(confirmation).group(0)

    rows = ticket_rows(stack.database_url, number)
    assert len(rows) == 1
    row = rows[0]
    assert row["phone"] == "13812345678"
    assert row["district"] == "南开区"
    assert "烧烤" in row["description"]
    assert row["status"] == "已受理"
    assert row["category"]

    progress = await citizen.says("查询工单进度")  # the ticket just filed: nothing asked again
    assert number in progress and "已受理" in progress

    someone_else = Citizen(citizen.session, stack.rasa_url, stack.rasa_token)
    assert "工单号" in await someone_else.says("查询工单进度")
    assert "电话" in await someone_else.says(number)
    assert "没有查到" in await someone_else.says("13900000000")  # a wrong phone: nothing revealed


async def test_cancel_a_complaint(citizen):
    await citizen.says("我要投诉")
    await citizen.says("楼上邻居天天半夜装修电钻声音特别大")
    assert "取消" in await citizen.says("算了，不投诉了")


async def test_blank_and_emoji_input_get_a_polite_answer(citizen):
    for text in ("   ", "😀😀", "？？？"):
        assert await citizen.says(text)  # something polite comes back, nothing crashes


async def test_not_understood_twice_offers_a_human(citizen):
    first = await citizen.says("asdfgh qwerty")
    assert "换个说法" in first and "提交诉求" in first and "转人工" in first
    second = await citizen.says("呱呱呱呱")
    assert "实在抱歉" in second and "转人工" in second


async def test_details_in_the_first_message_are_not_asked_again(citizen):
    reply = await citizen.says("我要投诉南开区幸福里小区的暖气一直不热，我的电话是13812345678")
    assert "分类对吗" in reply  # the description was taken from the first message
    assert "地址" in await citizen.says("/affirm")
    await citizen.says("幸福里小区3号楼")  # the district came from the first message
    await citizen.says("这个礼拜一直这样")
    assert "保密" in await citizen.says("李女士")  # the phone number is not asked for again


async def test_conversation_survives_a_rasa_restart(citizen, stack):
    await citizen.says("我要投诉")
    await citizen.says("楼下的饭馆每天半夜排风机轰轰响，吵得孩子睡不着")
    stack.stack.stop_service("rasa")
    stack.stack.start_service("rasa")
    assert "地址" in await citizen.says("/affirm")  # the form goes on where it was


async def test_a_complaint_is_kept_while_the_ticket_backend_is_down(citizen, stack):
    stack.stack.stop_service("tickets")
    try:
        await citizen.says("我要投诉")
        await citizen.says("小区门口的井盖丢了好几天了，晚上特别危险")
        await citizen.says("/affirm")
        await citizen.says("河西区友谊路20号")
        await citizen.says("跳过")
        await citizen.says("周先生")
        await citizen.says("13712345678")
        await citizen.says("/deny")
        reply = await citizen.says("/affirm")
        assert "不会丢失" in reply and not TICKET.search(reply)
    finally:
        stack.stack.start_service("tickets")
    rows = await wait_for_rows(stack.database_url, "井盖", timeout=60)
    assert rows[0]["phone"] == "13712345678"


async def wait_for_rows(database_url: str, words: str, timeout: float) -> list:
    """Ticket rows whose description contains `words`, waiting until the outbox delivered them."""
    import asyncio

    engine = sqlalchemy.create_engine(database_url)
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while True:
            with engine.connect() as connection:
                table = sqlalchemy.Table("tickets", sqlalchemy.MetaData(), autoload_with=connection)
                rows = [
                    dict(r._mapping)
                    for r in connection.execute(table.select().where(table.c.description.contains(words)))
                ]
            if rows or asyncio.get_running_loop().time() > deadline:
                return rows
            await asyncio.sleep(1)
    finally:
        engine.dispose()


async def test_mixed_and_long_messages(citizen):
    assert await citizen.says("wifi 坏了 怎么办 help")
    long_text = "我想反映一下我们小区的情况，" + "物业不管事，垃圾没人清，路灯也不亮，" * 40
    assert await citizen.says(long_text)


async def test_a_status_change_reaches_the_citizen_who_then_rates_it(stack):
    """受理 → 办结 → 好差评: the ticket backend tells the citizen on their own channel (socket.io here)."""
    from bot.ticket_client import TicketClient
    from tests.e2e.citizens import SocketCitizen

    citizen = SocketCitizen()
    await citizen.connect(stack.rasa_url)
    try:
        await citizen.says("你好")
        await citizen.hears("有什么可以帮您")
        tickets = TicketClient(stack.tickets_url, stack.tickets_token)
        ticket = await tickets.create_ticket(
            {
                "client_ref": citizen.session_id,
                "category": "城乡建设",
                "description": "小区路灯坏了一个月没人修",
                "district": "河北区",
                "address": "某某小区",
                "name": "孙女士",
                "phone": "13612345678",
                "channel": "socketio",
                "sender_id": citizen.session_id,
            }
        )
        await tickets.set_status(ticket["number"], "已办结", "路灯已修复")
        _, notice = await citizen.hears("有新进展", timeout=30)
        assert ticket["number"] in notice["text"] and "已办结" in notice["text"]
        _, ask = await citizen.hears("请您对工单")
        satisfied = next(b for b in ask["quick_replies"] if b["title"] == "满意")
        await citizen.says(satisfied["payload"])
        await citizen.hears("感谢您的评价")
        assert (await tickets.get_ticket(ticket["number"]))["rating"] == "满意"
    finally:
        await citizen.client.disconnect()
