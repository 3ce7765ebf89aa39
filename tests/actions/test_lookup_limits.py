"""Issue 15: phone guesses on ticket look-ups are limited per ticket number and per sender; the citizen
with the right phone is not counted against."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.ticket_status import ActionTicketStatus
from bot.rate_limits import LOOKUP_FREE, LOOKUP_PER_SENDER

NUMBER = "BM261122K7M4Q9XZ"


def _ticket(number: str = NUMBER) -> dict:
    return {"number": number, "phone": "13812345678", "status": "办理中", "department": "区城管委", "history": []}


async def _look_up(make_tracker, domain, phone: str, sender: str, number: str = NUMBER) -> list:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(phone, slots={"ticket_number": number, "lookup_phone": phone}, sender=sender)
    await ActionTicketStatus().run(dispatcher, tracker, domain)
    return [message.get("response") for message in dispatcher.messages]


async def test_phone_guesses_on_one_ticket_are_limited_whoever_guesses(domain, make_tracker, tickets):
    tickets.tickets[NUMBER] = _ticket()
    answers = [await _look_up(make_tracker, domain, f"1391234{n:04d}", f"guesser-{n}") for n in range(12)]
    assert answers[:LOOKUP_FREE] == [["utter_ticket_not_found"]] * LOOKUP_FREE
    assert all(answer == ["utter_ticket_lookup_throttled"] for answer in answers[LOOKUP_FREE:])


async def test_one_sender_is_limited_across_ticket_numbers(domain, make_tracker, tickets):
    numbers = [f"BM2611220000{n:04d}" for n in range(LOOKUP_PER_SENDER + 2)]
    for number in numbers:
        tickets.tickets[number] = _ticket(number)
    answers = [await _look_up(make_tracker, domain, "13912345678", "guesser", number) for number in numbers]
    assert answers[-1] == ["utter_ticket_lookup_throttled"]
    assert await _look_up(make_tracker, domain, "13812345678", "citizen", numbers[-1]) == ["utter_ticket_progress"]


async def test_the_right_phone_is_never_counted(domain, make_tracker, tickets):
    tickets.tickets[NUMBER] = _ticket()
    for _ in range(LOOKUP_FREE + LOOKUP_PER_SENDER):
        assert await _look_up(make_tracker, domain, "138 1234 5678", "citizen") == ["utter_ticket_progress"]
