"""What the citizen reads: the actions' messages rendered by Rasa's own code (the domain's responses filled
with the variables the actions pass, as Rasa does with an action server's answer). Here the text is the
point: the wording moved from Python into the domain unchanged."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.complaint import ActionAskConfirmed, ActionSubmitComplaint
from actions.core import ActionOutOfScope
from actions.handoff import ActionHandoff
from actions.ticket_status import ActionTicketNotification, ActionTicketStatus


@pytest.fixture(scope="session")
def rasa_domain():
    from rasa.shared.core.domain import Domain

    from bot.settings import ROOT

    return Domain.load(str(ROOT / "domain"))


@pytest.fixture
def render(rasa_domain):
    """render(dispatcher): the bot messages Rasa makes of the dispatcher's messages ({"text", "buttons"})."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.trackers import DialogueStateTracker

    async def rendered(dispatcher: CollectingDispatcher) -> List[Dict[str, Any]]:
        tracker = DialogueStateTracker.from_events("citizen", [], slots=rasa_domain.slots)
        nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
        events = await RemoteAction._utter_responses(
            [dict(message) for message in dispatcher.messages], CollectingOutputChannel(), nlg, tracker
        )
        return [{"text": event.text, "buttons": event.data.get("buttons") or []} for event in events]

    return rendered


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [message["text"] for message in messages]


async def test_the_complaint_summary(domain, dispatcher, make_tracker, render):
    slots = {
        "category": "城乡建设",
        "department": "市城市管理委员会（供热办）",
        "description": "小区暖气不热",
        "district": "南开区",
        "address": "幸福里小区5号楼",
        "occurred_at": "未说明",
        "person_name": "王先生",
        "phone": "13812345678",
        "confidential": "是",
    }
    await ActionAskConfirmed().run(dispatcher, make_tracker("", slots=slots), domain)
    [message] = await render(dispatcher)
    assert message["text"] == (
        "请核对您的诉求信息：\n· 问题类别：城乡建设（拟转交：市城市管理委员会（供热办））\n· 问题描述：小区暖气不热\n"
        "· 地址：南开区 幸福里小区5号楼\n· 发生时间：未说明\n· 联系人：王先生\n· 联系电话：13812345678\n· 信息保密：是"
    )
    assert [b["title"] for b in message["buttons"]] == ["确认提交", "修改信息", "取消"]


async def test_the_ticket_number_after_submitting(domain, dispatcher, make_tracker, render, tickets, env_settings):
    await ActionSubmitComplaint().run(dispatcher, make_tracker("", slots={"department": None}), domain)
    assert texts(await render(dispatcher)) == [
        "您的诉求已受理 ✅\n工单号：BM261122K7M4Q9XZ\n将转交「相关部门」办理，一般诉求5个工作日内答复，请保持电话畅通。"
        "您可以随时发送“查询工单”查看进度。"
    ]


async def test_a_ticket_s_progress_and_the_rating_question(domain, dispatcher, make_tracker, render, tickets):
    tickets.tickets["BM261122K7M4Q9XZ"] = {
        "number": "BM261122K7M4Q9XZ",
        "phone": "13812345678",
        "status": "已办结",
        "department": "市水务局",
        "history": [
            {"at": "2026-11-22T09:30:00", "status": "已受理"},
            {"at": "2026-11-23T10:00:00", "status": "已办结", "note": "已修复"},
        ],
    }
    tracker = make_tracker("", slots={"ticket_number": "BM261122K7M4Q9XZ", "lookup_phone": "13812345678"})
    await ActionTicketStatus().run(dispatcher, tracker, domain)
    messages = await render(dispatcher)
    assert texts(messages) == [
        "工单 BM261122K7M4Q9XZ 当前状态：「已办结」\n承办单位：市水务局\n· 2026-11-22 09:30 已受理\n· 2026-11-23 10:00 已办结 — 已修复",
        "请您对工单 BM261122K7M4Q9XZ 的办理结果进行评价：",
    ]
    assert [b["title"] for b in messages[1]["buttons"]] == ["满意", "基本满意", "不满意"]


async def test_notices(domain, make_tracker, render):
    delivered, updated = CollectingDispatcher(), CollectingDispatcher()
    number = [{"entity": "ticket_number", "value": "BM261122K7M4Q9XZ"}]
    await ActionTicketNotification().run(
        delivered, make_tracker("", "EXTERNAL_ticket_delivered", entities=number), domain
    )
    status = [*number, {"entity": "ticket_status", "value": "办理中"}]
    await ActionTicketNotification().run(updated, make_tracker("", "EXTERNAL_ticket_update", entities=status), domain)
    assert texts(await render(delivered)) == [
        "您之前留下的诉求已成功提交，工单号：BM261122K7M4Q9XZ。可以随时发送“查询工单”查看进度。"
    ]
    assert texts(await render(updated)) == ["您的工单 BM261122K7M4Q9XZ 有新进展，当前状态：「办理中」。"]


async def test_out_of_scope_with_its_legal_channel(domain, dispatcher, make_tracker, render):
    await ActionOutOfScope().run(dispatcher, make_tracker("我想申请行政复议", "out_of_scope"), domain)
    assert texts(await render(dispatcher)) == [
        "12345热线受理咨询、求助、投诉、建议类的非紧急诉求。已经进入诉讼、仲裁、信访复查复核、行政复议等法定程序的事项，"
        "以及涉军事项，需要通过对应的法定渠道办理，热线无法替代。\n"
        "行政复议请在知道行政行为之日起60日内，向依法有权的行政复议机关（一般为县级以上人民政府）提出。",
        "还有什么可以帮您？",
    ]


async def test_the_place_in_the_queue(domain, make_tracker, render, env_settings):
    first, second = CollectingDispatcher(), CollectingDispatcher()
    await ActionHandoff().run(first, make_tracker("转人工", "request_human", sender="c-1"), domain)
    await ActionHandoff().run(second, make_tracker("转人工", "request_human", sender="c-2"), domain)
    assert texts(await render(first)) == [
        "已为您转接人工客服，您是下一位，客服马上就来，请稍候。接入后客服会直接在这里回复您。"
    ]
    assert texts(await render(second)) == ["已为您转接人工客服，您前面还有1位，请稍候。客服接入后会直接在这里回复您。"]


async def test_outside_staffed_hours(domain, dispatcher, make_tracker, render, env_settings, monkeypatch):
    import datetime as dt

    now = dt.datetime.now()
    start, end = (now + dt.timedelta(hours=2)).strftime("%H:00"), (now + dt.timedelta(hours=3)).strftime("%H:00")
    monkeypatch.setenv("BIANMIN_STAFFED_HOURS", f"{start}-{end}")
    await ActionHandoff().run(dispatcher, make_tracker("转人工", "request_human"), domain)
    [message] = await render(dispatcher)
    assert message["text"].startswith(f"现在不是人工客服的服务时间（每天{start}-{end}），人工客服将于")
    assert f"{start}上线。您可以先留下诉求" in message["text"]
    assert message["buttons"] == [{"title": "留下诉求", "payload": "/file_complaint"}]


def test_no_response_is_left_with_an_unfilled_variable_when_its_variables_are_given(domain):
    """Every {variable} in a response is one an action passes (checked by name against actions/)."""
    import re

    from bot.settings import ROOT

    source = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "actions").glob("*.py"))
    for name, variations in domain["responses"].items():
        for variation in variations:
            for variable in re.findall(r"{([^\n{}]+?)}", variation.get("text") or ""):
                assert re.search(rf"\b{variable}\b", source), (name, variable)
