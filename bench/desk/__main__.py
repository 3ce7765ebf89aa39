"""bench/desk: one scripted shift of 20 handoffs at the agent console, before and after issue 17.

`python -m bench.desk [--baseline-commit 60a5c14] [--delay-ms 40]` extracts the console as it was at the
baseline commit into a temporary folder (git archive; the working tree is not touched), serves it and
the current console as two processes on the same Redis (db 6), a fake Rasa HTTP API and the real
ticket backend, and lets a scripted agent in headless Chromium work the same 20 citizens on each:
5 questions, 5 complaints to file, 5 ticket-status requests and 5 angry citizens. Per handoff it counts
clicks and keystrokes (every typed character counts as one) and measures the wall time from the queue
page to the queue page again with the conversation finished. Writes bench/desk/REPORT.md and
bench/desk/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional

import redis
from aiohttp import web

from bot.handoff import HandoffStore, handoff_summary
from bot.settings import ROOT, load

HERE = Path(__file__).resolve().parent
RASA_PORT, TICKETS_PORT, OLD_PORT, NEW_PORT = 44201, 44202, 44203, 44204
REDIS_DB = 6  # a database no test suite flushes (the others run concurrently on 11-15)
TOKEN, TICKETS_TOKEN, PASSWORD = "bench-rasa-token", "bench-tickets-token", "bench desk password 1"
CLICK_S, KEY_S, THINK_S = 1.1, 0.28, 1.35  # keystroke-level model: point-and-click, keystroke, mental step
# Reading and checking, the same before and after: read the question (+ pick the answer / read the
# ticket's status / decide), and for a complaint check five ticket fields.
THINKS = {"question": 2, "complaint": 6, "status": 2, "angry": 2}

QUESTIONS = ["暖气不热怎么办", "公积金怎么提取", "社保卡丢了怎么补办", "今年什么时候开始供暖", "居住证怎么办理"]
COMPLAINTS = [
    ("小区门口路灯坏了一个月了，在南开区幸福小区东门，我电话13812345678", "城乡建设"),
    ("楼上装修噪音太大，昨晚十点还在施工，河西区友谊路18号，电话13900001111", "环境保护"),
    ("公交12路司机拒载老人，今天上午在红桥区光荣道站，电话13700002222", "交通运输"),
    ("超市卖过期食品不给退，昨天下午，和平区南京路99号，电话13600003333", "商贸旅游"),
    ("井盖丢了很危险，已经三天了，河东区十一经路口，电话13500004444", "城乡建设"),
]
STATUS = [
    "我上周投诉的工单办得怎么样了",
    "我的工单有进展吗",
    "投诉的事情处理了吗",
    "工单什么时候能办好",
    "查一下我的工单",
]
ANGRY = [
    "你们这个机器人什么都听不懂！我要找人！",
    "打了三次电话都没人管，太气人了",
    "物业乱收费你们到底管不管",
    "说了好几遍了还是没解决，什么服务！",
    "我等了半个月没人回复，你们是摆设吗",
]
OLD_ANSWER = (
    "您好，关于您的问题，请参考以下办理方式：{q}可以通过政务服务网在线办理，也可以到就近的政务服务中心窗口办理。"
)
OLD_APOLOGY = "非常理解您的心情，给您带来不便很抱歉，我会尽力帮您解决。"


@dataclass
class Citizen:
    id: str
    kind: str
    texts: List[str]
    slots: Dict[str, Any] = field(default_factory=dict)
    category: Optional[str] = None


def shift() -> List[Citizen]:
    citizens = []
    for i in range(5):
        citizens.append(Citizen(f"q{i}", "question", [QUESTIONS[i]]))
        text, category = COMPLAINTS[i]
        citizens.append(
            Citizen(f"c{i}", "complaint", [text], {"description": text.split("，")[0], "predicted_category": category})
        )
        citizens.append(Citizen(f"s{i}", "status", [STATUS[i]]))
        citizens.append(Citizen(f"a{i}", "angry", [ANGRY[i]]))
    return citizens


class FakeRasa:
    """The three calls of Rasa's HTTP API the console makes (tracker, tracker/events, trigger_intent)."""

    def __init__(self) -> None:
        self.events: Dict[str, List[Dict[str, Any]]] = {}
        self.slots: Dict[str, Dict[str, Any]] = {}
        self.app = web.Application()
        self.app.router.add_get("/conversations/{id}/tracker", self.tracker)
        self.app.router.add_post("/conversations/{id}/tracker/events", self.append)
        self.app.router.add_post("/conversations/{id}/trigger_intent", self.trigger)

    def state(self, conversation_id: str) -> Dict[str, Any]:
        events = self.events.get(conversation_id, [])
        return {
            "sender_id": conversation_id,
            "events": events,
            "slots": self.slots.get(conversation_id, {}),
            "latest_message": next((e.get("parse_data") for e in reversed(events) if e["event"] == "user"), {}),
            "latest_input_channel": "socketio",
        }

    async def tracker(self, request: web.Request) -> web.Response:
        return web.json_response(self.state(request.match_info["id"]))

    async def append(self, request: web.Request) -> web.Response:
        body = await request.json()
        for event in body if isinstance(body, list) else [body]:
            self.events.setdefault(request.match_info["id"], []).append({**event, "timestamp": time.time()})
        return web.json_response({})

    async def trigger(self, request: web.Request) -> web.Response:
        self.events.setdefault(request.match_info["id"], []).append(
            {"event": "bot", "text": "还有什么可以帮您？", "timestamp": time.time()}
        )
        return web.json_response({"tracker": {}, "messages": []})

    def says(self, conversation_id: str, text: str, intent: str) -> None:
        self.events.setdefault(conversation_id, []).append(
            {
                "event": "user",
                "text": text,
                "timestamp": time.time(),
                "input_channel": "socketio",
                "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []},
            }
        )


SERVE = """
import sys
from aiohttp import web
from bot.settings import load
from console.accounts import Accounts
from console.app import create_app
settings = load()
accounts = Accounts(settings.database_url)
try:
    accounts.add("wang", sys.argv[2], display_name="小王")
except Exception:
    pass
web.run_app(create_app(settings, accounts), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def serve_console(tree: Path, port: int, env: Dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), PASSWORD],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


class Agent:
    """Playwright page plus counters of what the agent pressed."""

    def __init__(self, page, base: str, delay_ms: int) -> None:
        self.page, self.base, self.delay = page, base, delay_ms
        self.clicks = self.keys = 0

    async def click(self, selector: str) -> None:
        self.clicks += 1
        await self.page.click(selector)

    async def type(self, selector: Optional[str], text: str) -> None:
        if selector:
            await self.click(selector)
        self.keys += len(text)
        await self.page.keyboard.type(text, delay=self.delay)

    async def press(self, key: str) -> None:
        self.keys += 1
        await self.page.keyboard.press(key)


async def old_flow(agent: Agent, citizen: Citizen, ticket_number: Optional[str]) -> None:
    page = agent.page
    await agent.click("#waiting tr:first-child button")
    await page.wait_for_selector("#reply:not(.hidden)")
    if citizen.kind == "question":
        await agent.type("#reply textarea", OLD_ANSWER.format(q=citizen.texts[0]))
        await agent.press("Control+Enter")
    elif citizen.kind == "complaint":
        text = citizen.texts[0]
        await agent.click("#ticket select[name=category]")  # the form starts below the fold, category checked
        agent.clicks += 1
        await page.select_option("#ticket select[name=category]", citizen.slots["predicted_category"])
        parts = text.split("，")
        await agent.type("#ticket input[name=address]", parts[2] if len(parts) > 3 else parts[1])
        await agent.type("#ticket input[name=occurred_at]", parts[1] if len(parts) > 3 else "")
        await agent.type("#ticket input[name=phone]", text[-11:])
        count = await page.locator("#tickets code").count()
        await agent.click("#ticket button[type=submit]")
        await page.wait_for_function(f"() => document.querySelectorAll('#tickets code').length > {count}")
        number = await page.locator("#tickets code").first.inner_text()
        await agent.type("#reply textarea", f"已为您登记工单，工单号：{number}，可以随时查询进度。")
        await agent.press("Control+Enter")
    elif citizen.kind == "status":
        await page.wait_for_selector("#tickets code")
        await agent.type(
            "#reply textarea", f"您的工单{ticket_number}目前状态为“处理中”，承办单位正在按时限办理，办结后会通知您。"
        )
        await agent.press("Control+Enter")
    else:
        await agent.type("#reply textarea", OLD_APOLOGY)
        await agent.press("Control+Enter")
        await agent.click("#close")
        agent.clicks += 1  # the confirm dialog's OK
        await page.wait_for_selector("#close.hidden", state="attached")
        await agent.click("a.brand")
        await page.wait_for_url(agent.base + "/")
        return
    await page.wait_for_function("() => document.querySelector('#reply textarea').value === ''")
    await agent.click("#handback")
    await page.wait_for_selector("#handback.hidden", state="attached")
    await agent.click("a.brand")  # back to the queue by hand
    await page.wait_for_url(agent.base + "/")


async def new_flow(agent: Agent, citizen: Citizen, ticket_number: Optional[str]) -> None:
    page = agent.page
    await agent.press("n")  # take the citizen who waited longest
    await page.wait_for_selector("#reply:not(.hidden)")
    await page.wait_for_function("() => document.querySelector('#question').textContent.length > 0")
    if citizen.kind == "question":
        await page.wait_for_selector("#suggestions li button")
        await agent.click("#suggestions li:first-child button")  # 填入回复: the answer to the citizen's question
        await agent.press("Control+Enter")
    elif citizen.kind == "complaint":
        count = await page.locator("#tickets code").count()
        await agent.press("Alt+s")  # 智能填单 pre-filled the form: the agent checks it and saves
        await page.wait_for_function(f"() => document.querySelectorAll('#tickets code').length > {count}")
    elif citizen.kind == "status":
        await page.wait_for_selector("#tickets code")
        await agent.press("Alt+8")  # 常用语 with the ticket number and status filled in
        await agent.press("Control+Enter")
    else:
        await agent.press("Alt+6")
        await agent.press("Control+Enter")
        await page.wait_for_function("() => document.querySelector('#reply-text').value === ''")
        await agent.click("#close")
        agent.clicks += 1  # the confirm dialog's OK
        await page.wait_for_url(agent.base + "/")
        return
    await page.wait_for_function("() => document.querySelector('#reply-text').value === ''")
    await agent.press("Alt+h")  # hand back; the console returns to the queue
    await page.wait_for_url(agent.base + "/")


async def run_shift(
    name: str, port: int, flow, rasa: FakeRasa, settings, browser, delay_ms: int
) -> List[Dict[str, Any]]:
    from bot.ticket_client import TicketClient

    redis.Redis.from_url(settings.redis_url).flushdb()
    store = HandoffStore.from_url(settings.redis_url)
    tickets = TicketClient.from_settings(settings)
    base = f"http://127.0.0.1:{port}"
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = await context.new_page()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(base + "/login")
    await page.fill("input[name=name]", "wang")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(base + "/")
    rows = []
    try:
        for citizen in [Citizen("warm", "question", ["暖气不热怎么办"])] + shift():
            conversation_id = f"{name}-{citizen.id}"
            ticket_number = None
            for text in citizen.texts:
                rasa.says(conversation_id, text, "file_complaint" if citizen.kind == "complaint" else "ask_question")
            rasa.says(conversation_id, "转人工", "request_human")
            rasa.slots[conversation_id] = citizen.slots
            if citizen.kind == "status":
                ticket = await tickets.create_ticket(
                    {
                        "category": "城乡建设",
                        "description": "路面坑洼",
                        "phone": "13812345678",
                        "sender_id": conversation_id,
                        "client_ref": conversation_id,
                        "channel": "webchat",
                    }
                )
                ticket_number = ticket["number"]
            await store.enqueue(conversation_id, handoff_summary(rasa.state(conversation_id)))
            await page.wait_for_selector(f"#waiting tr[data-id='{conversation_id}']")
            agent = Agent(page, base, delay_ms)
            started = time.perf_counter()
            try:
                await flow(agent, citizen, ticket_number)
            except Exception:
                await page.screenshot(path=str(settings.var_dir / f"failed-{conversation_id}.png"))
                print(await page.content(), file=sys.stderr)
                raise
            wall = time.perf_counter() - started
            if citizen.id == "warm":
                continue  # loads the knowledge base in the console process
            rows.append(
                {
                    "console": name,
                    "kind": citizen.kind,
                    "id": conversation_id,
                    "clicks": agent.clicks,
                    "keys": agent.keys,
                    "wall_s": round(wall, 2),
                    "klm_s": round(agent.clicks * CLICK_S + agent.keys * KEY_S + THINKS[citizen.kind] * THINK_S, 1),
                }
            )
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    finally:
        await context.close()
        await store.close()
    return rows


def summarise(rows: List[Dict[str, Any]]) -> Dict[str, Dict[str, float]]:
    table: Dict[str, Dict[str, float]] = {}
    for console in ("before", "after"):
        for kind in ("question", "complaint", "status", "angry", "all"):
            mine = [r for r in rows if r["console"] == console and kind in (r["kind"], "all")]
            table[f"{console}/{kind}"] = {
                "n": len(mine),
                "actions": statistics.mean(r["clicks"] + r["keys"] for r in mine),
                "clicks": statistics.mean(r["clicks"] for r in mine),
                "keys": statistics.mean(r["keys"] for r in mine),
                "wall_s": statistics.mean(r["wall_s"] for r in mine),
                "klm_s": statistics.mean(r["klm_s"] for r in mine),
            }
    return table


async def main(args) -> None:
    from playwright.async_api import async_playwright

    from tickets.app import create_app as tickets_app

    work = Path(tempfile.mkdtemp(prefix="bianmin-bench-desk-"))
    old_tree = work / "before"
    old_tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", args.baseline_commit, "console", "bot"], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive.stdout, check=True)
    base = load()
    redis_url = base.redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    settings = replace(
        base,
        redis_url=redis_url,
        database_url=f"sqlite:///{work / 'tickets.sqlite3'}",
        var_dir=work,
        rasa_url=f"http://127.0.0.1:{RASA_PORT}",
        rasa_token=TOKEN,
        tickets_url=f"http://127.0.0.1:{TICKETS_PORT}",
        tickets_token=TICKETS_TOKEN,
        staffed_hours="00:00-24:00",
    )
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "BIANMIN_RASA_URL": settings.rasa_url,
        "BIANMIN_RASA_TOKEN": TOKEN,
        "BIANMIN_TICKETS_URL": settings.tickets_url,
        "BIANMIN_TICKETS_TOKEN": TICKETS_TOKEN,
        "BIANMIN_FAQ_DIR": str(base.faq_dir),
        "BIANMIN_EMBEDDINGS_CACHE": str(base.embeddings_cache),
    }
    rasa = FakeRasa()
    runners = []
    for app, port in ((rasa.app, RASA_PORT), (tickets_app(settings), TICKETS_PORT)):
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    processes = []
    for tree, port, label in ((old_tree, OLD_PORT, "before"), (ROOT, NEW_PORT, "after")):
        processes.append(
            serve_console(
                tree,
                port,
                {
                    **env,
                    "DATABASE_URL": f"sqlite:///{work / (label + '.sqlite3')}",
                    "BIANMIN_VAR_DIR": str(work / label),
                },
                work / f"{label}.log",
            )
        )
    try:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            for port in (OLD_PORT, NEW_PORT):
                for _ in range(200):
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/health") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
        rows: List[Dict[str, Any]] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            rows += await run_shift("before", OLD_PORT, old_flow, rasa, settings, browser, args.delay_ms)
            rows += await run_shift("after", NEW_PORT, new_flow, rasa, settings, browser, args.delay_ms)
            await browser.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        for runner in runners:
            await runner.cleanup()
    table = summarise(rows)
    (HERE / "results.json").write_text(
        json.dumps(
            {"baseline": args.baseline_commit, "delay_ms": args.delay_ms, "rows": rows, "summary": table},
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(json.dumps(table, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-commit", default="60a5c14")
    parser.add_argument("--delay-ms", type=int, default=40, help="delay between typed characters")
    asyncio.run(main(parser.parse_args()))
