"""Ticket progress: look-ups checked against the phone number, and notices of a delivered complaint or a
ticket's new status (the 好差评 rating that follows a finished ticket is in actions/rating.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import AnswerValidationAction, latest_entity, latest_intent, ticket_number_given, validated_phone
from actions.rating import ask_ticket_rating
from bot.personal_data import same_phone
from bot.rate_limits import LookupGuard, wait_words
from bot.settings import load
from bot.ticket_client import TicketBackendUnavailable, TicketClient, TicketNotFound
from bot.ticket_contract import FINISHED


def history_lines(ticket: Dict[str, Any]) -> str:
    """A ticket's timestamped history, one line per status change ("· 2026-11-22 09:30 已受理 — note")."""
    lines = []
    for step in ticket.get("history") or []:
        at = str(step.get("at") or "")[:16].replace("T", " ")
        note = f" — {step['note']}" if step.get("note") else ""
        lines.append(f"\n· {at} {step['status']}{note}")
    return "".join(lines)


def tell_progress(dispatcher: CollectingDispatcher, ticket: Dict[str, Any]) -> None:
    """Status, department and history of a ticket, as the citizen sees it."""
    variables = {"ticket_number": ticket["number"], "ticket_status": ticket["status"], "history": history_lines(ticket)}
    if ticket.get("department"):
        dispatcher.utter_message(response="utter_ticket_progress", department=ticket["department"], **variables)
    else:
        dispatcher.utter_message(response="utter_ticket_progress_no_department", **variables)


class ValidateTicketLookupForm(AnswerValidationAction):
    """Checks the ticket number and phone number the citizen gives."""

    def name(self) -> Text:
        return "validate_ticket_lookup_form"

    def validate_ticket_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = ticket_number_given(tracker, value)
        if number is None:
            dispatcher.utter_message(response="utter_ticket_number_invalid")
        return {"ticket_number": number}

    def validate_lookup_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return validated_phone("lookup_phone", value, dispatcher, tracker)


class ActionTicketStatus(Action):
    """Answers with the ticket's status and history, only if the phone number matches."""

    def name(self) -> Text:
        return "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        number, phone = tracker.get_slot("ticket_number"), tracker.get_slot("lookup_phone")
        events: List[EventType] = [SlotSet("ticket_number", None), SlotSet("lookup_phone", None)]
        guard = LookupGuard(load().redis_url)  # phone guesses: limited per ticket number and per sender
        wait = await guard.attempt(number, tracker.sender_id)
        if wait:
            dispatcher.utter_message(response="utter_ticket_lookup_throttled", wait=wait_words(wait))
            return events
        try:
            ticket = await TicketClient.from_settings().get_ticket(number)
        except TicketNotFound:
            ticket = None
        except TicketBackendUnavailable:
            dispatcher.utter_message(response="utter_ticket_lookup_unavailable")
            return events
        if ticket is None or not same_phone(ticket.get("phone"), phone):
            dispatcher.utter_message(response="utter_ticket_not_found")
            return events
        await guard.matched(number, tracker.sender_id)
        tell_progress(dispatcher, ticket)
        if ticket["status"] == FINISHED and not ticket.get("rating"):
            events += ask_ticket_rating(dispatcher, ticket["number"])
        return events


class ActionTicketNotification(Action):
    """Tells the citizen about a delivered complaint or a ticket's new status (external intents)."""

    def name(self) -> Text:
        return "action_ticket_notification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        number = latest_entity(tracker, "ticket_number")
        if latest_intent(tracker) == "EXTERNAL_ticket_delivered":
            dispatcher.utter_message(response="utter_ticket_delivered", ticket_number=number)
            return [SlotSet("last_ticket_number", number)]
        status = latest_entity(tracker, "ticket_status")
        dispatcher.utter_message(response="utter_ticket_updated", ticket_number=number, ticket_status=status)
        return ask_ticket_rating(dispatcher, number) if number and status == FINISHED else []
