"""The reference ticket (工单) backend's HTTP API (documented in tickets/openapi.yaml)."""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Set

import sqlalchemy as sa
from aiohttp import web

from bot.rasa_client import trigger_intent
from bot.settings import Settings
from bot.threads import in_thread
from bot.ticket_contract import TICKET_NUMBER
from tickets import fields
from tickets.fields import Invalid
from tickets.store import TicketConflict, TicketMissing, TicketStore

logger = logging.getLogger(__name__)

OPENAPI = Path(__file__).with_name("openapi.yaml")
PUBLIC_PATHS = ("/health", "/openapi.yaml")
SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", TicketStore)
BACKGROUND = web.AppKey("background", Set[asyncio.Task])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error is JSON {"error": "..."} with the right status code."""
    try:
        return await handler(request)
    except Invalid as error:
        return _error(400, str(error))
    except TicketMissing as error:
        return _error(404, f"no ticket with number {error}")
    except TicketConflict as error:
        return _error(409, str(error))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _error(error.status, error.reason)
    except sa.exc.OperationalError:
        logger.exception("database unavailable")
        return _error(503, "database unavailable, try again later")


def bearer_auth(token: str) -> Callable:
    """Middleware: every path but PUBLIC_PATHS needs `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in PUBLIC_PATHS:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                response = _error(401, "missing or wrong bearer token")
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
        return await handler(request)

    return check


async def _body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, RecursionError):  # RecursionError: "[[[[...]]]]" nested thousands deep
        raise Invalid("the request body is not valid JSON") from None


def _number(request: web.Request) -> str:
    number = request.match_info["number"].upper()
    if not TICKET_NUMBER.fullmatch(number):
        raise TicketMissing(request.match_info["number"])
    return number


async def health(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise."""
    if await in_thread(request.app[STORE].ping):
        return _json({"status": "ok"})
    return _json({"status": "database unavailable"}, status=503)


async def openapi(request: web.Request) -> web.FileResponse:
    return web.FileResponse(OPENAPI, headers={"Content-Type": "application/yaml; charset=utf-8"})


async def create_ticket(request: web.Request) -> web.Response:
    """201 with a new ticket, or 200 with the ticket already created for this client_ref."""
    values = fields.new_ticket(await _body(request))
    ticket, created = await in_thread(request.app[STORE].create, values)
    return _json(ticket, status=201 if created else 200)


async def get_ticket(request: web.Request) -> web.Response:
    ticket = await in_thread(request.app[STORE].get, _number(request))
    if ticket is None:
        raise TicketMissing(request.match_info["number"])
    return _json(ticket)


async def list_tickets(request: web.Request) -> web.Response:
    filters = fields.list_filters(request.query)
    page, total = await in_thread(request.app[STORE].list, **filters)
    return _json({"tickets": page, "total": total, "limit": filters["limit"], "offset": filters["offset"]})


async def edit_ticket(request: web.Request) -> web.Response:
    values, changed_by = fields.edit_request(await _body(request))
    return _json(await in_thread(request.app[STORE].update, _number(request), values, changed_by))


async def correction_rates(request: web.Request) -> web.Response:
    """How often dispatchers corrected each category of the tickets of the last `days` days."""
    days = fields.correction_days(request.query)
    return _json({"days": days, "categories": await in_thread(request.app[STORE].correction_rates, days)})


async def change_status(request: web.Request) -> web.Response:
    """Moves the ticket forward, then tells the citizen in the background."""
    status, note = fields.status_change(await _body(request))
    ticket = await in_thread(request.app[STORE].change_status, _number(request), status, note)
    if ticket["sender_id"]:
        _in_background(request.app, _notify_citizen(request.app[SETTINGS], ticket))
    return _json(ticket)


async def rate_ticket(request: web.Request) -> web.Response:
    rating, comment = fields.rating(await _body(request))
    return _json(await in_thread(request.app[STORE].rate, _number(request), rating, comment))


async def _notify_citizen(settings: Settings, ticket: Dict[str, Any]) -> None:
    entities = {"ticket_number": ticket["number"], "ticket_status": ticket["status"]}
    if not await trigger_intent(settings, ticket["sender_id"], "EXTERNAL_ticket_update", entities):
        logger.warning("could not tell the citizen that %s is now %s", ticket["number"], ticket["status"])


def _in_background(app: web.Application, coroutine: Awaitable[None]) -> None:
    task = asyncio.ensure_future(coroutine)
    app[BACKGROUND].add(task)
    task.add_done_callback(app[BACKGROUND].discard)


async def _lifecycle(app: web.Application):
    """Opens the store (creating the tables) on start; on stop, lets notifications finish, then closes."""
    app[STORE] = await in_thread(TicketStore, app[SETTINGS].database_url)
    yield
    pending = app[BACKGROUND].copy()
    if pending:
        _, late = await asyncio.wait(pending, timeout=5)
        for task in late:
            task.cancel()
    app[STORE].dispose()


# the API of tickets/openapi.yaml
ROUTES = [
    web.get("/health", health),
    web.get("/openapi.yaml", openapi),
    web.post("/tickets", create_ticket),
    web.get("/tickets", list_tickets),
    web.get("/tickets/{number}", get_ticket),
    web.patch("/tickets/{number}", edit_ticket),
    web.post("/tickets/{number}/status", change_status),
    web.post("/tickets/{number}/rating", rate_ticket),
    web.get("/corrections", correction_rates),
]


def create_app(settings: Settings) -> web.Application:
    """The ticket backend for `settings` (database_url, tickets_token, rasa_url for notifications)."""
    app = web.Application(middlewares=[json_errors, bearer_auth(settings.tickets_token)])
    app[SETTINGS] = settings
    app[BACKGROUND] = set()
    app.cleanup_ctx.append(_lifecycle)
    app.add_routes(ROUTES)
    return app
