"""Taking over, replying, handing back, masking, live updates and tickets, against a fake Rasa API."""

from __future__ import annotations

import asyncio
import json
import time

from bot.handoff import HandoffStore
from bot.ticket_contract import RATINGS

PHONE, ID_CARD = "13812345678", "11010519491231002X"


async def test_only_one_of_many_concurrent_takes_wins(settings, queued):
    await queued("c-race")
    stores = [HandoffStore.from_url(settings.redis_url) for _ in range(8)]
    try:
        results = await asyncio.gather(*(store.take("c-race", f"agent{i}") for i, store in enumerate(stores)))
        assert sorted(results) == [False] * 7 + [True]
        winner = f"agent{results.index(True)}"
        assert await stores[0].holder("c-race") == winner
        assert [r.id for r in await stores[0].active()] == ["c-race"] and await stores[0].waiting() == []
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_two_console_processes_one_winner(console, second_console, login_as, queued, rasa):
    wang, li = await login_as(console, "wang"), await login_as(second_console, "li")
    await queued("c-two")
    first, second = await asyncio.gather(
        console.post("/api/conversations/c-two/take", headers={"X-CSRF-Token": wang}),
        second_console.post("/api/conversations/c-two/take", headers={"X-CSRF-Token": li}),
    )
    assert sorted([first.status, second.status]) == [200, 409]
    loser = second if second.status == 409 else first
    assert "已由" in (await loser.json())["error"]
    greetings = [a for a in rasa.appended if a["event"]["event"] == "bot"]
    assert len(greetings) == 1  # only the winner greets the citizen


async def test_take_pauses_greets_reply_and_hand_back(console, login_as, queued, rasa):
    token = await login_as(console, "wang")
    headers = {"X-CSRF-Token": token}
    await queued("c-flow")
    assert (await console.post("/api/conversations/c-flow/take", headers=headers)).status == 200
    assert (
        await console.post("/api/conversations/c-flow/reply", headers=headers, json={"text": "请问是哪个小区？"})
    ).status == 200
    said = [a for a in rasa.appended if a["event"]["event"] == "bot"]
    assert said[-1]["event"] == {"event": "bot", "text": "请问是哪个小区？", "metadata": {"agent": "小王"}}
    assert said[-1]["query"] == {
        "output_channel": "latest",
        "execute_side_effects": "true",
        "token": "console-test-token",
    }
    assert "人工客服小王" in said[0]["event"]["text"]
    assert (await console.post("/api/conversations/c-flow/reply", headers=headers, json={"text": "  "})).status == 400
    assert (await console.post("/api/conversations/c-flow/handback", headers=headers)).status == 200
    # greeting, reply, "人工客服已结束服务" (metadata handoff=released: the widget drops its banner), resume
    assert rasa.kinds("c-flow") == ["pause", "bot", "bot", "bot", "resume", "action"]
    assert rasa.appended[-3]["event"]["metadata"] == {"handoff": "released"}
    assert rasa.appended[-1]["event"] == {"event": "action", "name": "action_listen"}  # predicted as after a listen
    assert rasa.triggered == [
        {
            "id": "c-flow",
            "query": {"output_channel": "latest", "token": "console-test-token"},
            "body": {"name": "EXTERNAL_handback", "entities": {}},
        }
    ]
    queue = await (await console.get("/api/queue")).json()
    assert queue["waiting"] == [] and queue["mine"] == []
    assert (
        await console.post("/api/conversations/c-flow/reply", headers=headers, json={"text": "还在吗"})
    ).status == 409


async def test_an_agent_cannot_act_on_another_agents_conversation(console, second_console, login_as, queued, rasa):
    wang, li = await login_as(console, "wang"), await login_as(second_console, "li")
    await queued("c-held")
    assert (await console.post("/api/conversations/c-held/take", headers={"X-CSRF-Token": wang})).status == 200
    before = len(rasa.appended)
    for action, body in (
        ("reply", {"text": "我来回答"}),
        ("handback", None),
        ("close", None),
        ("tickets", {"description": "x", "phone": PHONE, "category": "城乡建设"}),
    ):
        response = await second_console.post(
            f"/api/conversations/c-held/{action}", headers={"X-CSRF-Token": li}, json=body
        )
        assert response.status == 409, action
    assert len(rasa.appended) == before and rasa.triggered == []
    assert (await second_console.post("/api/conversations/c-held/take", headers={"X-CSRF-Token": li})).status == 409


async def test_lists_mask_personal_data_shown_in_full_to_the_holder(console, second_console, login_as, queued, rasa):
    wang = await login_as(console, "wang")
    await login_as(second_console, "li")
    text = f"我的电话{PHONE}，身份证{ID_CARD}，帮我查社保"
    await queued("c-pii", last_message=text, slots={"phone": PHONE})
    rasa.citizen_says("c-pii", text)
    rasa.slots["c-pii"] = {"phone": PHONE}
    listed = json.dumps(await (await second_console.get("/api/queue")).json(), ensure_ascii=False)
    assert PHONE not in listed and ID_CARD not in listed
    assert "138****5678" in listed and "110105********002X" in listed
    assert (await console.post("/api/conversations/c-pii/take", headers={"X-CSRF-Token": wang})).status == 200
    mine = json.dumps(await (await console.get("/api/conversations/c-pii")).json(), ensure_ascii=False)
    assert PHONE in mine and ID_CARD in mine
    theirs = json.dumps(await (await second_console.get("/api/conversations/c-pii")).json(), ensure_ascii=False)
    assert PHONE not in theirs and ID_CARD not in theirs
    listed = json.dumps(await (await console.get("/api/queue")).json(), ensure_ascii=False)
    assert PHONE not in listed and ID_CARD not in listed


async def test_conversation_view_has_transcript_and_slots(console, login_as, queued, rasa):
    token = await login_as(console, "wang")
    rasa.citizen_says("c-view", "暖气不热怎么办")
    rasa.events["c-view"].append({"event": "bot", "text": "请先排气。", "timestamp": time.time()})
    rasa.citizen_says("c-view", "/request_human", intent="request_human")
    rasa.slots["c-view"] = {"district": "南开区", "requested_slot": None}
    await queued("c-view")
    await console.post("/api/conversations/c-view/take", headers={"X-CSRF-Token": token})
    await console.post("/api/conversations/c-view/reply", headers={"X-CSRF-Token": token}, json={"text": "您好"})
    view = await (await console.get("/api/conversations/c-view")).json()
    roles = [(turn["role"], turn["text"]) for turn in view["transcript"]]
    assert roles[:3] == [("user", "暖气不热怎么办"), ("bot", "请先排气。"), ("user", "〔点击按钮：request_human〕")]
    assert ("system", "机器人已暂停，等待人工客服") in roles and roles[-1] == ("agent", "您好")
    assert view["slots"] == {"district": "南开区"} and view["mine"] and view["status"] == "active"


async def test_new_waiting_conversation_is_streamed_within_a_second(console, login_as, queued):
    await login_as(console, "wang")
    async with console.get("/api/stream") as stream:
        assert (await stream.content.readline()).startswith(b"event: ready")
        await stream.content.readline()
        await stream.content.readline()
        started = time.monotonic()
        await queued("c-live")
        lines = []
        while not any(b'"c-live"' in line for line in lines):
            lines.append(await asyncio.wait_for(stream.content.readline(), 1.0))
        assert time.monotonic() - started < 1.0
        assert b'"type": "queued"' in lines[-1]


async def test_stream_sends_new_citizen_messages_of_an_open_conversation(console, login_as, queued, rasa):
    token = await login_as(console, "wang")
    await queued("c-poll")
    await console.post("/api/conversations/c-poll/take", headers={"X-CSRF-Token": token})
    async with console.get("/api/stream", params={"conversation": "c-poll"}) as stream:
        rasa.citizen_says("c-poll", "我家在鞍山西道100号")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            line = await asyncio.wait_for(stream.content.readline(), 3)
            if line.startswith(b"data:") and "鞍山西道100号".encode() in line:
                break
        else:
            raise AssertionError("the citizen's message was not streamed")


async def test_open_and_edit_a_ticket_from_the_conversation(console, login_as, queued, rasa):
    token = await login_as(console, "wang")
    headers = {"X-CSRF-Token": token}
    await queued("c-ticket", channel="socketio")
    await console.post("/api/conversations/c-ticket/take", headers=headers)
    fields = {
        "category": "城乡建设",
        "description": "小区门口烧烤摊油烟很大",
        "district": "南开区",
        "address": "鞍山西道100号",
        "name": "王先生",
        "phone": PHONE,
    }
    created = await console.post("/api/conversations/c-ticket/tickets", headers=headers, json=fields)
    assert created.status == 201, await created.text()
    ticket = await created.json()
    assert ticket["sender_id"] == "c-ticket" and ticket["phone"] == PHONE
    edited = await console.post(
        f"/api/conversations/c-ticket/tickets/{ticket['number']}", headers=headers, json={"address": "鞍山西道102号"}
    )
    assert edited.status == 200 and (await edited.json())["address"] == "鞍山西道102号"
    view = await (await console.get("/api/conversations/c-ticket")).json()
    assert [t["number"] for t in view["tickets"]] == [ticket["number"]]
    bad = await console.post("/api/conversations/c-ticket/tickets", headers=headers, json={**fields, "phone": "123"})
    assert bad.status == 400 and "phone" in (await bad.json())["error"]


async def test_supervisor_sees_everything_and_reassigns(console, second_console, login_as, queued, rasa):
    wang, boss = await login_as(console, "wang"), await login_as(second_console, "boss")
    await queued("c-boss")
    await console.post("/api/conversations/c-boss/take", headers={"X-CSRF-Token": wang})
    overview = await (await second_console.get("/api/queue")).json()
    assert [(item["id"], item["agent_name"]) for item in overview["active"]] == [("c-boss", "小王")]
    assert overview["rating_scale"] == list(RATINGS)  # the 好差评 columns come from the ticket contract
    assert "active" not in await (await console.get("/api/queue")).json()
    refused = await console.post(
        "/api/conversations/c-boss/reassign", headers={"X-CSRF-Token": wang}, json={"agent": "wang"}
    )
    assert refused.status == 403
    moved = await second_console.post(
        "/api/conversations/c-boss/reassign", headers={"X-CSRF-Token": boss}, json={"agent": "li"}
    )
    assert moved.status == 200
    assert (
        await console.post("/api/conversations/c-boss/reply", headers={"X-CSRF-Token": wang}, json={"text": "hi"})
    ).status == 409
    assert (await second_console.post("/api/conversations/c-boss/close", headers={"X-CSRF-Token": boss})).status == 200
    assert rasa.kinds("c-boss")[-3:] == ["bot", "resume", "action"] and rasa.triggered == []


async def test_agent_picks_a_conversation_that_did_not_ask(console, login_as, rasa):
    token = await login_as(console, "wang")
    headers = {"X-CSRF-Token": token}
    assert (await console.post("/api/pickup", headers=headers, json={"id": "c-nobody"})).status == 404
    rasa.citizen_says("c-pick", "我要投诉噪音")
    assert (await console.post("/api/pickup", headers=headers, json={"id": "c-pick"})).status == 200
    assert rasa.kinds("c-pick") == ["pause", "bot"]
    view = await (await console.get("/api/conversations/c-pick")).json()
    assert view["mine"] and view["summary"]["question"] == view["question"] == "我要投诉噪音"
    assert view["summary"]["topic"] == "ask_question" and "picked_by_agent" not in view["summary"]  # no raw keys
    assert (await console.post("/api/pickup", headers=headers, json={"id": "c-pick"})).status == 409


async def test_pages_render_for_a_logged_in_agent(console, login_as):
    await login_as(console, "boss")
    assert "等待接入" in await (await console.get("/")).text()
    page = await (await console.get("/conversations/c-1")).text()
    assert 'data-conversation="c-1"' in page and "城乡建设" in page
    assert (await console.get("/static/console.js")).status == 200


def test_the_front_end_takes_the_ratings_from_the_server():
    """好差评 has one home, bot/ticket_contract.py: the page and the script only show what /api/queue sends."""
    from console.app import HERE

    for path in (HERE / "static" / "console.js", HERE / "templates" / "queue.html"):
        assert not any(rating in path.read_text(encoding="utf-8") for rating in RATINGS), path
