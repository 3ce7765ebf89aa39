"""The supervisor's endpoint: Rasa's action calls pass through; while the action server is away the
citizen gets one short notice per message, and a form's validation call undoes what the message filled."""

from __future__ import annotations

from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from stack.gateway import create_app
from stack.recovering import NOTICE, RecoveryAnswers, undo_latest_slots

DOWN_URL = "http://127.0.0.1:9/webhook"  # discard port: nothing listens


def call(action: str, events: list, message_id: str = "m1") -> dict:
    return {
        "next_action": action,
        "sender_id": "c1",
        "domain": {"slots": {"phone": {"initial_value": None}}},
        "tracker": {"sender_id": "c1", "latest_message": {"message_id": message_id}, "events": events},
    }


FORM_TURN = [
    {"event": "slot", "name": "address", "value": "河西区友谊路20号"},
    {"event": "user", "text": "12345"},
    {"event": "slot", "name": "phone", "value": "12345"},
    {"event": "slot", "name": "address", "value": "12345"},
    {"event": "slot", "name": "requested_slot", "value": "phone"},
]


def test_a_validation_call_undoes_the_slots_of_the_latest_message():
    assert undo_latest_slots(FORM_TURN, call("x", [])["domain"]) == [
        {"event": "slot", "name": "address", "value": "河西区友谊路20号"},
        {"event": "slot", "name": "phone", "value": None},
    ]


def test_one_notice_per_citizen_message():
    answers = RecoveryAnswers()
    first = answers.answer(call("validate_complaint_form", FORM_TURN))
    assert first["responses"] == [{"text": NOTICE}] and len(first["events"]) == 2
    assert answers.answer(call("action_ask_category", FORM_TURN)) == {"events": [], "responses": []}
    assert answers.answer(call("action_answer_faq", [], message_id="m2"))["responses"] == [{"text": NOTICE}]


def status_report():
    return {"ok": False, "parts": [], "outbox": {"pending": 1}}


@asynccontextmanager
async def serving(app: web.Application):
    """Serves `app` on a free port of 127.0.0.1; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()


async def post(url: str, body: dict):
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json()


async def test_while_the_action_server_is_down_the_relay_answers_with_the_notice():
    async with serving(create_app(DOWN_URL, status_report)) as gateway:
        status, answer = await post(f"{gateway}/webhook", call("action_answer_faq", []))
        assert status == 200 and answer["responses"] == [{"text": NOTICE}]
        async with aiohttp.ClientSession() as session, session.get(f"{gateway}/health") as health:
            assert health.status == 503 and (await health.json())["outbox"] == {"pending": 1}


async def test_calls_and_rejections_pass_through_unchanged():
    async def actions(request: web.Request) -> web.Response:
        if request.query.get("token") != "t0ken":  # the action server checks Rasa's token, not the relay
            return web.json_response({"error": "forbidden"}, status=403)
        body = await request.json()
        if body["next_action"] == "validate_complaint_form":
            return web.json_response({"action_name": "validate_complaint_form", "error": "no"}, status=400)
        return web.json_response({"events": [], "responses": [{"text": "暖气不热请先排气"}]})

    server = web.Application()
    server.router.add_post("/webhook", actions)
    async with (
        serving(server) as action_server,
        serving(create_app(f"{action_server}/webhook", status_report)) as gateway,
    ):
        status, answer = await post(f"{gateway}/webhook?token=t0ken", call("action_answer_faq", []))
        assert status == 200 and answer["responses"] == [{"text": "暖气不热请先排气"}]
        assert (await post(f"{gateway}/webhook", call("action_answer_faq", [])))[0] == 403
        status, rejected = await post(f"{gateway}/webhook?token=t0ken", call("validate_complaint_form", FORM_TURN))
        assert status == 400 and rejected["error"] == "no"
