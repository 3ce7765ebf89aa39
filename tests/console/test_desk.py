"""Issue 17 on the console's API: what the citizen is told (queue places, a supervisor's close, the
closing signature, tickets), what the agent reads (the question, no raw keys, local times, 智能填单),
conversations stuck before the queue, and search."""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import redis

from console.conversations import NOBODY_CAME, QUEUE_AHEAD, QUEUE_NEXT


def _said(rasa, conversation_id):
    return [a["event"] for a in rasa.appended if a["id"] == conversation_id and a["event"]["event"] == "bot"]


async def test_taking_one_tells_the_others_their_new_place(console, login_as, queued, rasa):
    headers = {"X-CSRF-Token": await login_as(console, "wang")}
    for name in ("c-q1", "c-q2", "c-q3"):
        await queued(name)
    assert (await console.post("/api/conversations/c-q1/take", headers=headers)).status == 200
    assert _said(rasa, "c-q2")[-1] == {
        "event": "bot",
        "text": QUEUE_NEXT,
        "metadata": {"handoff": "queued", "ahead": 0},
    }
    assert _said(rasa, "c-q3")[-1]["text"] == QUEUE_AHEAD.format(ahead=1)


async def test_a_supervisor_closing_a_waiting_conversation_tells_the_citizen(console, login_as, queued, rasa):
    headers = {"X-CSRF-Token": await login_as(console, "boss")}
    await queued("c-w1")
    await queued("c-w2")
    assert (await console.post("/api/conversations/c-w1/close", headers=headers)).status == 200
    assert _said(rasa, "c-w1") == [{"event": "bot", "text": NOBODY_CAME, "metadata": {"handoff": "released"}}]
    assert _said(rasa, "c-w2")[-1]["text"] == QUEUE_NEXT  # the next one moves up


async def test_the_closing_message_is_signed_with_the_display_name(console, second_console, login_as, queued, rasa):
    wang, boss = await login_as(console, "wang"), await login_as(second_console, "boss")
    await queued("c-sign")
    assert (await console.post("/api/conversations/c-sign/take", headers={"X-CSRF-Token": wang})).status == 200
    assert (await second_console.post("/api/conversations/c-sign/close", headers={"X-CSRF-Token": boss})).status == 200
    farewell = _said(rasa, "c-sign")[-1]
    assert farewell["metadata"] == {"agent": "小王", "handoff": "released"}  # not the login name "wang"


async def test_the_agent_reads_what_the_citizen_asked_in_local_time(console, login_as, queued, rasa, monkeypatch):
    asked = []
    monkeypatch.setattr("console.conversations.suggestions", lambda question: asked.append(question) or [])
    headers = {"X-CSRF-Token": await login_as(console, "wang")}
    rasa.citizen_says("c-ask", "我家暖气不热，已经三天了，南开区幸福小区5号楼")
    rasa.citizen_says("c-ask", "转人工", intent="request_human")
    await queued("c-ask", last_message="转人工", time="2026-12-07T01:30:00+00:00", picked_by_agent=True)
    assert (await console.post("/api/conversations/c-ask/take", headers=headers)).status == 200
    view = await (await console.get("/api/conversations/c-ask")).json()
    assert view["question"] == "我家暖气不热，已经三天了，南开区幸福小区5号楼"
    assert view["summary"]["question"] == view["question"] and "picked_by_agent" not in view["summary"]
    assert view["summary"]["time"] == "2026-12-07 09:30"  # Beijing time, as the citizen is told
    assert asked[-1] == view["question"]  # knowledge-base suggestions for the question, not for "转人工"
    first = rasa.events["c-ask"][0]["timestamp"]
    shanghai = dt.datetime.fromtimestamp(first, ZoneInfo("Asia/Shanghai")).strftime("%H:%M:%S")
    assert view["transcript"][0]["time"] == shanghai
    draft = view["draft"]
    assert (
        "幸福小区5号楼" in draft["address"] and draft["district"] == "南开区" and draft["occurred_at"] == "已经三天了"
    )


async def test_the_ticket_is_prefilled_and_announced_to_the_citizen(console, login_as, queued, rasa):
    headers = {"X-CSRF-Token": await login_as(console, "wang")}
    rasa.citizen_says("c-tk", "小区门口的路灯坏了一个月了，我电话13812345678", intent="file_complaint")
    rasa.slots["c-tk"] = {"predicted_category": "城乡建设"}
    await queued("c-tk")
    assert (await console.post("/api/conversations/c-tk/take", headers=headers)).status == 200
    draft = (await (await console.get("/api/conversations/c-tk")).json())["draft"]
    assert draft["category"] == "城乡建设" and draft["phone"] == "13812345678" and draft["department"]
    response = await console.post("/api/conversations/c-tk/tickets", headers=headers, json=draft)
    assert response.status == 201, await response.text()
    number = (await response.json())["number"]
    assert number in _said(rasa, "c-tk")[-1]["text"]
    before = len(_said(rasa, "c-tk"))
    assert (
        await console.post("/api/conversations/c-tk/announce", headers=headers, json={"number": number})
    ).status == 200
    assert len(_said(rasa, "c-tk")) == before + 1 and number in _said(rasa, "c-tk")[-1]["text"]


def _store_tracker(settings, conversation_id, *turns):
    """A conversation as Rasa's Redis tracker store keeps it."""
    now = time.time()
    events = [
        {
            "event": "user",
            "text": text,
            "timestamp": now - 60 + i,
            "input_channel": "wechat",
            "parse_data": {"intent": {"name": intent}},
        }
        for i, (text, intent) in enumerate(turns)
    ]
    client = redis.Redis.from_url(settings.redis_url)
    client.set(f"bianmin:tracker:{conversation_id}", json.dumps({"name": conversation_id, "events": events}))
    client.close()


async def test_stuck_citizens_are_listed_and_conversations_found(console, login_as, queued, settings):
    await login_as(console, "wang")
    _store_tracker(
        settings, "c-stuck", ("噪音扰民怎么办，电话13900001111", "file_complaint"), ("转人工", "request_human")
    )
    _store_tracker(settings, "c-fine", ("公积金怎么提取", "ask_question"))
    _store_tracker(settings, "c-queued", ("转人工", "request_human"))
    await queued("c-queued")
    stuck = (await (await console.get("/api/stuck")).json())["stuck"]
    assert [row["id"] for row in stuck] == ["c-stuck"]
    assert stuck[0]["question"].startswith("噪音扰民") and "13900001111" not in stuck[0]["question"]  # masked
    found = (await (await console.get("/api/search", params={"q": "13900001111"})).json())["results"]
    assert [row["id"] for row in found] == ["c-stuck"]
    found = (await (await console.get("/api/search", params={"q": "公积金"})).json())["results"]
    assert [row["id"] for row in found] == ["c-fine"]
    assert (await console.get("/api/search", params={"q": ""})).status == 400


async def test_the_supervisor_sees_agents_waits_and_ratings(console, login_as, queued):
    headers = {"X-CSRF-Token": await login_as(console, "boss")}
    await queued("c-sv1")
    await queued("c-sv2")
    assert (await console.post("/api/conversations/c-sv1/take", headers=headers)).status == 200
    body = await (await console.get("/api/queue")).json()
    boss = next(agent for agent in body["agents"] if agent["name"] == "boss")
    assert boss["holding"] == 1 and "longest_wait" in body and body["clock"]


def test_category_buttons_use_words_a_citizen_knows():
    from bot.categories import CATEGORIES, citizen_name

    assert all(citizen_name(name) != name for name in ("党务政务", "纪检监察", "卫生计生"))
    assert len({citizen_name(name) for name in CATEGORIES}) == len(CATEGORIES)


def test_the_queued_summary_says_what_the_citizen_asked():
    from bot.handoff import handoff_summary

    def user(text, intent):
        return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}

    state = {
        "events": [
            user("我家暖气不热怎么办", "ask_question"),
            user("/request_human", "request_human"),
            user("转人工", "request_human"),
        ],
        "slots": {},
        "latest_message": {"intent": {"name": "request_human"}},
    }
    summary = handoff_summary(state)
    assert summary["question"] == "我家暖气不热怎么办" and summary["last_message"] == "转人工"
