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
    ticket_number_given,
    validated_phone,
)
from actions.faq import answer as answer_from_kb
from actions.outbox import Outbox
from actions.yes_no import (
    correction,
    is_acknowledgement,
    is_question,
    only_asking,
    says_when,
    says_where,
    skipped,
    the_question_in,
    wants_to_add,
    yes_no,
)
from bot.categories import citizen_name
from bot.kb import shared as knowledge_base
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
_NAME = re.compile(r"^[\u4e00-\u9fa5A-Za-z·]{1,12}$")
_TITLE = re.compile(r"(先生|女士|小姐|阿姨|师傅|老师|大爷|大妈|同志)$")
# a time phrase in a first message or a description ("每天晚上10点以后", "上周五", "从上个月开始")
_WHEN = re.compile(
    r"(从|自)?(每天|每晚|天天|最近|近来|这几天|这段时间|昨天|今天|前天|上周[一二三四五六日天]?|这周|本周|上个月|这个月|今年|去年|"
    r"\d{1,2}月\d{1,2}[日号]|[一二三四五六七八九十两半几\d]+个?多?(天|周|星期|月|年|小时)(以来|了|前)?)"
    r"(早上|上午|中午|下午|晚上|夜里|半夜|凌晨|[\d一二三四五六七八九十]{1,3}点[半多]?|以后|之后|左右|开始|以来)*"
)
# what the citizen said instead of an answer that the form takes up itself before asking again
DIGRESSION_INTENTS = {
    "ask_question",
    "chitchat",
    "bot_challenge",
    "greet",
    "thank",
    "goodbye",
    "out_of_scope",
    "check_ticket",
}
LABELS = {
    **EDITABLE,
    "district": "所在区",
    "confidential": "是否保密",
    "confirmed": "确认提交",
    "ticket_number": "工单号",
    "lookup_phone": "联系电话",
}


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
    return [SlotSet(slot, None) for slot in form_slots(domain)] + [
        SlotSet("requested_slot", None),
        SlotSet("adding_detail", None),
    ]


def full_address(district: Optional[str], address: Optional[str]) -> str:
    """District and address once: "南开区幸福路8号", never "南开区 南开区幸福路8号"."""
    address = (address or "").strip()
    if not district or district == "待核实" or district in address or find_district(address) == district:
        return address
    return f"{district} {address}".strip()


def when_in(text: str) -> Optional[str]:
    """The time phrase a message already gives ("每天晚上10点以后"), if any."""
    found = _WHEN.search(text or "")
    return found.group(0).strip() if found and len(found.group(0).strip()) >= 2 else None


def mostly_digits(text: str) -> bool:
    """At least half of the message's visible characters are digits (any width)."""
    visible = [char for char in text if not char.isspace()]
    return bool(visible) and sum(char.isdigit() for char in visible) * 2 >= len(visible)


def kind_of_reply(slot: str, tracker: Tracker) -> Optional[str]:
    """What the citizen's latest message is at the form question `slot`, when it is not simply an answer:
    "correction", "digression" (a question, chit-chat, "你是机器人吗"), "not_an_answer" (an acknowledgement or
    an unrelated sentence) -- or None: an answer, to be validated as usual."""
    text, intent = latest_text(tracker), latest_intent(tracker)
    if not text:
        return None  # a button: its intent and entities are the answer
    if correction(text) and slot not in ("ticket_number", "lookup_phone"):
        return "correction"
    if slot in ("phone", "lookup_phone") and (phone_given(tracker) or mostly_digits(text)):
        return None  # a number, even a wrong one ("12345"): the phone check says what a phone number looks like
    if slot == "ticket_number" and ticket_number_given(tracker):
        return None
    if slot == "occurred_at" and skipped(text):
        return None
    if slot in ("confidential", "confirmed", "category"):
        if is_question(text) or intent in DIGRESSION_INTENTS - {"greet", "thank"} and yes_no(text, intent) is None:
            return "digression"
        return None
    if slot == "description":
        if intent in DIGRESSION_INTENTS - {"ask_question", "check_ticket", "out_of_scope"} and len(text) < 12:
            return "digression"
        if intent in ("ask_question", "check_ticket", "out_of_scope") and is_question(text):
            if len(text) < 12 or len(text) < 24 and kb_answers(text, tracker):  # a long one is the complaint
                return "digression"  # "社保断缴了几个月有什么影响？" is a question, not the complaint
        return "not_an_answer" if is_acknowledgement(text) else None
    if is_question(text) or intent in DIGRESSION_INTENTS and not answers(slot, text):
        return "digression"
    if is_acknowledgement(text):
        return "not_an_answer"
    if slot == "occurred_at" and not says_when(text):
        return "not_an_answer"
    if slot == "address" and len(text) >= 3 and not says_where(text) and not latest_entity(tracker, "address"):
        return "not_an_answer"
    return None


def answers(slot: str, text: str) -> bool:
    """Whether the text reads as an answer to the form question `slot` (whatever intent it was given)."""
    if slot == "occurred_at":
        return says_when(text)
    if slot == "address":
        return says_where(text)
    if slot == "district":
        return find_district(text) is not None
    if slot == "person_name":
        name = _NAME_LEAD.sub("", text).strip("。，,. ")
        return bool(_NAME.match(name)) and (len(name) <= 4 or bool(_TITLE.search(name)))
    return False


def kb_answers(text: str, tracker: Tracker) -> bool:
    """The knowledge base has a confident answer to the text."""
    kb = knowledge_base()
    hits = kb.search(text, k=3, channel=channel_of(tracker))
    return bool(hits) and kb.decide(hits) == "answer"


def digress(dispatcher: CollectingDispatcher, tracker: Tracker, in_complaint: bool = True) -> None:
    """Takes up what the citizen said in the middle of a form (a question for the knowledge base, chit-chat,
    "你是机器人吗"), then says "我们继续：" -- the form then asks its question again."""
    intent, text = latest_intent(tracker), latest_text(tracker)
    if intent == "bot_challenge":
        dispatcher.utter_message(response="utter_iamabot")
    elif intent == "chitchat":
        dispatcher.utter_message(response="utter_chitchat")
    elif intent in ("greet", "thank", "goodbye") and not is_question(text):
        pass
    elif intent == "check_ticket" and in_complaint:
        dispatcher.utter_message(response="utter_form_check_later")
    else:
        answer_question(dispatcher, tracker, text)
    dispatcher.utter_message(response="utter_form_resume")


def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> None:
    """The knowledge base's answer without its "did this help?" (a form's question follows), or a pointer."""
    kb = knowledge_base()
    chosen = kb.get(latest_entity(tracker, "faq_id") or "")
    hits = [] if chosen else kb.search(text, k=3, channel=channel_of(tracker))
    if chosen or hits and kb.decide(hits) == "answer":
        answer_from_kb(dispatcher, chosen or hits[0].entry, ask_feedback=False)
    else:
        dispatcher.utter_message(response="utter_form_question_later")


def corrected(dispatcher: CollectingDispatcher, tracker: Tracker, asked: str) -> Dict[Text, Any]:
    """ "地址说错了，是…" / "电话改成…": the named field takes the new value, or is cleared to be asked again."""
    field, value = correction(latest_text(tracker)) or ("", None)
    result: Dict[Text, Any] = {asked: None}  # the correction is not the answer to the question asked
    if field == "phone":
        value = phone_given(tracker)
    elif field == "address" and value and not says_where(value):
        value = None
    elif field == "category":
        value = next((name for name in CATEGORIES if value and name in value), None)
    if value:
        result[field] = value
        if field == "address":
            result["district"] = find_district(value) or tracker.get_slot("district")
        if field == "category":
            result["department"] = department_for(value)
        shown = value if field != "category" else citizen_name(value)
        dispatcher.utter_message(response="utter_field_corrected", field_label=EDITABLE[field], value=shown)
    else:
        result[field] = None
        if field == "address":
            result["district"] = None
        dispatcher.utter_message(response="utter_edit_field", field_label=EDITABLE[field])
    return result


def screened(slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Dict[Text, Any]]:
    """Handles a reply that is not an answer to `slot` (see kind_of_reply) and returns the slots to set,
    or None when the reply is an answer."""
    if tracker.get_slot("requested_slot") != slot:
        return None  # filled from an entity while another question was asked: an answer
    kind = kind_of_reply(slot, tracker)
    if kind == "correction":
        return corrected(dispatcher, tracker, slot)
    if kind == "digression":
        digress(dispatcher, tracker)
        return {slot: None}
    if kind == "not_an_answer":
        dispatcher.utter_message(response="utter_not_an_answer", field_label=LABELS.get(slot, slot))
        return {slot: None}
    return None


def summary(tracker: Tracker) -> Dict[Text, Any]:
    """The variables of the confirmation summary shown before submitting (utter_complaint_summary)."""
    slot = tracker.get_slot
    return {
        "category": slot("category"),
        "department": slot("department") or SOME_DEPARTMENT,
        "description": slot("description"),
        "full_address": full_address(slot("district"), slot("address")),
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
        # "提交诉求"/"帮我登记" after a request the fallback took up (actions/faq.py): that request is the description
        pending = tracker.get_slot("pending_request")
        if pending and not substantive_description(text):
            text = pending
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
        when = when_in(text) if description else None
        if when:
            slots["occurred_at"] = when
        dispatcher.utter_message(response="utter_complaint_started")
        taken_up = [SlotSet("pending_request", None)] if pending else []
        return reset_form_slots(domain) + [SlotSet(key, value) for key, value in slots.items()] + taken_up


class ValidateComplaintForm(AnswerValidationAction):
    """Checks each answer; explains and asks again when one is not usable."""

    def name(self) -> Text:
        return "validate_complaint_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """ "我不是要投诉，只是想问问" at any question: out of the form, to an answer. A ticket backend's notice
        that arrives meanwhile is told, and the question asked again."""
        from actions.ticket_status import is_notice, notice_in_form  # ticket_status imports this module

        if is_notice(tracker) and tracker.get_slot("requested_slot"):
            return notice_in_form(dispatcher, tracker)
        text = latest_text(tracker)
        if tracker.get_slot("requested_slot") and only_asking(text):
            dispatcher.utter_message(response="utter_only_asking")
            question = the_question_in(text)
            if len(question) >= 6:
                answer_question(dispatcher, tracker, question)
            return [ActiveLoop(None)] + reset_form_slots(domain)
        if not tracker.get_slot("requested_slot"):
            # the form starts with details picked from the first message ("A市", a district the city does not
            # have): one that cannot be used is dropped without a word, and the form asks for it in its turn
            return await super().run(CollectingDispatcher(), tracker, domain)
        return await super().run(dispatcher, tracker, domain)

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        handled = screened("description", dispatcher, tracker)
        if handled is not None:
            return handled
        text = (value or "").strip()
        if len(text) < 4 or substantive_description(text) is None and len(text) < 8:
            dispatcher.utter_message(response="utter_describe_more")
            return {"description": None}
        details: Dict[Text, Any] = {"description": text, **route_slots(text)}
        when = when_in(text)
        if when and not tracker.get_slot("occurred_at"):
            details["occurred_at"] = when  # said in the description: not asked again
        district = find_district(text)
        if district and not tracker.get_slot("district"):
            details["district"] = district
        return details

    def validate_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        handled = screened("category", dispatcher, tracker)
        if handled is not None:
            return handled
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
        handled = screened("address", dispatcher, tracker)
        if handled is not None:
            return handled
        text = (value or "").strip()
        if len(text) < 3:
            dispatcher.utter_message(response="utter_address_too_short")
            return {"address": None}
        district = find_district(text)
        return {"address": text, "district": district} if district else {"address": text}

    def validate_district(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        handled = screened("district", dispatcher, tracker)
        if handled is not None:
            return handled
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
        handled = screened("occurred_at", dispatcher, tracker)
        if handled is not None:
            return handled
        text = (value or "").strip()
        return {"occurred_at": "未说明" if not text or _SKIP.match(text) or skipped(text) else text}

    def validate_person_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        handled = screened("person_name", dispatcher, tracker)
        if handled is not None:
            return handled
        name = _NAME_LEAD.sub("", (value or "").strip()).strip("。，,. ")
        if not name or len(name) > 20:
            dispatcher.utter_message(response="utter_name_not_recognised")
            return {"person_name": None}
        return {"person_name": name}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        handled = screened("phone", dispatcher, tracker)
        if handled is not None:
            return handled
        return validated_phone("phone", value, dispatcher, tracker)

    def validate_confidential(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        handled = screened("confidential", dispatcher, tracker)
        if handled is not None:
            return handled
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
        if tracker.get_slot("adding_detail") and text:
            description = f"{tracker.get_slot('description') or ''}；{text}".lstrip("；")
            return {"description": description, "adding_detail": None, "confirmed": None}
        handled = screened("confirmed", dispatcher, tracker)
        if handled is not None:
            return handled
        if text and wants_to_add(text):
            dispatcher.utter_message(response="utter_add_detail")
            return {"confirmed": None, "adding_detail": True}
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
        if asked_before and kind_of_reply("category", tracker) in ("digression", "correction"):
            asked_before = False  # after a digression the question itself is asked again
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
        if only_asking(latest_text(tracker)):
            return []  # the form was left without a complaint: the citizen only wanted to ask
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
        return reset_form_slots(domain) + [
            SlotSet("last_ticket_number", ticket["number"]),
            SlotSet("last_ticket_phone", payload["phone"]),
        ]


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
