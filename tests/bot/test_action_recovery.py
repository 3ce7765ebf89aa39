"""A failed action call (connection refused, a 502 from a load balancer) answers the citizen and, for a
form's validation, undoes the slots of the message nobody checked: Rasa does it itself (cluster case)."""

from __future__ import annotations

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.nlu import action_recovery
from bot.recovering import NOTICE

PORT = 18791
DOMAIN = Domain.from_dict({"slots": {"address": {"type": "text", "mappings": [{"type": "custom"}]}}})


async def answering(status: int, body: dict):
    async def handler(_: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", PORT).start()
    return runner


def conversation(message_id: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "citizen-1",
        [
            ActionExecuted("action_listen"),
            UserUttered("幸福路12号", message_id=message_id),
            SlotSet("address", "幸福路12号"),
        ],
        slots=DOMAIN.slots,
    )


async def run(name: str, tracker: DialogueStateTracker):
    action = RemoteAction(name, EndpointConfig(f"http://127.0.0.1:{PORT}/webhook"))
    return await action_recovery.run(
        action, CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, DOMAIN
    )


async def test_a_502_answers_with_the_notice_once_and_undoes_the_form_slots():
    runner = await answering(502, {})
    try:
        events = await run("validate_complaint_form", conversation("m-1"))
        again = await run("action_answer_faq", conversation("m-1"))  # the same message: no second notice
    finally:
        await runner.cleanup()
    assert [e.text for e in events if isinstance(e, BotUttered)] == [NOTICE]
    assert [(e.key, e.value) for e in events if isinstance(e, SlotSet)] == [("address", None)]
    assert again == []


async def test_no_action_server_at_all_answers_with_the_notice():
    events = await run("action_answer_faq", conversation("m-2"))
    assert [e.text for e in events if isinstance(e, BotUttered)] == [NOTICE]


async def test_the_action_servers_rejection_still_reaches_the_policies():
    runner = await answering(400, {"action_name": "validate_complaint_form", "error": "no"})
    try:
        with pytest.raises(ActionExecutionRejection):
            await run("validate_complaint_form", conversation("m-3"))
    finally:
        await runner.cleanup()


def test_installed_with_the_nlu_components():
    import bot.nlu  # noqa: F401

    assert RemoteAction.run is action_recovery.run
