"""The ticket backend's HTTP API, served on a loopback port, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import aiohttp
import pytest
import yaml

from bot.settings import load
from bot.ticket_contract import TICKET_NUMBER
from tickets.app import OPENAPI, create_app

PROTECTED = [
    ("POST", "/tickets"),
    ("GET", "/tickets"),
    ("GET", "/tickets/BM261122K7M4Q9XZ"),
    ("PATCH", "/tickets/BM261122K7M4Q9XZ"),
    ("POST", "/tickets/BM261122K7M4Q9XZ/status"),
    ("POST", "/tickets/BM261122K7M4Q9XZ/rating"),
]


async def _create(api, payload):
    async with api.post("/tickets", json=payload) as response:
        assert response.status == 201, await response.text()
        return await response.json()


async def _error(response, status):
    assert response.status == status, await response.text()
    return (await response.json())["error"]


async def test_health_and_openapi_need_no_token(backend):
    async with aiohttp.ClientSession(base_url=backend.tickets_url) as anonymous:
        async with anonymous.get("/health") as response:
            assert response.status == 200 and (await response.json())["status"] == "ok"
        async with anonymous.get("/openapi.yaml") as response:
            assert response.status == 200
            document = yaml.safe_load(await response.text())
    assert document["openapi"].startswith("3.0")


def test_openapi_documents_every_route_and_error():
    document = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in create_app(load()).router.routes()
        if route.method != "HEAD"
    }
    documented = {
        (method, path) for path, item in document["paths"].items() for method in item if method != "parameters"
    }
    assert routes == documented
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters" and path not in ("/health", "/openapi.yaml"):
                assert "401" in operation["responses"], (method, path)
                assert "400" in operation["responses"] or method == "get", (method, path)


@pytest.mark.parametrize("method, path", PROTECTED)
@pytest.mark.parametrize("token", [None, "Bearer wrong", "test-tickets-token"])
async def test_every_other_route_needs_the_token(backend, method, path, token):
    headers = {"Authorization": token} if token else {}
    async with aiohttp.ClientSession(base_url=backend.tickets_url) as anonymous:
        async with anonymous.request(method, path, headers=headers, json={}) as response:
            assert "missing or wrong bearer token" in await _error(response, 401)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"description": "  "}, "description is required"),
        ({"description": None}, "description is required"),
        ({"phone": None}, "phone is required"),
        ({"phone": "12345"}, "phone must be a valid mainland"),
        ({"phone": 13812345678}, "phone must be a valid mainland"),
        ({"category": "天气"}, "category must be one of"),
        ({"category": None}, "category is required"),
        ({"confidence": 1.5}, "confidence must be"),
        ({"confidential": "是"}, "confidential must be"),
        ({"address": "x" * 300}, "address is longer"),
        ({"status": "已办结"}, "unknown or read-only field: status"),
        ({"sender_id": ["a"]}, "sender_id must be a string"),
    ],
)
async def test_create_validation_names_the_field(api, complaint, change, field):
    async with api.post("/tickets", json=complaint(**change)) as response:
        assert field in await _error(response, 400)


@pytest.mark.parametrize(
    "body, message", [("{not json", "not valid JSON"), ("", "not valid JSON"), ("[1, 2]", "JSON object")]
)
async def test_bad_json_is_400(api, body, message):
    async with api.post("/tickets", data=body, headers={"Content-Type": "application/json"}) as response:
        assert message in await _error(response, 400)


async def test_create_is_idempotent_and_get_finds_the_ticket(api, complaint, backend):
    payload = complaint(phone="+86 138-1234-5678")
    ticket = await _create(api, payload)
    assert TICKET_NUMBER.fullmatch(ticket["number"]) and ticket["phone"] == "13812345678"
    assert set(ticket) == {
        "number",
        "status",
        "category",
        "subcategory",
        "department",
        "confidence",
        "description",
        "district",
        "address",
        "occurred_at",
        "name",
        "phone",
        "confidential",
        "channel",
        "sender_id",
        "rating",
        "rating_comment",
        "created_at",
        "updated_at",
        "history",
    }
    async with api.post("/tickets", json=payload) as again:
        assert again.status == 200 and (await again.json())["number"] == ticket["number"]
    async with api.get(f"/tickets/{ticket['number'].lower()}") as response:
        assert response.status == 200 and await response.json() == ticket
    async with api.get("/tickets/BM261122K7M4Q9XZ") as response:
        assert "BM261122K7M4Q9XZ" in await _error(response, 404)
    async with api.get("/tickets/not-a-number") as response:
        await _error(response, 404)


async def test_list_filters_and_pages(api, complaint):
    numbers = [(await _create(api, complaint(sender_id="alice")))["number"] for _ in range(3)]
    await _create(api, complaint(phone="13900001111", sender_id="bob"))
    async with api.get("/tickets", params={"sender_id": "alice", "limit": "2"}) as response:
        page = await response.json()
    assert page["total"] == 3 and [t["number"] for t in page["tickets"]] == numbers[:0:-1]
    async with api.get("/tickets", params={"phone": "139 0000 1111"}) as response:
        assert [t["sender_id"] for t in (await response.json())["tickets"]] == ["bob"]
    async with api.get("/tickets", params={"status": "已受理", "offset": "3"}) as response:
        assert (await response.json())["total"] == 4
    for params, message in [
        ({"limit": "0"}, "limit must be between"),
        ({"limit": "x"}, "limit must be an integer"),
        ({"status": "done"}, "status must be one of"),
        ({"phone": "123"}, "phone must be"),
    ]:
        async with api.get("/tickets", params=params) as response:
            assert message in await _error(response, 400)


async def test_patch_changes_editable_fields_only(api, complaint):
    number = (await _create(api, complaint()))["number"]
    async with api.patch(f"/tickets/{number}", json={"district": "河西区", "phone": "022 2345 6789"}) as response:
        ticket = await response.json()
        assert response.status == 200 and (ticket["district"], ticket["phone"]) == ("河西区", "02223456789")
    for body, message in [
        ({"status": "已办结"}, "read-only field: status"),
        ({"number": "BM261122K7M4Q9XZ"}, "read-only field: number"),
        ({}, "nothing to change"),
        ({"description": ""}, "description is required"),
        ({"category": "天气"}, "category must be one of"),
    ]:
        async with api.patch(f"/tickets/{number}", json=body) as response:
            assert message in await _error(response, 400)
    async with api.patch("/tickets/BM261122K7M4Q9XZ", json={"district": "河西区"}) as response:
        await _error(response, 404)


async def test_status_moves_forward_and_the_citizen_is_told(api, complaint, fake_rasa):
    ticket = await _create(api, complaint(sender_id="citizen-42"))
    number = ticket["number"]
    async with api.post(f"/tickets/{number}/status", json={"status": "已转办", "note": "转区城管委"}) as response:
        moved = await response.json()
    assert moved["status"] == "已转办"
    assert [(s["status"], s["note"]) for s in moved["history"]][-1] == ("已转办", "转区城管委")
    calls = await fake_rasa.wait_for(1)
    assert calls == [
        {
            "sender_id": "citizen-42",
            "query": {"output_channel": "latest", "token": "test-rasa-token"},
            "body": {
                "name": "EXTERNAL_ticket_update",
                "entities": {"ticket_number": number, "ticket_status": "已转办"},
            },
        }
    ]
    for status in ("已受理", "已转办"):
        async with api.post(f"/tickets/{number}/status", json={"status": status}) as response:
            error = await _error(response, 409)
            assert "forward" in error and "已转办" in error
    async with api.post(f"/tickets/{number}/status", json={"status": "closed"}) as response:
        assert "status must be one of" in await _error(response, 400)
    async with api.post("/tickets/BM261122K7M4Q9XZ/status", json={"status": "已办结"}) as response:
        await _error(response, 404)
    assert len(fake_rasa.calls) == 1  # refused changes tell nobody


async def test_no_sender_no_notification_and_rasa_down_does_not_fail(api, complaint, fake_rasa):
    silent = (await _create(api, complaint(sender_id=None)))["number"]
    async with api.post(f"/tickets/{silent}/status", json={"status": "办理中"}) as response:
        assert response.status == 200
    fake_rasa.status = 503
    number = (await _create(api, complaint()))["number"]
    async with api.post(f"/tickets/{number}/status", json={"status": "办理中"}) as response:
        assert response.status == 200 and (await response.json())["status"] == "办理中"
    calls = await fake_rasa.wait_for(1)
    assert [call["body"]["entities"]["ticket_number"] for call in calls] == [number]


async def test_status_change_when_rasa_is_unreachable(settings, serve_app, dead_url, complaint):
    app = create_app(replace(settings, rasa_url=dead_url))
    async with (
        serve_app(app) as url,
        aiohttp.ClientSession(base_url=url, headers={"Authorization": "Bearer test-tickets-token"}) as api,
    ):
        number = (await _create(api, complaint()))["number"]
        async with api.post(f"/tickets/{number}/status", json={"status": "已转办"}) as response:
            assert response.status == 200


async def test_rating(api, complaint):
    number = (await _create(api, complaint()))["number"]
    async with api.post(f"/tickets/{number}/rating", json={"rating": "满意"}) as response:
        assert "finished" in await _error(response, 409)
    async with api.post(f"/tickets/{number}/status", json={"status": "已办结"}) as response:
        assert response.status == 200
    async with api.post(f"/tickets/{number}/rating", json={"rating": "很好"}) as response:
        assert "rating must be one of" in await _error(response, 400)
    async with api.post(f"/tickets/{number}/rating", json={"rating": "不满意", "comment": "没解决"}) as response:
        rated = await response.json()
    assert (rated["rating"], rated["rating_comment"]) == ("不满意", "没解决")


async def test_concurrent_retries_of_one_create_open_one_ticket(api, complaint):
    payload = complaint()

    async def post():
        async with api.post("/tickets", json=payload) as response:
            return response.status, (await response.json())["number"]

    answers = await asyncio.gather(*(post() for _ in range(8)))
    assert sorted(status for status, _ in answers) == [200] * 7 + [201]
    assert len({number for _, number in answers}) == 1
