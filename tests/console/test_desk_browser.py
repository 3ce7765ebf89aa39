"""The agent desk in headless Chromium against the test console (fake Rasa, real Redis and ticket
backend): what the agent sees and the keys they press (issue 17)."""

from __future__ import annotations

import json
import time

import redis

from bot.handoff.store import conversation_key

BASE = "http://127.0.0.1:24203"


def _age(settings, conversation_id, seconds):
    """Makes a queued conversation look `seconds` old."""
    client = redis.Redis.from_url(settings.redis_url)
    client.hset(conversation_key(conversation_id), "queued_at", time.time() - seconds)
    client.zadd("bianmin:handoff:waiting", {conversation_id: time.time() - seconds})
    client.close()


async def test_the_queue_shows_questions_long_waits_and_a_close_button(agent_page, queued, rasa, settings):
    rasa.citizen_says("c-long", "楼上装修噪音太大，晚上十点还在施工")
    await queued("c-long", last_message="转人工", description="楼上装修噪音太大，晚上十点还在施工")
    _age(settings, "c-long", 300)
    page = await agent_page("boss")
    row = page.locator("#waiting tr[data-id=c-long]")
    await row.wait_for()
    assert "楼上装修噪音" in await row.inner_text()  # known by what the citizen asked, not by a hex id
    assert await row.locator("td.wait.long").count() == 1  # a five-minute wait is highlighted
    assert await row.locator("button", has_text="结束").count() == 1  # supervisors close waiting rows
    page.on("dialog", lambda dialog: dialog.accept())
    await row.locator("button", has_text="结束").click()
    await row.wait_for(state="detached")
    assert "排队已取消" in [a for a in rasa.appended if a["id"] == "c-long"][0]["event"]["text"]


async def test_stuck_citizens_are_visible_and_can_be_taken(agent_page, rasa, settings):
    events = [
        {
            "event": "user",
            "text": "我的社保卡丢了怎么补办",
            "timestamp": time.time() - 120,
            "parse_data": {"intent": {"name": "ask_question"}},
        },
        {
            "event": "user",
            "text": "转人工",
            "timestamp": time.time() - 100,
            "parse_data": {"intent": {"name": "request_human"}},
        },
    ]
    client = redis.Redis.from_url(settings.redis_url)
    client.set("bianmin:tracker:c-stuck", json.dumps({"name": "c-stuck", "events": events}))
    client.close()
    rasa.events["c-stuck"] = events
    page = await agent_page("wang")
    item = page.locator("#stuck li", has_text="社保卡丢了")
    await item.wait_for()
    await item.locator("button", has_text="接入").click()
    await page.wait_for_url(BASE + "/conversations/c-stuck")
    await page.wait_for_selector("#question >> text=我的社保卡丢了怎么补办")


async def test_the_conversation_view_helps_the_agent(agent_page, queued, rasa):
    rasa.citizen_says("c-view", "小区门口路灯坏了一个月，在南开区幸福小区东门", intent="file_complaint")
    rasa.citizen_says("c-view", "转人工", intent="request_human")
    rasa.slots["c-view"] = {"requested_slot": "phone"}
    await queued("c-view", last_message="转人工", category="城乡建设", picked_by_agent=True)
    page = await agent_page("wang")
    await page.keyboard.press("n")  # N takes the citizen who waited longest
    await page.wait_for_url(BASE + "/conversations/c-view")
    await page.wait_for_selector("#question >> text=路灯坏了")
    summary = await page.inner_text("#summary")
    assert "转人工" not in summary.replace("转人工时间", "") and "picked_by_agent" not in summary
    assert "最后一句话" not in summary
    # the ticket form is on screen at 1280×800 and pre-filled (智能填单)
    form = page.locator("#ticket")
    box = await form.locator("select[name=category]").bounding_box()
    assert box and box["y"] + box["height"] <= 800
    assert await form.locator("select[name=category]").input_value() == "城乡建设"
    assert "幸福小区东门" in await form.locator("input[name=address]").input_value()
    assert await form.locator("input[name=department]").input_value()
    # canned replies on Alt+number, into the reply box
    await page.keyboard.press("Alt+2")
    assert "哪个区" in await page.input_value("#reply-text")
    # saving the ticket tells the citizen its number
    await form.locator("input[name=phone]").fill("13812345678")
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector("#done >> text=工单号已发给市民")
    said = [a["event"]["text"] for a in rasa.appended if a["id"] == "c-view" and a["event"]["event"] == "bot"]
    assert "已为您登记工单" in said[-1]
    # Alt+H hands back and the agent is back at the queue
    await page.keyboard.press("Alt+h")
    await page.wait_for_url(BASE + "/")
    assert [t["body"]["name"] for t in rasa.triggered] == ["EXTERNAL_handback"]


async def test_a_new_waiting_citizen_shows_inside_a_conversation(agent_page, queued, rasa):
    rasa.citizen_says("c-mine", "咨询公积金")
    await queued("c-mine")
    page = await agent_page("wang")
    await page.locator("#waiting button", has_text="接入").click()
    await page.wait_for_url(BASE + "/conversations/c-mine")
    await page.wait_for_function("() => document.body.dataset.live === '1'")
    await queued("c-new")
    badge = page.locator("#waiting-badge")
    await badge.wait_for(state="visible")
    assert "1位市民等待" in await badge.inner_text()


async def test_search_finds_a_conversation_by_ticket_number(agent_page, queued, rasa, console, login_as, settings):
    rasa.citizen_says("c-find", "井盖丢了很危险", intent="file_complaint")
    await queued("c-find")
    headers = {"X-CSRF-Token": await login_as(console, "wang")}
    await console.post("/api/conversations/c-find/take", headers=headers)
    ticket = await (
        await console.post(
            "/api/conversations/c-find/tickets",
            headers=headers,
            json={"category": "城乡建设", "description": "井盖丢了", "phone": "13812345678"},
        )
    ).json()
    client = redis.Redis.from_url(settings.redis_url)
    client.set("bianmin:tracker:c-find", json.dumps({"name": "c-find", "events": rasa.events["c-find"]}))
    client.close()
    page = await agent_page("li")
    await page.keyboard.press("/")
    await page.keyboard.type(ticket["number"])
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#results >> text=井盖丢了很危险")


async def test_every_console_page_has_no_serious_accessibility_violations(
    browser, agent_page, queued, rasa, axe, screenshot
):
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    login = await context.new_page()
    await login.goto(BASE + "/login")
    assert await axe(login) == [], "login"
    await context.close()
    rasa.citizen_says("c-axe", "小区门口路灯坏了一个月了，在南开区幸福小区东门，电话13812345678", "file_complaint")
    rasa.citizen_says("c-axe", "转人工", "request_human")
    rasa.slots["c-axe"] = {"predicted_category": "城乡建设"}
    await queued("c-axe", last_message="转人工", category="城乡建设")
    rasa.citizen_says("c-axe2", "公积金怎么提取")
    await queued("c-axe2", last_message="公积金怎么提取")
    page = await agent_page("boss")
    await page.wait_for_selector("#waiting tr[data-id=c-axe]")
    assert await axe(page) == [], "queue (supervisor)"
    await screenshot(page, "console-queue")
    await page.locator("#waiting tr[data-id=c-axe] button", has_text="接入").click()
    await page.wait_for_selector("#ticket:not(.hidden)")
    await page.fill("#reply-text", "您好，您反映的路灯问题我已经记录，马上为您登记工单。")
    await page.keyboard.press("Control+Enter")
    await page.wait_for_selector(".turn.agent >> text=马上为您登记工单")
    assert await axe(page) == [], "conversation"
    await screenshot(page, "console-conversation")
    phone = await agent_page("wang", viewport={"width": 375, "height": 812})
    await phone.wait_for_selector("#waiting tr")
    assert await axe(phone) == [], "queue (agent, phone)"
    await screenshot(phone, "console-queue")
    await phone.goto(BASE + "/conversations/c-axe")
    await phone.wait_for_selector("#question >> text=路灯")
    assert await axe(phone) == [], "conversation (supervisor's view of a held one, phone)"
    await screenshot(phone, "console-conversation")
    await phone.goto(BASE + "/corrections")
    await phone.wait_for_selector("#correction-rates")
    assert await axe(phone) == [], "corrections (phone)"


NOTIFICATION_STUB = """
window.__notes = [];
window.Notification = function (title, options) { window.__notes.push([title, (options || {}).body]); };
window.Notification.permission = "granted";
window.Notification.requestPermission = () => Promise.resolve("granted");
document.hasFocus = () => false;  // the agent is working in another window
"""


async def test_desktop_notification_and_the_supervisors_board(agent_page, queued, rasa):
    page = await agent_page("boss")
    await page.add_init_script(NOTIFICATION_STUB)
    await page.reload()
    await page.wait_for_function("() => document.body.dataset.live === '1'")
    rasa.citizen_says("c-note", "我要投诉物业乱收费")
    await queued("c-note", description="我要投诉物业乱收费")
    await page.wait_for_function("() => window.__notes.length > 0")
    assert await page.evaluate("() => window.__notes[0]") == ["1位市民等待人工", "我要投诉物业乱收费"]
    board = page.locator("#agents")
    assert "小王" in await board.inner_text() and "班长" in await board.inner_text()
    assert "等待 1 位" in await page.inner_text("#board-note")


async def test_alt_t_sends_the_ticket_number(agent_page, queued, rasa, console, login_as):
    headers = {"X-CSRF-Token": await login_as(console, "wang")}
    await queued("c-alt-t")
    await console.post("/api/conversations/c-alt-t/take", headers=headers)
    response = await console.post(
        "/api/conversations/c-alt-t/tickets",
        headers=headers,
        json={"category": "民政", "description": "低保申请", "phone": "13812345678", "announce": False},
    )
    number = (await response.json())["number"]
    page = await agent_page("wang")
    await page.goto(BASE + "/conversations/c-alt-t")
    await page.wait_for_selector(f"#tickets code >> text={number}")
    await page.keyboard.press("Alt+t")
    await page.wait_for_selector(f"#done >> text={number}")
    said = [a["event"]["text"] for a in rasa.appended if a["id"] == "c-alt-t" and a["event"]["event"] == "bot"]
    assert number in said[-1]
