"""The complaint / request form: collect, validate, confirm, and open a ticket (工单).

Flow: `action_start_complaint` takes whatever the first message already says (description, place,
phone, name) so it is not asked again; `complaint_form` asks for the rest; the citizen confirms a
summary; `action_submit_complaint` opens the ticket, or keeps the complaint in the durable outbox when
the ticket backend is down and says so honestly.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    AnswerValidationAction,
    button,
    channel_of,
    latest_entity,
    latest_intent,
    latest_text,
    phone_given,
    validated_phone,
)
from actions.outbox import Outbox
from actions.yes_no import yes_no
from bot.categories import citizen_name
from bot.personal_data import parse_phone
from bot.places import find_district
from bot.routing import CATEGORIES, department_for
from bot.routing import shared as router
from bot.settings import load as load_settings
from bot.ticket_client import TicketBackendUnavailable, TicketClient, TicketRejected

logger = logging.getLogger(__name__)

FORM = "complaint_form"
ROUTE_SLOTS = ("predicted_category", "subcategory", "department", "route_confidence", "route_alternatives")
CHOOSE_BELOW = 0.6  # below this routing confidence the citizen picks among the likeliest categories
SOME_DEPARTMENT = "相关部门"  # shown when no department is known (yet)
NONE_OF_THESE = "都不是，看全部类别"  # the last button under the likeliest categories
# The fields a confirmed complaint can correct, with the labels of their buttons.
EDITABLE = {
    "description": "问题描述",
    "category": "问题类别",
    "address": "地址",
    "occurred_at": "发生时间",
    "person_name": "称呼",
    "phone": "联系电话",
}
_LEAD_IN = re.compile(
    r"^(你好|您好)?[，,。\s]*(我要|我想|想要|要)?(投诉|举报|反映|反应|建议|求助|报修)(一下|个问题|一个问题|件事)?[，,：:。!！\s]*"
)
_SKIP = re.compile(r"^(跳过|不清楚|不知道|不记得|忘了|没有|无|不确定|略)$")
_NAME_LEAD = re.compile(r"^(我叫|我姓|叫我|姓|我是|本人)")


def substantive_description(text: str) -> Optional[str]:
    """The message as a description if it says more than "我要投诉"; otherwise None."""
    rest = _LEAD_IN.sub("", text).strip()
    return text.strip() if len(rest) >= 6 else None


def route_slots(description: str) -> Dict[Text, Any]:
    """Predicted category, second-level category, department and confidence for a description."""
    route = router().classify(description)
    return {
        "predicted_category": route.category,
        "subcategory": route.subcategory,
        "department": route.department,
        "route_confidence": round(float(route.confidence), 3),
        "route_alternatives": list(route.alternatives),
    }


def form_slots(domain: DomainDict) -> List[Text]:
    """Everything the complaint form collects: its fields (the domain is their one home,
    domain/complaint.yml) and the routing slots derived from the description."""
    return [*domain["forms"][FORM]["required_slots"], *ROUTE_SLOTS]


def reset_form_slots(domain: DomainDict) -> List[EventType]:
    """Events that clear everything the complaint form collected."""
    return [SlotSet(slot, None) for slot in form_slots(domain)] + [SlotSet("requested_slot", None)]


def summary(tracker: Tracker) -> Dict[Text, Any]:
    """The variables of the confirmation summary shown before submitting (utter_complaint_summary)."""
    slot = tracker.get_slot
    return {
        "category": slot("category"),
        "department": slot("department") or SOME_DEPARTMENT,
        "description": slot("description"),
        "full_address": f"{slot('district') or ''} {slot('address')}".rstrip(),
        "occurred_at": slot("occurred_at"),
        "person_name": slot("person_name"),
        "phone": slot("phone"),
        "confidential": "是" if slot("confidential") == "是" else "否",
    }


class ActionStartComplaint(Action):
    """Keeps the details the first message already gives, so the form does not ask for them."""

    def name(self) -> Text:
        return "action_start_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = latest_text(tracker)
        slots: Dict[Text, Any] = {}
        description = substantive_description(text)
        if description:
            slots["description"] = description
            slots.update(route_slots(description))
        address = latest_entity(tracker, "address")
        if address:
            slots["address"] = address
        district = latest_entity(tracker, "district") or find_district(text)
        if district:
            slots["district"] = find_district(district) or district
        phone = phone_given(tracker)
        if phone:
            slots["phone"] = phone
        name = latest_entity(tracker, "person_name")
        if name:
            slots["person_name"] = name
        dispatcher.utter_message(response="utter_complaint_started")
        return reset_form_slots(domain) + [SlotSet(key, value) for key, value in slots.items()]


class ValidateComplaintForm(AnswerValidationAction):
    """Checks each answer; explains and asks again when one is not usable."""

    def name(self) -> Text:
        return "validate_complaint_form"

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = (value or "").strip()
        if len(text) < 4 or substantive_description(text) is None and len(text) < 8:
            dispatcher.utter_message(response="utter_describe_more")
            return {"description": None}
        return {"description": text, **route_slots(text)}

    def validate_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        chosen = latest_entity(tracker, "category") or next(
            (name for name in CATEGORIES if name in (value or "")), None
        )
        if chosen is None and yes_no(latest_text(tracker), latest_intent(tracker)) is True:
            chosen = tracker.get_slot("predicted_category")
        if chosen in CATEGORIES:
            if chosen == tracker.get_slot("predicted_category"):
                return {"category": chosen}
            return {"category": chosen, "subcategory": None, "department": department_for(chosen)}
        return {"category": None}  # action_ask_category then offers the list

    def validate_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = (value or "").strip()
        if len(text) < 3:
            dispatcher.utter_message(response="utter_address_too_short")
            return {"address": None}
        district = find_district(text)
        return {"address": text, "district": district} if district else {"address": text}

    def validate_district(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        district = find_district(value or "")
        if district:
            return {"district": district}
        if _SKIP.match((value or "").strip()):
            return {"district": "待核实"}
        dispatcher.utter_message(response="utter_district_not_recognised")
        return {"district": None}

    def validate_occurred_at(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = (value or "").strip()
        return {"occurred_at": "未说明" if not text or _SKIP.match(text) else text}

    def validate_person_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        name = _NAME_LEAD.sub("", (value or "").strip()).strip("。，,. ")
        if not name or len(name) > 20:
            dispatcher.utter_message(response="utter_name_not_recognised")
            return {"person_name": None}
        return {"person_name": name}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return validated_phone("phone", value, dispatcher, tracker)

    def validate_confidential(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        answer = yes_no(latest_text(tracker), latest_intent(tracker))
        if answer is None:
            dispatcher.utter_message(response="utter_confidential_unclear")
            return {"confidential": None}
        return {"confidential": "是" if answer else "否"}

    def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        field = latest_entity(tracker, "edit_field")
        if field in EDITABLE:
            dispatcher.utter_message(response="utter_edit_field", field_label=EDITABLE[field])
            cleared = {field: None, "confirmed": None}
            if field == "address":
                cleared["district"] = None
            return cleared
        text = latest_text(tracker)
        if text and parse_phone(text) or latest_entity(tracker, "address"):
            return {"confirmed": None}  # a correction given in words: the summary is shown again
        answer = yes_no(text, latest_intent(tracker))
        if answer is True:
            return {"confirmed": "是"}
        dispatcher.utter_message(
            response="utter_which_field",
            buttons=[button(label, "inform", edit_field=slot) for slot, label in EDITABLE.items()],
        )
        return {"confirmed": None}


class ActionAskCategory(Action):
    """Shows the predicted category and department for confirmation, or, when the routing is unsure,
    the likeliest categories to pick from; once the citizen said no (or answered something else), or
    when nothing could be predicted, offers the list of categories."""

    def name(self) -> Text:
        return "action_ask_category"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        events: List[EventType] = []
        route = {slot: tracker.get_slot(slot) for slot in ROUTE_SLOTS}
        if not route["predicted_category"]:
            route = route_slots(tracker.get_slot("description") or "")
            events = [SlotSet(key, value) for key, value in route.items()]
        predicted, department = route["predicted_category"], route["department"]
        asked_before = tracker.get_slot("requested_slot") == "category"  # the form asks again
        if asked_before or not predicted:
            dispatcher.utter_message(
                response="utter_choose_category",
                buttons=[button(citizen_name(name), "inform", category=name) for name in CATEGORIES],
            )
            return events
        confidence, alternatives = route["route_confidence"], route["route_alternatives"] or []
        if confidence is not None and confidence < CHOOSE_BELOW and alternatives:
            dispatcher.utter_message(
                response="utter_choose_likely_category",
                buttons=[button(citizen_name(name), "inform", category=name) for name in [predicted, *alternatives]]
                + [button(NONE_OF_THESE, "deny")],
            )
            return events
        dispatcher.utter_message(response="utter_confirm_category", predicted_category=predicted, department=department)
        return events


class ActionAskConfirmed(Action):
    """Shows the summary with buttons to submit, correct or cancel."""

    def name(self) -> Text:
        return "action_ask_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_complaint_summary", **summary(tracker))
        return []


def ticket_payload(tracker: Tracker) -> Dict[Text, Any]:
    """The ticket backend's create payload, from the form's slots."""
    slot = tracker.get_slot
    return {
        "client_ref": uuid.uuid4().hex,
        "category": slot("category"),
        "subcategory": slot("subcategory"),
        "department": slot("department"),
        "confidence": slot("route_confidence"),
        "description": slot("description"),
        "district": slot("district"),
        "address": slot("address"),
        "occurred_at": slot("occurred_at"),
        "name": slot("person_name"),
        "phone": slot("phone"),
        "confidential": slot("confidential") == "是",
        "channel": channel_of(tracker),
        "sender_id": tracker.sender_id,
    }


class ActionSubmitComplaint(Action):
    """Opens the ticket; if the backend is down, keeps the complaint in the outbox for later."""

    def name(self) -> Text:
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        payload = ticket_payload(tracker)
        try:
            ticket = await TicketClient.from_settings().create_ticket(payload)
        except TicketBackendUnavailable:
            Outbox(load_settings().outbox_path).put(payload)
            dispatcher.utter_message(response="utter_complaint_kept")
            return reset_form_slots(domain)
        except TicketRejected as error:
            logger.error("ticket backend rejected a validated complaint: %s", error)
            dispatcher.utter_message(response="utter_complaint_failed")
            return reset_form_slots(domain)
        dispatcher.utter_message(
            response="utter_complaint_accepted",
            ticket_number=ticket["number"],
            department=ticket.get("department") or SOME_DEPARTMENT,
        )
        return reset_form_slots(domain) + [SlotSet("last_ticket_number", ticket["number"])]


class ActionCancelForm(Action):
    """ "算了" at any point: stop the active form and forget what it collected."""

    def name(self) -> Text:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        lookup = tracker.active_loop.get("name") == "ticket_lookup_form"
        dispatcher.utter_message(response="utter_lookup_cancelled" if lookup else "utter_complaint_cancelled")
        cleared = (
            [SlotSet("ticket_number", None), SlotSet("lookup_phone", None)] if lookup else reset_form_slots(domain)
        )
        return [ActiveLoop(None)] + cleared
