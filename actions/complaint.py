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

from actions.common import AnswerValidationAction, button, channel_of, latest_entity, latest_intent, latest_text, phone_given
from actions.outbox import Outbox
from bot.ticket_client import TicketBackendUnavailable, TicketClient, TicketRejected
from actions.yes_no import PHONE_HELP, yes_no
from bot.personal_data import parse_phone
from bot.places import find_district
from bot.routing import CATEGORIES, department_for, shared as router
from bot.settings import load as load_settings

logger = logging.getLogger(__name__)

ROUTE_SLOTS = ("predicted_category", "subcategory", "department", "route_confidence", "route_alternatives")
CHOOSE_BELOW = 0.6  # below this routing confidence the citizen picks among the likeliest categories
FORM_SLOTS = (
    "description", "category", "address", "district", "occurred_at", "person_name", "phone",
    "confidential", "confirmed", *ROUTE_SLOTS,
)
EDITABLE = {
    "description": "问题描述", "category": "问题类别", "address": "地址", "occurred_at": "发生时间",
    "person_name": "称呼", "phone": "联系电话",
}
_LEAD_IN = re.compile(r"^(你好|您好)?[，,。\s]*(我要|我想|想要|要)?(投诉|举报|反映|反应|建议|求助|报修)(一下|个问题|一个问题|件事)?[，,：:。!！\s]*")
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


def reset_form_slots() -> List[EventType]:
    """Events that clear everything the complaint form collected."""
    return [SlotSet(slot, None) for slot in FORM_SLOTS] + [SlotSet("requested_slot", None)]


def summary(tracker: Tracker) -> str:
    """The confirmation summary shown before submitting."""
    slot = tracker.get_slot
    lines = [
        "请核对您的诉求信息：",
        f"· 问题类别：{slot('category')}（拟转交：{slot('department') or '相关部门'}）",
        f"· 问题描述：{slot('description')}",
        f"· 地址：{slot('district') or ''} {slot('address')}".rstrip(),
        f"· 发生时间：{slot('occurred_at')}",
        f"· 联系人：{slot('person_name')}",
        f"· 联系电话：{slot('phone')}",
        f"· 信息保密：{'是' if slot('confidential') == '是' else '否'}",
    ]
    return "\n".join(lines)


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
        dispatcher.utter_message(text="好的，我来帮您登记诉求，只需要几个信息，随时可以说“算了”取消。")
        return reset_form_slots() + [SlotSet(key, value) for key, value in slots.items()]


class ValidateComplaintForm(AnswerValidationAction):
    """Checks each answer; explains and asks again when one is not usable."""

    def name(self) -> Text:
        return "validate_complaint_form"

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = (value or "").strip()
        if len(text) < 4 or substantive_description(text) is None and len(text) < 8:
            dispatcher.utter_message(text="麻烦再具体描述一下：发生了什么事？影响了谁？")
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
            dispatcher.utter_message(text="地址太简略了，请写到街道、小区或门牌，例如：河西区友谊路20号。")
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
        dispatcher.utter_message(text="没有识别出是哪个区，请直接回复区名，例如“南开区”；不清楚可以回复“不知道”。")
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
            dispatcher.utter_message(text="请告诉我怎么称呼您，例如“张女士”或“李先生”。")
            return {"person_name": None}
        return {"person_name": name}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        phone = phone_given(tracker, value)
        if phone is None:
            dispatcher.utter_message(text=PHONE_HELP)
        return {"phone": phone}

    def validate_confidential(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        answer = yes_no(latest_text(tracker), latest_intent(tracker))
        if answer is None:
            dispatcher.utter_message(text="请回复“需要保密”或“不需要”。")
            return {"confidential": None}
        return {"confidential": "是" if answer else "否"}

    def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        field = latest_entity(tracker, "edit_field")
        if field in EDITABLE:
            dispatcher.utter_message(text=f"好的，我们重新填写“{EDITABLE[field]}”。")
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
            text="需要修改哪一项？",
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
                text="请从下面选择最符合的问题类别（也可以直接回复类别名称）：",
                buttons=[button(name, "inform", category=name) for name in CATEGORIES],
            )
            return events
        confidence, alternatives = route["route_confidence"], route["route_alternatives"] or []
        if confidence is not None and confidence < CHOOSE_BELOW and alternatives:
            dispatcher.utter_message(
                text="根据您的描述，这件事可能属于下面几类，请选一个最符合的：",
                buttons=[button(name, "inform", category=name) for name in [predicted, *alternatives]]
                + [button("都不是，看全部类别", "deny")],
            )
            return events
        dispatcher.utter_message(
            text=f"根据您的描述，这件事属于「{predicted}」类，拟转交「{department}」办理。分类对吗？",
            buttons=[button("对", "affirm"), button("不对，我来选", "deny")],
        )
        return events


class ActionAskConfirmed(Action):
    """Shows the summary with buttons to submit, correct or cancel."""

    def name(self) -> Text:
        return "action_ask_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(
            text=summary(tracker),
            buttons=[button("确认提交", "affirm"), button("修改信息", "deny"), button("取消", "cancel")],
        )
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
            dispatcher.utter_message(
                text="工单系统暂时繁忙，您的诉求已经完整保存，系统恢复后会第一时间自动提交，"
                "工单号会再发给您。请放心，诉求不会丢失。"
            )
            return reset_form_slots()
        except TicketRejected as error:
            logger.error("ticket backend rejected a validated complaint: %s", error)
            dispatcher.utter_message(
                text="抱歉，提交时出现问题，没能生成工单。建议您转人工客服，由人工为您登记。",
                buttons=[button("转人工", "request_human")],
            )
            return reset_form_slots()
        dispatcher.utter_message(
            text=f"您的诉求已受理 ✅\n工单号：{ticket['number']}\n"
            f"将转交「{ticket.get('department') or '相关部门'}」办理，一般诉求5个工作日内答复，请保持电话畅通。"
            "您可以随时发送“查询工单”查看进度。"
        )
        return reset_form_slots() + [SlotSet("last_ticket_number", ticket["number"])]


class ActionCancelForm(Action):
    """"算了" at any point: stop the active form and forget what it collected."""

    def name(self) -> Text:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        lookup = tracker.active_loop.get("name") == "ticket_lookup_form"
        dispatcher.utter_message(response="utter_lookup_cancelled" if lookup else "utter_complaint_cancelled")
        cleared = [SlotSet("ticket_number", None), SlotSet("lookup_phone", None)] if lookup else reset_form_slots()
        return [ActiveLoop(None)] + cleared
