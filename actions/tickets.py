"""Ticket progress: look-ups checked against the phone number, change notices, and 好差评 ratings."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import AnswerValidationAction, latest_entity, latest_intent, phone_given, rating_buttons, ticket_number_given
from bot.ticket_client import TicketBackendUnavailable, TicketClient, TicketNotFound, TicketRejected
from actions.yes_no import PHONE_HELP
from bot.personal_data import same_phone
from bot.ticket_contract import FINISHED

NOT_FOUND = "没有查到与这个电话匹配的工单。请核对工单号和提交时留的电话后再试，或转人工客服。"
UNAVAILABLE = "工单系统暂时无法查询，请稍后再试。给您带来不便，非常抱歉。"


def progress_text(ticket: Dict[str, Any]) -> str:
    """Status and timestamped history of a ticket, as the citizen sees it."""
    lines = [f"工单 {ticket['number']} 当前状态：「{ticket['status']}」"]
    if ticket.get("department"):
        lines.append(f"承办单位：{ticket['department']}")
    for step in ticket.get("history") or []:
        at = str(step.get("at") or "")[:16].replace("T", " ")
        note = f" — {step['note']}" if step.get("note") else ""
        lines.append(f"· {at} {step['status']}{note}")
    return "\n".join(lines)


def ask_rating(dispatcher: CollectingDispatcher, number: str) -> List[Dict[Text, Any]]:
    """Asks for a 好差评 rating of a finished ticket and remembers which ticket it is for."""
    dispatcher.utter_message(text=f"请您对工单 {number} 的办理结果进行评价：", buttons=rating_buttons())
    return [SlotSet("rating_ticket_number", number)]


class ValidateTicketLookupForm(AnswerValidationAction):
    """Checks the ticket number and phone number the citizen gives."""

    def name(self) -> Text:
        return "validate_ticket_lookup_form"

    def validate_ticket_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = ticket_number_given(tracker, value)
        if number is None:
            dispatcher.utter_message(text="工单号的格式不对：以BM开头，共16位，例如 BM261122K7M4Q9XZ。请再输入一次。")
        return {"ticket_number": number}

    def validate_lookup_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        phone = phone_given(tracker, value)
        if phone is None:
            dispatcher.utter_message(text=PHONE_HELP)
        return {"lookup_phone": phone}


class ActionTicketStatus(Action):
    """Answers with the ticket's status and history, only if the phone number matches."""

    def name(self) -> Text:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        number, phone = tracker.get_slot("ticket_number"), tracker.get_slot("lookup_phone")
        events: List[Dict[Text, Any]] = [SlotSet("ticket_number", None), SlotSet("lookup_phone", None)]
        try:
            ticket = await TicketClient.from_settings().get_ticket(number)
        except TicketNotFound:
            ticket = None
        except TicketBackendUnavailable:
            dispatcher.utter_message(text=UNAVAILABLE)
            return events
        if ticket is None or not same_phone(ticket.get("phone"), phone):
            dispatcher.utter_message(text=NOT_FOUND)
            return events
        dispatcher.utter_message(text=progress_text(ticket))
        if ticket["status"] == FINISHED and not ticket.get("rating"):
            events += ask_rating(dispatcher, ticket["number"])
        return events


class ActionTicketNotification(Action):
    """Tells the citizen about a delivered complaint or a ticket's new status (external intents)."""

    def name(self) -> Text:
        return "action_ticket_notification"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        number = latest_entity(tracker, "ticket_number")
        if latest_intent(tracker) == "EXTERNAL_ticket_delivered":
            dispatcher.utter_message(text=f"您之前留下的诉求已成功提交，工单号：{number}。可以随时发送“查询工单”查看进度。")
            return [SlotSet("last_ticket_number", number)]
        status = latest_entity(tracker, "ticket_status")
        dispatcher.utter_message(text=f"您的工单 {number} 有新进展，当前状态：「{status}」。")
        return ask_rating(dispatcher, number) if status == FINISHED else []


class ActionRecordRating(Action):
    """Records a 好差评 rating for the ticket it was asked for."""

    def name(self) -> Text:
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        rating = latest_entity(tracker, "ticket_rating")
        number = tracker.get_slot("rating_ticket_number")
        if not (rating and number):
            dispatcher.utter_message(response="utter_thanks_for_rating")
            return []
        try:
            await TicketClient.from_settings().rate(number, rating)
        except TicketBackendUnavailable:
            dispatcher.utter_message(text="评价暂时没能提交，请稍后再试一次。")
            return []
        except TicketRejected:
            dispatcher.utter_message(text="这张工单目前还不能评价，办结后我们会再请您评价。")
            return [SlotSet("rating_ticket_number", None)]
        if rating == "不满意":
            dispatcher.utter_message(text="很抱歉这次没能让您满意。我们会督促承办单位核查，回访人员会联系您了解情况。")
        else:
            dispatcher.utter_message(response="utter_thanks_for_rating")
        return [SlotSet("rating_ticket_number", None)]
