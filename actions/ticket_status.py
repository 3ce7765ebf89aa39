"""Ticket progress: look-ups checked against the phone number, and notices of a delivered complaint or a
ticket's new status (the 好差评 rating that follows a finished ticket is in actions/rating.py).

Look-up without the number: "我忘了工单号", or a phone number where the number is asked, looks up by phone --
only the tickets whose phone matches AND that were filed from this same sender (conversation id of the
channel: the WeChat openid, the Telegram chat, the web chat's stored id), listed with masked details. A phone
number alone proves nothing (anyone can type one), so tickets filed elsewhere are never listed; the citizen
is told to use the number from the acceptance SMS, 12345 or a human agent.

One-time code (designed, not built): `phone_verified()` is the hook. A deployment with an SMS gateway
replaces it with: send a 6-digit code to the phone (bot/ticket_client.py would gain
`send_code(phone)` / `check_code(phone, code)` against the ticket system), ask for it in the look-up form (a
`lookup_code` slot after `lookup_phone`, throttled by bot/rate_limits.py like phone guesses), and, when it
matches, list the phone's tickets from every channel (`list_tickets(phone=...)` without `sender_id`).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    AnswerValidationAction,
    latest_entity,
    latest_intent,
    latest_text,
    phone_given,
    ticket_number_given,
    validated_phone,
)
from actions.complaint import digress, kind_of_reply
from actions.rating import ask_ticket_rating
from actions.yes_no import is_acknowledgement
from bot.personal_data import mask_address, mask_text, same_phone
from bot.rate_limits import LookupGuard, wait_words
from bot.settings import load
from bot.ticket_client import TicketBackendUnavailable, TicketClient, TicketNotFound
from bot.ticket_contract import FINISHED

BY_PHONE = "按电话查询"  # the ticket_number slot's value when the citizen looks up by phone instead
_FORGOT = re.compile(r"忘|不知道|不记得|记不清|找不到|没有工单号|没记|丢了|不清楚|删了|没(收到|保存)|用(手机|电话)")
LIST_AT_MOST = 5


def phone_verified(tracker: Tracker, phone: str) -> bool:
    """The one-time-code hook (see the module docstring): True once the citizen proved they hold `phone`.
    Not built: without it a look-up by phone lists only tickets filed from this same sender."""
    return False


def ticket_lines(tickets: List[Dict[str, Any]]) -> str:
    """One masked line per ticket: number, status, date, category, masked address or description."""
    lines = []
    for ticket in tickets[:LIST_AT_MOST]:
        at = str(ticket.get("created_at") or "")[:10]
        place = mask_address(ticket.get("address")) or mask_text((ticket.get("description") or "")[:12])
        parts = [ticket["number"], f"「{ticket.get('status')}」", at, ticket.get("category") or "", place or ""]
        lines.append("\n· " + " ".join(part for part in parts if part))
    return "".join(lines)


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


def notice_in_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """A ticket backend's notice (EXTERNAL_* intent) that arrives while a form asks something: told, then the
    form asks its question again (the notice is not an answer; a rating is asked once the form is done)."""
    requested = tracker.get_slot("requested_slot")
    number = latest_entity(tracker, "ticket_number")
    if latest_intent(tracker) == "EXTERNAL_ticket_delivered":
        dispatcher.utter_message(response="utter_ticket_delivered", ticket_number=number)
        events: List[EventType] = [SlotSet("last_ticket_number", number)]
    else:
        status = latest_entity(tracker, "ticket_status")
        dispatcher.utter_message(response="utter_ticket_updated", ticket_number=number, ticket_status=status)
        events = []
    dispatcher.utter_message(response="utter_form_resume")
    return events + ([SlotSet(requested, None)] if requested else [])


def known_phone(tracker: Tracker, number: str) -> Optional[str]:
    """The phone this conversation already checked for ticket `number`: the ticket just filed, or one the
    look-up by phone listed (filed from this sender with that phone). Its look-up asks for no phone again;
    action_ticket_status still checks it against the ticket."""
    if number == tracker.get_slot("last_ticket_number") and tracker.get_slot("last_ticket_phone"):
        return tracker.get_slot("last_ticket_phone")
    listed = tracker.get_slot("listed_tickets") or {}
    return listed.get("phone") if number in (listed.get("numbers") or []) else None


def is_notice(tracker: Tracker) -> bool:
    """The latest "message" is a ticket backend's notice (EXTERNAL_ticket_update / _delivered)."""
    return (latest_intent(tracker) or "").startswith("EXTERNAL_")


class ValidateTicketLookupForm(AnswerValidationAction):
    """Checks the ticket number and phone number the citizen gives."""

    def name(self) -> Text:
        return "validate_ticket_lookup_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if is_notice(tracker) and tracker.get_slot("requested_slot"):
            return notice_in_form(dispatcher, tracker)
        return await super().run(dispatcher, tracker, domain)

    def validate_ticket_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        asked = tracker.get_slot("requested_slot") == "ticket_number"  # else: the request that starts the form
        text = latest_text(tracker)
        number = ticket_number_given(tracker, value)
        if number is None and value == BY_PHONE:
            return {"ticket_number": BY_PHONE}
        phone = phone_given(tracker)
        if number:
            known = None if phone else known_phone(tracker, number)
            return {"ticket_number": number, "lookup_phone": known} if known else {"ticket_number": number}
        if phone:
            return {"ticket_number": BY_PHONE, "lookup_phone": phone}
        if _FORGOT.search(text):
            dispatcher.utter_message(response="utter_lookup_by_phone")
            return {"ticket_number": BY_PHONE}
        if not asked:
            last = tracker.get_slot("last_ticket_number")
            if last:  # "查一下进度" right after filing: the ticket just filed
                return {"ticket_number": last, "lookup_phone": tracker.get_slot("last_ticket_phone")}
            return {"ticket_number": None}  # the form asks for it
        kind = kind_of_reply("ticket_number", tracker)
        if kind == "digression":
            digress(dispatcher, tracker, in_complaint=False)
            return {"ticket_number": None}
        if is_acknowledgement(text):
            dispatcher.utter_message(response="utter_not_an_answer", field_label="工单号")
            return {"ticket_number": None}
        dispatcher.utter_message(response="utter_ticket_number_invalid")
        return {"ticket_number": None}

    def validate_lookup_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "lookup_phone" and value:
            return {"lookup_phone": value}  # filled with the ticket number (the ticket just filed, or a phone)
        if not phone_given(tracker, value) and kind_of_reply("lookup_phone", tracker) == "digression":
            digress(dispatcher, tracker, in_complaint=False)
            return {"lookup_phone": None}
        return validated_phone("lookup_phone", value, dispatcher, tracker)


class ActionTicketStatus(Action):
    """Answers with the ticket's status and history, only if the phone number matches."""

    def name(self) -> Text:
        return "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        number, phone = tracker.get_slot("ticket_number"), tracker.get_slot("lookup_phone")
        events: List[EventType] = [SlotSet("ticket_number", None), SlotSet("lookup_phone", None)]
        if number == BY_PHONE:
            return events + await self.by_phone(dispatcher, tracker, phone)
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

    @staticmethod
    async def by_phone(dispatcher: CollectingDispatcher, tracker: Tracker, phone: Optional[str]) -> List[EventType]:
        """The tickets filed from this sender with this phone, masked; or what to do otherwise."""
        guard = LookupGuard(load().redis_url)  # counted like a guess: one per phone tried, per sender
        wait = await guard.attempt(f"phone:{phone}", tracker.sender_id)
        if wait:
            dispatcher.utter_message(response="utter_ticket_lookup_throttled", wait=wait_words(wait))
            return []
        sender: Optional[str] = None if phone and phone_verified(tracker, phone) else tracker.sender_id
        try:
            found = await TicketClient.from_settings().list_tickets(phone=phone, sender_id=sender, limit=LIST_AT_MOST)
        except TicketBackendUnavailable:
            dispatcher.utter_message(response="utter_ticket_lookup_unavailable")
            return []
        tickets = [
            ticket
            for ticket in found.get("tickets") or []
            if same_phone(ticket.get("phone"), phone) and (sender is None or ticket.get("sender_id") in (None, sender))
        ]
        if not tickets:
            dispatcher.utter_message(response="utter_no_tickets_by_phone")
            return []
        await guard.matched(f"phone:{phone}", tracker.sender_id)
        dispatcher.utter_message(response="utter_tickets_by_phone", count=len(tickets), tickets=ticket_lines(tickets))
        listed = [ticket["number"] for ticket in tickets[:LIST_AT_MOST]]
        return [SlotSet("listed_tickets", {"phone": phone, "numbers": listed})]


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
