"""好差评: rating a finished ticket and the human service."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.rating import ActionRecordRating, ActionRecordServiceRating, rating_buttons
from bot.handoff import HandoffStore

NUMBER = "BM261122K7M4Q9XZ"


def test_one_button_per_rating_for_either_intent():
    assert [b["payload"] for b in rating_buttons("rate", "ticket_rating")] == [
        '/rate{"ticket_rating": "满意"}',
        '/rate{"ticket_rating": "基本满意"}',
        '/rate{"ticket_rating": "不满意"}',
    ]
    assert [b["title"] for b in rating_buttons("rate_service", "service_rating")] == ["满意", "基本满意", "不满意"]


def rated(make_tracker, rating, number=NUMBER):
    return make_tracker(
        f'/rate{{"ticket_rating":"{rating}"}}',
        "rate",
        entities=[{"entity": "ticket_rating", "value": rating}],
        slots={"rating_ticket_number": number} if number else {},
    )


@pytest.mark.parametrize(
    "rating, response", [("满意", "utter_thanks_for_rating"), ("不满意", "utter_ticket_rating_unsatisfied")]
)
async def test_a_ticket_rating_is_sent_to_the_backend(
    domain, dispatcher, make_tracker, responses, tickets, rating, response
):
    events = await ActionRecordRating().run(dispatcher, rated(make_tracker, rating), domain)
    assert tickets.ratings == [(NUMBER, rating)]
    assert responses(dispatcher) == [response] and events == [SlotSet("rating_ticket_number", None)]


async def test_a_rating_for_no_ticket_is_only_thanked(domain, dispatcher, make_tracker, responses, tickets):
    events = await ActionRecordRating().run(dispatcher, rated(make_tracker, "满意", number=None), domain)
    assert tickets.ratings == [] and responses(dispatcher) == ["utter_thanks_for_rating"] and events == []


async def test_a_rating_the_backend_cannot_take(domain, make_tracker, responses, tickets):
    from rasa_sdk.executor import CollectingDispatcher

    down, early = CollectingDispatcher(), CollectingDispatcher()
    tickets.down = True
    events = await ActionRecordRating().run(down, rated(make_tracker, "满意"), domain)
    assert responses(down) == ["utter_ticket_rating_unavailable"] and events == []  # asked again later
    tickets.down, tickets.reject = False, True
    events = await ActionRecordRating().run(early, rated(make_tracker, "满意"), domain)
    assert responses(early) == ["utter_ticket_rating_not_yet"] and events == [SlotSet("rating_ticket_number", None)]


def service_rated(make_tracker, sender, rating):
    return make_tracker(
        f'/rate_service{{"service_rating":"{rating}"}}',
        "rate_service",
        sender=sender,
        entities=[{"entity": "service_rating", "value": rating}],
    )


async def test_the_service_rating_is_recorded_for_the_agent_once(domain, make_tracker, responses, env_settings):
    from rasa_sdk.executor import CollectingDispatcher

    store = HandoffStore.from_url(env_settings.redis_url)
    try:
        await store.enqueue("c-rate", {})
        await store.take("c-rate", "wang")
        await store.finish("c-rate", "wang", "handed_back")
        first, again = CollectingDispatcher(), CollectingDispatcher()
        assert await ActionRecordServiceRating().run(first, service_rated(make_tracker, "c-rate", "满意"), domain) == []
        assert responses(first) == ["utter_thanks_for_service_rating"]
        await ActionRecordServiceRating().run(again, service_rated(make_tracker, "c-rate", "满意"), domain)
        assert await store.ratings() == {"wang": {"满意": 1}}
    finally:
        await store.close()


async def test_an_unsatisfied_service_rating_offers_a_request(
    domain, dispatcher, make_tracker, responses, env_settings
):
    events = await ActionRecordServiceRating().run(dispatcher, service_rated(make_tracker, "c-x", "不满意"), domain)
    assert events == [] and responses(dispatcher) == ["utter_service_rating_unsatisfied"]
