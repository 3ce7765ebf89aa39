"""The agent console: an aiohttp app with server-rendered pages, a JSON API and a live event stream."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from pathlib import Path
from string import Template
from typing import Any, Dict, Optional

from aiohttp import web

from bot.categories import CATEGORIES
from bot.handoff import HandoffStore
from bot.personal_data import mask_deep
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.redis_client import async_redis
from bot.settings import Settings
from bot.threads import in_thread
from bot.ticket_client import TicketClient
from bot.ticket_contract import RATINGS
from console import desk
from console.accounts import Accounts
from console.audit import AUDIT, AuditLog, audit_middleware
from console.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_TTL,
    SESSIONS,
    Session,
    Sessions,
    auth_middleware,
    client_ip,
    same_token,
    session_secret,
)
from console.conversations import ConsoleError, Conversations, list_item
from console.system import fetch_health, notices

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
CORRECTION_DAYS = 30  # the window of the 分类纠正 page
TRANSCRIPT_POLL = 1.0  # seconds between tracker reads for a conversation open in a console
_templates: Dict[str, Template] = {}
SETTINGS = web.AppKey("settings", Settings)
ACCOUNTS = web.AppKey("accounts", Accounts)
STORE = web.AppKey("store", HandoffStore)
CONVERSATIONS = web.AppKey("conversations", Conversations)


def render(name: str, **values: Any) -> web.Response:
    """A page from console/templates/<name>.html inside layout.html (values are HTML-escaped)."""
    from html import escape

    def template(file: str) -> Template:
        if file not in _templates:
            _templates[file] = Template((HERE / "templates" / f"{file}.html").read_text(encoding="utf-8"))
        return _templates[file]

    safe = {key: escape(str(value)) for key, value in values.items()}
    body = template(name).safe_substitute(safe)
    account = template("account").safe_substitute(safe) if values.get("user") else ""
    page = template("layout").safe_substitute({**safe, "body": body, "account": account})
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


def _session(request: web.Request) -> Session:
    return request["session"]


async def _json_body(request: web.Request) -> Dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # RecursionError: "[[[[...]]]]" nested thousands deep
        raise ConsoleError(400, "请求内容不是有效的JSON") from None
    if not isinstance(body, dict):
        raise ConsoleError(400, "请求内容必须是JSON对象")
    return body


@web.middleware
async def error_middleware(request: web.Request, handler):
    """Turns refused operations and an unreachable Rasa into JSON errors the front end shows."""
    try:
        return await handler(request)
    except ConsoleError as error:
        return web.json_response({"error": str(error)}, status=error.status)
    except RasaUnavailable as error:
        logger.warning("%s %s: %s", request.method, request.path, error)
        return web.json_response({"error": f"机器人服务暂时无法访问：{error}"}, status=502)


# --- pages -------------------------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def login_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    if _session(request) is not None and not error:
        raise web.HTTPFound("/")
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        "login",
        title="登录",
        csrf=token,
        error=error,
        user="",
        role="",
        me="",
        supervisor="0",
        page="login",
        error_class="error" if error else "hidden",
    )
    response.set_status(status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/login")
    return response


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    if not same_token(str(form.get("csrf") or ""), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return await login_page(request, "页面已过期，请重新登录。", 403)
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    sessions: Sessions = request.app[SESSIONS]
    agent, refusal, status = await sessions.log_in(name, password, client_ip(request))
    if agent is None:
        return await login_page(request, refusal, status)
    response = web.HTTPFound("/")
    response.set_cookie(
        COOKIE,
        await sessions.create(agent),
        httponly=True,
        samesite="Strict",
        path="/",
        max_age=SESSION_TTL,
        secure=request.secure,
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.Response:
    await request.app[SESSIONS].delete(request.cookies.get(COOKIE))
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


def _page_values(session: Session) -> Dict[str, Any]:
    return {
        "user": session.display_name,
        "role": "班长" if session.supervisor else "坐席",
        "csrf": session.csrf,
        "supervisor": "1" if session.supervisor else "0",
        "me": session.name,
    }


async def queue_page(request: web.Request) -> web.Response:
    return render("queue", title="等待队列", page="queue", **_page_values(_session(request)))


async def corrections_page(request: web.Request) -> web.Response:
    """How often dispatchers corrected each category over the last 30 days (from the ticket backend)."""
    try:
        rates = (await request.app[CONVERSATIONS].tickets.correction_rates(CORRECTION_DAYS))["categories"]
        empty = "近期没有工单"
    except Exception:  # the ticket backend is down or does not offer corrections: say so on the page
        logger.exception("console: correction rates unavailable")
        rates, empty = [], "工单系统暂时无法提供纠正统计"
    values = _page_values(_session(request))
    return render(
        "corrections",
        title="分类纠正",
        page="corrections",
        days=CORRECTION_DAYS,
        empty=empty,
        rates=json.dumps(rates, ensure_ascii=False),
        **values,
    )


async def conversation_page(request: web.Request) -> web.Response:
    return render(
        "conversation",
        title="会话",
        page="conversation",
        conversation=request.match_info["id"],
        categories=json.dumps(CATEGORIES, ensure_ascii=False),
        **_page_values(_session(request)),
    )


# --- API ---------------------------------------------------------------------------------------------


async def _display_names(app: web.Application) -> Dict[str, str]:
    return {agent.name: agent.display_name for agent in await in_thread(app[ACCOUNTS].list)}


async def api_queue(request: web.Request) -> web.Response:
    session, store, zone = _session(request), request.app[STORE], request.app[SETTINGS].timezone
    names, now = await _display_names(request.app), time.time()
    waiting = [list_item(record, names, now, zone) for record in await store.waiting()]
    active = [list_item(record, names, now, zone) for record in await store.active()]
    body: Dict[str, Any] = {
        "waiting": waiting,
        "mine": [item for item in active if item["agent"] == session.name],
        "now": now,
        "clock": desk.local_time(now, zone),
    }
    if session.supervisor:
        ratings = await store.ratings()
        body["active"] = active
        body["agents"] = [
            {
                "name": name,
                "display_name": display,
                "holding": sum(1 for item in active if item["agent"] == name),
                "longest": max(
                    (now - (item["taken_at"] or now) for item in active if item["agent"] == name), default=0
                ),
                "ratings": ratings.get(name, {}),
            }
            for name, display in names.items()
        ]
        body["ratings"] = {names.get(agent, agent): counts for agent, counts in ratings.items()}
        body["rating_scale"] = list(RATINGS)  # 好差评, in order: the table's columns
        body["longest_wait"] = max((item["waited"] for item in waiting), default=0)
    return web.json_response(body)


async def api_stuck(request: web.Request) -> web.Response:
    """Conversations that asked for a human in the last hour but are not in the queue nor held."""
    store, zone, now = request.app[STORE], request.app[SETTINGS].timezone, time.time()
    rows = []
    for conversation_id, events in (await desk.trackers(store.redis)).items():
        asked = desk.asked_for_human_at(events)
        if asked is None or now - asked > desk.STUCK_WINDOW:
            continue
        record = await store.get(conversation_id)
        if record is not None and record.status in ("waiting", "active"):
            continue
        rows.append(desk.row(conversation_id, events, zone, asked=asked, waited=round(now - asked, 1)))
    rows.sort(key=lambda item: item["asked"])
    return web.json_response({"stuck": mask_deep(rows)})


async def api_system(request: web.Request) -> web.Response:
    """What agents should know of the stack's health (parts down, recent restarts, complaints kept)."""
    return web.json_response({"notices": notices(await fetch_health(request.app[SETTINGS].health_url))})


async def api_search(request: web.Request) -> web.Response:
    """Conversations by phone number, ticket number or words the citizen wrote (newest first)."""
    query = (request.query.get("q") or "").strip()
    if not query or len(query) > 64:
        raise ConsoleError(400, "请输入电话、工单号或关键词")
    store, zone = request.app[STORE], request.app[SETTINGS].timezone
    found: Dict[str, Dict[str, Any]] = {}
    everything = await desk.trackers(store.redis)
    tickets = request.app[CONVERSATIONS].tickets
    numbers: Dict[str, str] = {}
    try:
        if any(ch.isdigit() for ch in query):
            ticket = await tickets.get_ticket(query)
            if ticket.get("sender_id"):
                numbers[ticket["sender_id"]] = ticket.get("number") or query
    except Exception:  # not a ticket number (or the ticket backend is down): the text search still runs
        pass
    for conversation_id, events in everything.items():
        if conversation_id in numbers or desk.matches(events, query):
            record = await store.get(conversation_id)
            found[conversation_id] = desk.row(
                conversation_id,
                events,
                zone,
                ticket=numbers.get(conversation_id),
                status=record.status if record else "bot",
                sort=desk.last_time(events),
            )
    rows = sorted(found.values(), key=lambda item: -item.pop("sort"))[:50]
    return web.json_response({"results": mask_deep(rows)})


async def api_conversation(request: web.Request) -> web.Response:
    data = await request.app[CONVERSATIONS].view(request.match_info["id"], _session(request).name)
    if data.get("agent"):
        data["agent_name"] = (await _display_names(request.app)).get(data["agent"], data["agent"])
    return web.json_response(data)


async def api_take(request: web.Request) -> web.Response:
    session = _session(request)
    await request.app[CONVERSATIONS].take(request.match_info["id"], session.name, session.display_name)
    return web.json_response({"ok": True})


async def api_pick_up(request: web.Request) -> web.Response:
    session, body = _session(request), await _json_body(request)
    conversation_id = str(body.get("id") or "").strip()
    if not conversation_id or len(conversation_id) > 128:
        raise ConsoleError(400, "请输入会话ID")
    await request.app[CONVERSATIONS].pick_up(conversation_id, session.name, session.display_name)
    return web.json_response({"ok": True, "id": conversation_id})


async def api_reply(request: web.Request) -> web.Response:
    session, body = _session(request), await _json_body(request)
    await request.app[CONVERSATIONS].reply(
        request.match_info["id"], session.name, session.display_name, str(body.get("text") or "")
    )
    return web.json_response({"ok": True})


async def api_hand_back(request: web.Request) -> web.Response:
    await request.app[CONVERSATIONS].hand_back(request.match_info["id"], _session(request).name)
    return web.json_response({"ok": True})


async def api_close(request: web.Request) -> web.Response:
    session = _session(request)
    await request.app[CONVERSATIONS].close(
        request.match_info["id"], session.name, session.supervisor, await _display_names(request.app)
    )
    return web.json_response({"ok": True})


async def api_announce(request: web.Request) -> web.Response:
    """Sends a ticket number to the citizen ("send the ticket number" in the conversation view)."""
    number = str((await _json_body(request)).get("number") or "").strip()
    if not number or len(number) > 64:
        raise ConsoleError(400, "请提供工单号")
    await request.app[CONVERSATIONS].announce_ticket(request.match_info["id"], _session(request).name, number)
    return web.json_response({"ok": True})


async def api_reassign(request: web.Request) -> web.Response:
    if not _session(request).supervisor:
        raise ConsoleError(403, "只有班长可以转派会话")
    target = str((await _json_body(request)).get("agent") or "")
    if target not in await _display_names(request.app):
        raise ConsoleError(400, "没有这个坐席账号")
    await request.app[CONVERSATIONS].reassign(request.match_info["id"], target)
    return web.json_response({"ok": True})


async def api_create_ticket(request: web.Request) -> web.Response:
    ticket = await request.app[CONVERSATIONS].create_ticket(
        request.match_info["id"], _session(request).name, await _json_body(request)
    )
    return web.json_response(ticket, status=201)


async def api_update_ticket(request: web.Request) -> web.Response:
    ticket = await request.app[CONVERSATIONS].update_ticket(
        request.match_info["id"], _session(request).name, request.match_info["number"], await _json_body(request)
    )
    return web.json_response(ticket)


async def _pump_store(store: HandoffStore, queue: asyncio.Queue) -> None:
    async for event in store.events():
        await queue.put(("ping" if event.get("type") == "ping" else "handoff", event))


async def _poll_transcript(
    conversations: Conversations, conversation_id: str, agent: str, queue: asyncio.Queue
) -> None:
    seen: Optional[int] = None
    while True:
        try:
            data = await conversations.transcript(conversation_id, agent)
            if data["count"] != seen:
                seen = data["count"]
                await queue.put(("transcript", data))
        except RasaUnavailable as error:
            await queue.put(("problem", {"error": str(error)}))
        await asyncio.sleep(TRANSCRIPT_POLL)


async def api_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: every handoff change (Redis pub/sub), plus the transcript of ?conversation=
    whenever it changes (the tracker is polled while this stream is open)."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    queue: asyncio.Queue = asyncio.Queue()
    tasks = [asyncio.create_task(_pump_store(request.app[STORE], queue))]
    conversation_id = request.query.get("conversation")
    if conversation_id:
        tasks.append(
            asyncio.create_task(
                _poll_transcript(request.app[CONVERSATIONS], conversation_id, _session(request).name, queue)
            )
        )
    try:
        await response.write(b"event: ready\ndata: {}\n\n")
        while True:
            kind, data = await queue.get()
            await response.write(f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return response


# --- app ---------------------------------------------------------------------------------------------


async def _connections(app: web.Application):
    """Opens the connections to Redis, Rasa and the ticket backend on start-up; closes them on clean-up."""
    settings = app[SETTINGS]
    redis_client = async_redis(settings.redis_url, decode_responses=True, socket_connect_timeout=2)
    rasa = RasaClient(settings)
    app[SESSIONS] = Sessions(redis_client, session_secret(settings), app[ACCOUNTS], settings.trusted_proxies.split())
    app[STORE] = HandoffStore(redis_client)
    app[CONVERSATIONS] = Conversations(app[STORE], rasa, TicketClient.from_settings(settings), settings.timezone)
    yield
    await rasa.close()
    await redis_client.close()
    await redis_client.connection_pool.disconnect()


ROUTES = [
    web.get("/health", health),
    web.get("/login", login_page),
    web.post("/login", login),
    web.post("/logout", logout),
    web.get("/", queue_page),
    web.get("/conversations/{id}", conversation_page),
    web.get("/corrections", corrections_page),
    web.get("/api/queue", api_queue),
    web.get("/api/stream", api_stream),
    web.post("/api/pickup", api_pick_up),
    web.get("/api/stuck", api_stuck),
    web.get("/api/system", api_system),
    web.get("/api/search", api_search),
    web.get("/api/conversations/{id}", api_conversation),
    web.post("/api/conversations/{id}/take", api_take),
    web.post("/api/conversations/{id}/reply", api_reply),
    web.post("/api/conversations/{id}/handback", api_hand_back),
    web.post("/api/conversations/{id}/close", api_close),
    web.post("/api/conversations/{id}/reassign", api_reassign),
    web.post("/api/conversations/{id}/tickets", api_create_ticket),
    web.post("/api/conversations/{id}/announce", api_announce),
    web.post("/api/conversations/{id}/tickets/{number}", api_update_ticket),
    web.static("/static/", HERE / "static"),
]


def create_app(settings: Settings, accounts: Optional[Accounts] = None) -> web.Application:
    """The console app for `settings` (Redis, Rasa, ticket backend and accounts database)."""
    app = web.Application(middlewares=[audit_middleware, error_middleware, auth_middleware], client_max_size=256 * 1024)
    app[SETTINGS] = settings
    app[ACCOUNTS] = accounts or Accounts(settings.database_url)
    app[AUDIT] = AuditLog(app[ACCOUNTS].engine)
    app.cleanup_ctx.append(_connections)
    app.add_routes(ROUTES)
    return app
