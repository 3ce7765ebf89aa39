"""The complaint form: starting, validating each answer, asking the category, confirming and submitting."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ActiveLoop, SlotSet

from actions.complaint import (
    ROUTE_SLOTS,
    ActionAskCategory,
    ActionAskConfirmed,
    ActionCancelForm,
    ActionStartComplaint,
    ActionSubmitComplaint,
    ValidateComplaintForm,
    form_slots,
)
from bot.routing import CATEGORIES


def form_fields(domain):
    """The complaint form's fields, read from the domain (domain/complaint.yml is their one home)."""
    return domain["forms"]["complaint_form"]["required_slots"]


def cleared(domain):
    return [SlotSet(slot, None) for slot in form_fields(domain) + list(ROUTE_SLOTS)] + [
        SlotSet("requested_slot", None),
        SlotSet("adding_detail", None),
    ]


def test_the_form_collects_the_domain_fields_and_the_route(domain):
    assert form_slots(domain) == [*form_fields(domain), *ROUTE_SLOTS]
    assert "phone" in form_fields(domain) and form_fields(domain)[-1] == "confirmed"


async def test_the_first_message_fills_what_it_already_says(domain, dispatcher, make_tracker, responses):
    text = "我要投诉南开区幸福里小区的暖气一直不热，我的电话是138 1234 5678"
    tracker = make_tracker(text, "file_complaint", entities=[{"entity": "phone", "value": "13812345678"}])
    events = await ActionStartComplaint().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_started"]
    assert events[: len(cleared(domain))] == cleared(domain)
    filled = {event["name"]: event["value"] for event in events[len(cleared(domain)) :]}
    assert filled["description"] == text and filled["district"] == "南开区" and filled["phone"] == "13812345678"
    assert filled["predicted_category"] == "城乡建设" and filled["department"]
    assert set(filled) == {"description", "district", "phone", *ROUTE_SLOTS}


async def test_a_bare_request_starts_afresh(domain, dispatcher, make_tracker, responses):
    events = await ActionStartComplaint().run(dispatcher, make_tracker("我要投诉", "file_complaint"), domain)
    assert responses(dispatcher) == ["utter_complaint_started"]
    assert events == cleared(domain)


async def test_starting_afresh_asks_nothing_about_cleared_slots(domain, dispatcher, make_tracker):
    tracker = make_tracker(
        "我要投诉", "file_complaint", slots={name: None for name in form_fields(domain)}, active_loop="complaint_form"
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert dispatcher.messages == []
    assert all(event["value"] is None for event in events if event["event"] == "slot")


async def test_details_of_the_first_message_that_cannot_be_used_are_dropped_without_a_word(domain, make_tracker):
    """The form's start stays within 3 messages (started, the first question): "A市" as the address, a district
    the city does not have and a short number are asked for in their turn, not explained at once."""
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    text = "反映A1区A市某小区的问题，电话12345"
    picked = {"address": "A市", "district": "A1区", "phone": "12345"}
    tracker = make_tracker(
        text, "file_complaint", slots={"requested_slot": None, **picked}, active_loop="complaint_form"
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert dispatcher.messages == []
    assert {event["name"]: event["value"] for event in events if event["event"] == "slot"} == dict.fromkeys(picked)


@pytest.mark.parametrize("intent", ["inform", "chitchat", "ask_question"])  # whatever the model makes of "12345"
async def test_a_malformed_phone_is_explained_and_asked_again(domain, dispatcher, make_tracker, responses, intent):
    tracker = make_tracker(
        "12345", intent, slots={"requested_slot": "phone", "phone": "12345"}, active_loop="complaint_form"
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_phone_invalid"]
    assert SlotSet("phone", None) in events


async def test_a_phone_cut_into_pieces_by_the_extractor_is_read_from_the_message(domain, dispatcher, make_tracker):
    pieces = [{"entity": "phone", "value": "138"}, {"entity": "phone", "value": "12345678"}]
    tracker = make_tracker(
        "13812345678", slots={"requested_slot": "phone", "phone": "138"}, entities=pieces, active_loop="complaint_form"
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert dispatcher.messages == []
    assert SlotSet("phone", "13812345678") in events


async def test_unusable_answers_are_explained(domain, make_tracker, responses):
    from rasa_sdk.executor import CollectingDispatcher

    for slot, answer, response in [
        ("description", "暖气", "utter_describe_more"),
        ("address", "楼", "utter_address_too_short"),
        ("district", "火星区", "utter_district_not_recognised"),
        ("person_name", "我叫", "utter_name_not_recognised"),
        ("confidential", "随便说点啥", "utter_confidential_unclear"),
    ]:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(answer, slots={"requested_slot": slot, slot: answer}, active_loop="complaint_form")
        events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
        assert responses(dispatcher) == [response], slot
        assert SlotSet(slot, None) in events, slot


async def test_a_field_to_correct_is_cleared_with_its_label(domain, dispatcher, make_tracker, responses):
    tracker = make_tracker(
        "改地址",
        entities=[{"entity": "edit_field", "value": "address"}],
        slots={"requested_slot": "confirmed", "confirmed": "改地址"},
        active_loop="complaint_form",
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_edit_field"] and dispatcher.messages[0]["field_label"] == "地址"
    changed = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    assert {name: changed.get(name, "kept") for name in ("address", "district", "confirmed", "phone")} == {
        "address": None,
        "district": None,
        "confirmed": None,
        "phone": "kept",
    }


async def test_a_no_to_the_summary_asks_which_field(domain, dispatcher, make_tracker, responses):
    tracker = make_tracker(
        "不对", "deny", slots={"requested_slot": "confirmed", "confirmed": "不对"}, active_loop="complaint_form"
    )
    await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_which_field"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]][0] == '/inform{"edit_field": "description"}'


async def test_category_is_confirmed_first_then_chosen_from_the_list(domain, make_tracker, responses):
    from rasa_sdk.executor import CollectingDispatcher

    predicted = {
        "description": "小区暖气不热",
        "predicted_category": "城乡建设",
        "department": "市城市管理委员会（供热办）",
        "route_confidence": 0.9,
    }
    first, again = CollectingDispatcher(), CollectingDispatcher()
    events = await ActionAskCategory().run(
        first, make_tracker("小区暖气不热", slots={**predicted, "requested_slot": "description"}), domain
    )
    assert events == [] and responses(first) == ["utter_confirm_category"]
    assert first.messages[0]["predicted_category"] == "城乡建设"
    assert first.messages[0]["department"] == "市城市管理委员会（供热办）"
    await ActionAskCategory().run(
        again, make_tracker("不对", "deny", slots={**predicted, "requested_slot": "category"}), domain
    )
    assert responses(again) == ["utter_choose_category"]
    assert [b["payload"] for b in again.messages[0]["buttons"]] == [
        f'/inform{{"category": "{name}"}}' for name in CATEGORIES
    ]


async def test_an_unsure_route_offers_the_likeliest_categories_then_the_list(domain, make_tracker, responses):
    from rasa_sdk.executor import CollectingDispatcher

    unsure = {
        "description": "学校门口的路灯坏了",
        "predicted_category": "城乡建设",
        "department": "市城市管理委员会",
        "route_confidence": 0.41,
        "route_alternatives": ["教育文体", "交通运输"],
    }
    first, again = CollectingDispatcher(), CollectingDispatcher()
    await ActionAskCategory().run(
        first, make_tracker("学校门口的路灯坏了", slots={**unsure, "requested_slot": "description"}), domain
    )
    assert responses(first) == ["utter_choose_likely_category"]
    payloads = [b["payload"] for b in first.messages[0]["buttons"]]
    assert payloads == [
        '/inform{"category": "城乡建设"}',
        '/inform{"category": "教育文体"}',
        '/inform{"category": "交通运输"}',
        "/deny",
    ]
    await ActionAskCategory().run(
        again, make_tracker("都不是", "deny", slots={**unsure, "requested_slot": "category"}), domain
    )
    assert responses(again) == ["utter_choose_category"] and len(again.messages[0]["buttons"]) == len(CATEGORIES)


async def test_a_runner_up_picked_by_button_takes_its_own_department(domain, dispatcher, make_tracker):
    picked = {
        "predicted_category": "城乡建设",
        "subcategory": "路灯",
        "department": "市城市管理委员会",
        "requested_slot": "category",
        "category": "教育文体",
    }
    tracker = make_tracker(
        "教育文体", slots=picked, entities=[{"entity": "category", "value": "教育文体"}], active_loop="complaint_form"
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    filled = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    assert filled["category"] == "教育文体" and filled["subcategory"] is None
    assert filled["department"] != "市城市管理委员会"


COMPLETE = {
    "description": "小区暖气不热已经一周了",
    "category": "城乡建设",
    "department": "市城市管理委员会（供热办）",
    "subcategory": "供热",
    "route_confidence": 0.9,
    "district": "南开区",
    "address": "幸福里小区5号楼",
    "occurred_at": "未说明",
    "person_name": "王先生",
    "phone": "13812345678",
    "confidential": "否",
}


async def test_the_summary_shows_what_was_collected(domain, dispatcher, make_tracker, responses):
    events = await ActionAskConfirmed().run(dispatcher, make_tracker("否", slots=COMPLETE), domain)
    assert events == [] and responses(dispatcher) == ["utter_complaint_summary"]
    message = dispatcher.messages[0]
    assert message["full_address"] == "南开区 幸福里小区5号楼" and message["confidential"] == "否"
    assert {
        key: message[key] for key in ("category", "department", "description", "occurred_at", "person_name", "phone")
    } == {
        key: COMPLETE[key] for key in ("category", "department", "description", "occurred_at", "person_name", "phone")
    }


async def test_submitting_opens_a_ticket(domain, dispatcher, make_tracker, responses, tickets, env_settings):
    events = await ActionSubmitComplaint().run(dispatcher, make_tracker("确认", "affirm", slots=COMPLETE), domain)
    assert responses(dispatcher) == ["utter_complaint_accepted"]
    assert dispatcher.messages[0]["ticket_number"] == "BM261122K7M4Q9XZ"
    assert dispatcher.messages[0]["department"] == "市城市管理委员会（供热办）"
    assert events == cleared(domain) + [
        SlotSet("last_ticket_number", "BM261122K7M4Q9XZ"),
        SlotSet("last_ticket_phone", "13812345678"),
    ]
    assert tickets.created[0]["phone"] == "13812345678" and tickets.created[0]["confidential"] is False


async def test_a_complaint_is_kept_while_the_backend_is_down(
    domain, dispatcher, make_tracker, responses, tickets, env_settings
):
    from actions.outbox import Outbox

    tickets.down = True
    events = await ActionSubmitComplaint().run(dispatcher, make_tracker("确认", "affirm", slots=COMPLETE), domain)
    assert responses(dispatcher) == ["utter_complaint_kept"] and events == cleared(domain)
    assert len(Outbox(env_settings.outbox_path).entries()) == 1


async def test_a_rejected_complaint_offers_a_human(domain, dispatcher, make_tracker, responses, tickets, env_settings):
    tickets.reject = True
    events = await ActionSubmitComplaint().run(dispatcher, make_tracker("确认", "affirm", slots=COMPLETE), domain)
    assert responses(dispatcher) == ["utter_complaint_failed"] and events == cleared(domain)


async def test_cancelling_forgets_the_form_or_the_look_up(domain, make_tracker, responses):
    from rasa_sdk.executor import CollectingDispatcher

    complaint, lookup = CollectingDispatcher(), CollectingDispatcher()
    events = await ActionCancelForm().run(
        complaint, make_tracker("算了", "cancel", active_loop="complaint_form"), domain
    )
    assert responses(complaint) == ["utter_complaint_cancelled"] and events == [ActiveLoop(None)] + cleared(domain)
    events = await ActionCancelForm().run(
        lookup, make_tracker("算了", "cancel", active_loop="ticket_lookup_form"), domain
    )
    assert responses(lookup) == ["utter_lookup_cancelled"]
    assert events == [ActiveLoop(None), SlotSet("ticket_number", None), SlotSet("lookup_phone", None)]


# --- issue 14: questions, acknowledgements, digressions and corrections inside the form ---------------------


async def validate(domain, make_tracker, text, intent, slot, entities=None, **slots):
    """Runs the form's validation on `text` said at the question `slot`; (responses, slot changes, events)."""
    from rasa_sdk.executor import CollectingDispatcher

    from tests.actions.conftest import sent

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text,
        intent,
        slots={**slots, "requested_slot": slot, slot: text},
        entities=entities,
        active_loop="complaint_form",
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    changed = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    return sent(dispatcher), changed, events


async def test_a_question_is_answered_never_stored_and_the_question_asked_again(domain, make_tracker):
    said, changed, _ = await validate(domain, make_tracker, "你们几点下班？", "ask_question", "occurred_at")
    assert said[-1] == "utter_form_resume" and len(said) == 2
    assert changed["occurred_at"] is None


async def test_acknowledgements_and_unrelated_sentences_are_not_answers(domain, make_tracker):
    for slot, text in [
        ("occurred_at", "嗯"),
        ("occurred_at", "好的"),
        ("occurred_at", "我很生气"),
        ("address", "好的"),
        ("person_name", "嗯嗯"),
    ]:
        said, changed, _ = await validate(domain, make_tracker, text, "affirm", slot)
        assert said == ["utter_not_an_answer"] and changed[slot] is None, (slot, text)


async def test_real_answers_are_still_stored(domain, make_tracker):
    for slot, text in [
        ("occurred_at", "每天晚上10点以后"),
        ("occurred_at", "上周五"),
        ("occurred_at", "不清楚"),
        ("address", "南开区长江道5号"),
        ("person_name", "王先生"),
        ("phone", "13812345678"),
    ]:
        said, changed, _ = await validate(domain, make_tracker, text, "inform", slot)
        assert said == [] and changed[slot], (slot, text)


async def test_digressions_are_taken_up_then_the_form_resumes(domain, make_tracker):
    for intent, text, reply in [
        ("bot_challenge", "你是机器人吗", "utter_iamabot"),
        ("chitchat", "给我讲个笑话吧", "utter_chitchat"),
        ("check_ticket", "查一下我上次的工单", "utter_form_check_later"),
    ]:
        for slot in ("address", "occurred_at", "person_name", "phone"):
            said, changed, _ = await validate(domain, make_tracker, text, intent, slot)
            assert said == [reply, "utter_form_resume"] and changed[slot] is None, (slot, text)


async def test_a_kb_question_at_the_confirm_step_is_answered_not_a_yes(domain, make_tracker):
    said, changed, _ = await validate(domain, make_tracker, "选择信息保密是什么意思？", "ask_question", "confirmed")
    assert said[-1] == "utter_form_resume" and changed["confirmed"] is None


async def test_a_phone_correction_mid_form_changes_the_phone(domain, make_tracker):
    said, changed, _ = await validate(
        domain,
        make_tracker,
        "电话改成13900001111",
        "inform",
        "occurred_at",
        entities=[{"entity": "phone", "value": "13900001111"}],
        phone="13812345678",
    )
    assert said == ["utter_field_corrected"] and changed["phone"] == "13900001111" and changed["occurred_at"] is None


async def test_an_address_correction_at_the_confirm_step_clears_the_address(domain, make_tracker):
    said, changed, _ = await validate(
        domain, make_tracker, "地址说错了", "inform", "confirmed", address="幸福路8号", district="南开区"
    )
    assert said == ["utter_edit_field"]
    assert changed["address"] is None and changed["district"] is None and changed["confirmed"] is None


async def test_an_address_correction_with_the_new_address(domain, make_tracker):
    said, changed, _ = await validate(
        domain,
        make_tracker,
        "地址写错了，是河西区友谊路20号",
        "inform",
        "confirmed",
        address="幸福路8号",
        district="南开区",
    )
    assert said == ["utter_field_corrected"]
    assert changed["address"] == "河西区友谊路20号" and changed["district"] == "河西区" and changed["confirmed"] is None


async def test_wait_i_want_to_add_is_not_a_yes(domain, make_tracker):
    said, changed, _ = await validate(
        domain, make_tracker, "等一下，我想再补充一点", "affirm", "confirmed", description="楼下饭馆排风机噪音"
    )
    assert said == ["utter_add_detail"] and changed["confirmed"] is None and changed["adding_detail"] is True
    said, changed, _ = await validate(
        domain,
        make_tracker,
        "晚上十一点以后还在响",
        "inform",
        "confirmed",
        description="楼下饭馆排风机噪音",
        adding_detail=True,
    )
    assert changed["description"] == "楼下饭馆排风机噪音；晚上十一点以后还在响" and changed["confirmed"] is None


async def test_only_wanting_to_ask_leaves_the_form(domain, make_tracker):
    said, changed, events = await validate(domain, make_tracker, "我不是要投诉，只是想问问", "ask_question", "address")
    assert said == ["utter_only_asking"] and ActiveLoop(None) in events
    assert all(value is None for value in changed.values())


async def test_nothing_is_submitted_after_leaving_to_ask(domain, dispatcher, make_tracker, tickets, env_settings):
    events = await ActionSubmitComplaint().run(
        dispatcher, make_tracker("我不是要投诉，只是想问问", "ask_question"), domain
    )
    assert events == [] and dispatcher.messages == [] and tickets.created == []


async def test_a_time_in_the_first_message_is_not_asked_again(domain, dispatcher, make_tracker):
    text = "我要投诉楼下饭馆的排风机每天晚上10点以后还在响，吵得睡不着"
    events = await ActionStartComplaint().run(dispatcher, make_tracker(text, "file_complaint"), domain)
    filled = {event["name"]: event["value"] for event in events if event["value"] is not None}
    assert filled["occurred_at"].startswith("每天晚上10点")


async def test_the_summary_names_the_district_once():
    from actions.complaint import full_address

    assert full_address("南开区", "南开区幸福路8号") == "南开区幸福路8号"
    assert full_address("南开区", "幸福路8号") == "南开区 幸福路8号"
    assert full_address("待核实", "幸福路8号") == "幸福路8号"


async def test_a_complaint_worded_as_a_question_is_still_the_description(domain, make_tracker):
    text = "小区门口的路灯坏了一个多月了，为什么一直没有人来修？晚上出门都看不见"
    said, changed, _ = await validate(domain, make_tracker, text, "ask_question", "description")
    assert "utter_form_resume" not in said and changed["description"] == text
    assert changed["occurred_at"] == "一个多月了"


async def test_a_short_question_at_the_description_is_not_the_description(domain, make_tracker):
    said, changed, _ = await validate(domain, make_tracker, "你们电话多少？", "ask_question", "description")
    assert said[-1] == "utter_form_resume" and changed["description"] is None
