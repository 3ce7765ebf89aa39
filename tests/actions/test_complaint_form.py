"""The complaint form's validation, run offline with tracker fixtures and a collecting dispatcher."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.complaint import ActionStartComplaint, ValidateComplaintForm

DOMAIN = {"forms": {"complaint_form": {"required_slots": [
    "description", "category", "address", "district", "occurred_at", "person_name", "phone", "confidential",
    "confirmed",
]}}}


def tracker(text: str, intent: str, slot_events: List[Dict[str, Any]], entities: Optional[list] = None) -> Tracker:
    """A tracker whose latest user message is `text`, followed by `slot_events` (as a form run sees it)."""
    user = {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": entities or []}}
    slots = {event["name"]: event["value"] for event in slot_events}
    return Tracker(
        "citizen", slots, user["parse_data"] | {"text": text}, [user] + slot_events, False, None,
        {"name": "complaint_form"}, "action_listen",
    )


async def test_starting_afresh_asks_nothing_about_cleared_slots():
    dispatcher = CollectingDispatcher()
    cleared = [SlotSet(name, None) for name in DOMAIN["forms"]["complaint_form"]["required_slots"]]
    events = await ValidateComplaintForm().run(dispatcher, tracker("我要投诉", "file_complaint", cleared), DOMAIN)
    assert dispatcher.messages == []
    assert all(event["value"] is None for event in events if event["event"] == "slot")


async def test_a_malformed_phone_is_explained_and_asked_again():
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().run(
        dispatcher, tracker("12345", "inform", [SlotSet("phone", "12345"), SlotSet("requested_slot", "phone")]), DOMAIN
    )
    assert "不太对" in dispatcher.messages[0]["text"]
    assert {"event": "slot", "timestamp": None, "name": "phone", "value": None} in events


async def test_the_first_message_fills_what_it_already_says():
    dispatcher = CollectingDispatcher()
    text = "我要投诉南开区幸福里小区的暖气一直不热，我的电话是138 1234 5678"
    entities = [{"entity": "phone", "value": "13812345678"}]
    events = await ActionStartComplaint().run(dispatcher, tracker(text, "file_complaint", [], entities), DOMAIN)
    filled = {event["name"]: event["value"] for event in events if event["value"] is not None}
    assert filled["description"] == text
    assert filled["district"] == "南开区"
    assert filled["phone"] == "13812345678"
    assert filled["predicted_category"] == "城乡建设"


async def test_category_is_confirmed_first_then_chosen_from_the_list():
    from actions.complaint import ActionAskCategory

    predicted = [SlotSet("description", "小区暖气不热"), SlotSet("predicted_category", "城乡建设"),
                 SlotSet("department", "市城市管理委员会（供热办）")]
    first, again = CollectingDispatcher(), CollectingDispatcher()
    await ActionAskCategory().run(first, tracker("小区暖气不热", "inform", predicted + [SlotSet("requested_slot", "description")]), DOMAIN)
    assert "分类对吗" in first.messages[0]["text"]
    await ActionAskCategory().run(again, tracker("不对", "deny", predicted + [SlotSet("requested_slot", "category")]), DOMAIN)
    assert "选择" in again.messages[0]["text"] and len(again.messages[0]["buttons"]) == 15


async def test_a_phone_cut_into_pieces_by_the_extractor_is_read_from_the_message():
    dispatcher = CollectingDispatcher()
    pieces = [{"entity": "phone", "value": "138"}, {"entity": "phone", "value": "12345678"}]
    events = await ValidateComplaintForm().run(
        dispatcher, tracker("13812345678", "inform", [SlotSet("phone", "138"), SlotSet("requested_slot", "phone")], pieces),
        DOMAIN,
    )
    assert dispatcher.messages == []
    assert {"event": "slot", "timestamp": None, "name": "phone", "value": "13812345678"} in events


async def test_an_unsure_route_offers_the_likeliest_categories_then_the_list():
    from actions.complaint import ActionAskCategory

    unsure = [SlotSet("description", "学校门口的路灯坏了"), SlotSet("predicted_category", "城乡建设"),
              SlotSet("department", "市城市管理委员会"), SlotSet("route_confidence", 0.41),
              SlotSet("route_alternatives", ["教育文体", "交通运输"])]
    first, again = CollectingDispatcher(), CollectingDispatcher()
    await ActionAskCategory().run(first, tracker("学校门口的路灯坏了", "inform", unsure + [SlotSet("requested_slot", "description")]), DOMAIN)
    titles = [b["title"] for b in first.messages[0]["buttons"]]
    assert "请选一个" in first.messages[0]["text"] and titles[:3] == ["城乡建设", "教育文体", "交通运输"]
    assert titles[3].startswith("都不是")
    await ActionAskCategory().run(again, tracker("都不是", "deny", unsure + [SlotSet("requested_slot", "category")]), DOMAIN)
    assert len(again.messages[0]["buttons"]) == 15


async def test_a_runner_up_picked_by_button_takes_its_own_department():
    picked = [SlotSet("predicted_category", "城乡建设"), SlotSet("subcategory", "路灯"),
              SlotSet("department", "市城市管理委员会"), SlotSet("requested_slot", "category")]
    events = await ValidateComplaintForm().run(
        CollectingDispatcher(), tracker("教育文体", "inform", picked + [SlotSet("category", "教育文体")],
                                        [{"entity": "category", "value": "教育文体"}]), DOMAIN)
    filled = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    assert filled["category"] == "教育文体" and filled["subcategory"] is None
    assert filled["department"] != "市城市管理委员会"
