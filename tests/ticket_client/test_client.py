"""bot.ticket_client against the real backend, and against fake servers that hang or fail."""

from __future__ import annotations

import asyncio
import time
from typing import List

import pytest
from aiohttp import web

from bot.ticket_client import TicketBackendUnavailable, TicketClient, TicketNotFound, TicketRejected


@pytest.fixture
def client(backend) -> TicketClient:
    return TicketClient.from_settings(backend)


@pytest.fixture
def database_url(tmp_path):
    """The client's behaviour does not depend on the database: SQLite only, to stay fast."""
    return f"sqlite:///{tmp_path / 'tickets.sqlite3'}"


async def test_every_call_against_the_real_backend(client, complaint):
    payload = complaint(sender_id=None)
    ticket = await client.create_ticket(payload)
    assert (await client.create_ticket(payload))["number"] == ticket["number"]  # a retried create
    number = ticket["number"]
    assert (await client.get_ticket(number))["description"] == payload["description"]
    assert (await client.update_ticket(number, {"district": "河东区"}))["district"] == "河东区"
    page = await client.list_tickets(phone="13812345678", status="已受理", limit=10, sender_id=None)
    assert [t["number"] for t in page["tickets"]] == [number] and page["total"] == 1
    assert (await client.set_status(number, "已办结", "已处理"))["status"] == "已办结"
    rated = await client.rate(number, "满意", comment="很快")
    assert (rated["rating"], rated["rating_comment"]) == ("满意", "很快")


async def test_4xx_raise_with_the_servers_message(client, complaint, backend):
    with pytest.raises(TicketNotFound):
        await client.get_ticket("BM261122K7M4Q9XZ")
    with pytest.raises(TicketRejected, match="phone must be a valid mainland") as rejected:
        await client.create_ticket(complaint(phone="12345"))
    assert rejected.value.status == 400 and not isinstance(rejected.value, TicketNotFound)
    number = (await client.create_ticket(complaint()))["number"]
    with pytest.raises(TicketRejected, match="forward") as conflict:
        await client.set_status(number, "已受理")
    assert conflict.value.status == 409
    wrong_token = TicketClient(backend.tickets_url, "nope")
    with pytest.raises(TicketRejected, match="bearer token") as unauthorized:
        await wrong_token.get_ticket(number)
    assert unauthorized.value.status == 401


class FlakyServer:
    """Answers each request with the next of `replies`: an HTTP status, or "hang" (never answers)."""

    def __init__(self, *replies) -> None:
        self.replies: List = list(replies)
        self.requests = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if reply == "hang":
            await asyncio.sleep(30)  # cancelled when the client gives up
        if reply == "html":
            return web.Response(status=200, text="<html>proxy</html>", content_type="text/html")
        body = {"number": "BM261122K7M4Q9XZ"} if reply < 300 else {"error": "busy"}
        return web.json_response(body, status=reply)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


def _fast(url: str, attempts: int = 3) -> TicketClient:
    return TicketClient(url, "t", timeout=0.3, attempts=attempts, backoff=0.01)


@pytest.mark.parametrize("reply", ["hang", 503, 500, "html"])
async def test_retries_then_unavailable(serve_app, reply):
    server = FlakyServer(reply)
    async with serve_app(server.app()) as url:
        started = time.monotonic()
        with pytest.raises(TicketBackendUnavailable):
            await _fast(url).create_ticket({"description": "x"})
        elapsed = time.monotonic() - started
    assert server.requests == 3
    assert elapsed < 2.5  # bounded: 3 attempts × 0.3 s timeout + backoff


async def test_a_retry_that_succeeds(serve_app):
    server = FlakyServer(503, "hang", 201)
    async with serve_app(server.app()) as url:
        ticket = await _fast(url).create_ticket({"description": "x"})
    assert ticket["number"] == "BM261122K7M4Q9XZ" and server.requests == 3


async def test_status_change_is_not_repeated_after_an_answer(serve_app):
    server = FlakyServer(503, 200)
    async with serve_app(server.app()) as url:
        with pytest.raises(TicketBackendUnavailable):
            await _fast(url).set_status("BM261122K7M4Q9XZ", "已办结")
    assert server.requests == 1


@pytest.mark.parametrize("status, error", [(400, TicketRejected), (422, TicketRejected), (404, TicketNotFound)])
async def test_4xx_is_not_retried(serve_app, status, error):
    server = FlakyServer(status)
    async with serve_app(server.app()) as url:
        with pytest.raises(error, match="busy"):
            await _fast(url).get_ticket("BM261122K7M4Q9XZ")
    assert server.requests == 1


async def test_nothing_listening_is_unavailable(dead_url):
    with pytest.raises(TicketBackendUnavailable, match="cannot connect"):
        await _fast(dead_url).get_ticket("BM261122K7M4Q9XZ")
    with pytest.raises(TicketBackendUnavailable):
        await _fast(dead_url).set_status("BM261122K7M4Q9XZ", "已办结")
