"""The ticket look-up (checked against the phone number) and the notices from the ticket backend."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.ticket_status import ActionTicketNotification, ActionTicketStatus, ValidateTicketLookupForm

NUMBER = "BM261122K7M4Q9XZ"
CLEARED = [SlotSet("ticket_number", None), SlotSet("lookup_phone", None)]
RATE_BUTTONS = [
    '/rate{"ticket_rating": "满意"}',
    '/rate{"ticket_rating": "基本满意"}',
    '/rate{"ticket_rating": "不满意"}',
]


def ticket(**fields):
    return {
        "number": NUMBER,
        "phone": "13812345678",
        "status": "办理中",
        "department": "市城市管理委员会",
        "history": [
            {"at": "2026-11-22T09:30:00+08:00", "status": "已受理"},
            {"at": "2026-11-22T10:00:00+08:00", "status": "办理中", "note": "已派单"},
        ],
        **fields,
    }


def looked_up(make_tracker, phone="138 1234 5678"):
    return make_tracker("138 1234 5678", slots={"ticket_number": NUMBER, "lookup_phone": phone})


async def test_a_malformed_ticket_number_is_explained(domain, dispatcher, make_tracker, responses):
    tracker = make_tracker(
        "BM123", slots={"requested_slot": "ticket_number", "ticket_number": "BM123"}, active_loop="ticket_lookup_form"
    )
    events = await ValidateTicketLookupForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ticket_number_invalid"] and SlotSet("ticket_number", None) in events


async def test_the_look_up_phone_is_read_like_the_complaint_phone(domain, make_tracker, responses):
    from rasa_sdk.executor import CollectingDispatcher

    bad, good = CollectingDispatcher(), CollectingDispatcher()
    tracker = make_tracker(
        "12345", slots={"requested_slot": "lookup_phone", "lookup_phone": "12345"}, active_loop="ticket_lookup_form"
    )
    events = await ValidateTicketLookupForm().run(bad, tracker, domain)
    assert responses(bad) == ["utter_phone_invalid"] and SlotSet("lookup_phone", None) in events
    tracker = make_tracker(
        "138-1234-5678",
        slots={"requested_slot": "lookup_phone", "lookup_phone": "138-1234-5678"},
        active_loop="ticket_lookup_form",
    )
    events = await ValidateTicketLookupForm().run(good, tracker, domain)
    assert good.messages == [] and SlotSet("lookup_phone", "13812345678") in events


async def test_progress_with_department_and_history(domain, dispatcher, make_tracker, responses, tickets):
    tickets.tickets[NUMBER] = ticket()
    events = await ActionTicketStatus().run(dispatcher, looked_up(make_tracker), domain)
    assert events == CLEARED and responses(dispatcher) == ["utter_ticket_progress"]
    message = dispatcher.messages[0]
    assert (message["ticket_number"], message["ticket_status"], message["department"]) == (
        NUMBER,
        "办理中",
        "市城市管理委员会",
    )
    assert message["history"] == "\n· 2026-11-22 09:30 已受理\n· 2026-11-22 10:00 办理中 — 已派单"


async def test_progress_without_department(domain, dispatcher, make_tracker, responses, tickets):
    tickets.tickets[NUMBER] = ticket(department=None, history=[])
    await ActionTicketStatus().run(dispatcher, looked_up(make_tracker), domain)
    assert responses(dispatcher) == ["utter_ticket_progress_no_department"] and dispatcher.messages[0]["history"] == ""


async def test_a_finished_ticket_asks_for_a_rating(domain, dispatcher, make_tracker, responses, tickets):
    tickets.tickets[NUMBER] = ticket(status="已办结")
    events = await ActionTicketStatus().run(dispatcher, looked_up(make_tracker), domain)
    assert responses(dispatcher) == ["utter_ticket_progress", "utter_ask_ticket_rating"]
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == RATE_BUTTONS
    assert events == CLEARED + [SlotSet("rating_ticket_number", NUMBER)]


async def test_another_phone_finds_nothing(domain, dispatcher, make_tracker, responses, tickets):
    tickets.tickets[NUMBER] = ticket()
    events = await ActionTicketStatus().run(dispatcher, looked_up(make_tracker, "13912345678"), domain)
    assert events == CLEARED and responses(dispatcher) == ["utter_ticket_not_found"]


async def test_an_unknown_number_finds_nothing(domain, dispatcher, make_tracker, responses, tickets):
    events = await ActionTicketStatus().run(dispatcher, looked_up(make_tracker), domain)
    assert events == CLEARED and responses(dispatcher) == ["utter_ticket_not_found"]


async def test_the_backend_down_is_said(domain, dispatcher, make_tracker, responses, tickets):
    tickets.down = True
    events = await ActionTicketStatus().run(dispatcher, looked_up(make_tracker), domain)
    assert events == CLEARED and responses(dispatcher) == ["utter_ticket_lookup_unavailable"]


async def test_a_delivered_complaint_is_announced(domain, dispatcher, make_tracker, responses):
    tracker = make_tracker("", "EXTERNAL_ticket_delivered", entities=[{"entity": "ticket_number", "value": NUMBER}])
    events = await ActionTicketNotification().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ticket_delivered"] and dispatcher.messages[0]["ticket_number"] == NUMBER
    assert events == [SlotSet("last_ticket_number", NUMBER)]


async def test_a_new_status_is_announced_and_a_finished_ticket_rated(domain, make_tracker, responses):
    from rasa_sdk.executor import CollectingDispatcher

    for status, expected, events_after in [
        ("办理中", ["utter_ticket_updated"], []),
        ("已办结", ["utter_ticket_updated", "utter_ask_ticket_rating"], [SlotSet("rating_ticket_number", NUMBER)]),
    ]:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            "",
            "EXTERNAL_ticket_update",
            entities=[{"entity": "ticket_number", "value": NUMBER}, {"entity": "ticket_status", "value": status}],
        )
        events = await ActionTicketNotification().run(dispatcher, tracker, domain)
        assert responses(dispatcher) == expected and events == events_after
        assert dispatcher.messages[0]["ticket_status"] == status


# --- issue 14: look-up without the number, the ticket just filed, questions inside the look-up ---------------


async def lookup_validation(
    domain, make_tracker, text, intent="inform", requested="ticket_number", entities=None, **slots
):
    from rasa_sdk.executor import CollectingDispatcher

    from tests.actions.conftest import sent

    dispatcher = CollectingDispatcher()
    slots = {"requested_slot": requested, "ticket_number": text, **slots}
    tracker = make_tracker(text, intent, slots=slots, entities=entities, active_loop="ticket_lookup_form")
    events = await ValidateTicketLookupForm().run(dispatcher, tracker, domain)
    return sent(dispatcher), {event["name"]: event["value"] for event in events if event["event"] == "slot"}


async def test_forgot_the_number_looks_up_by_phone(domain, make_tracker):
    from actions.ticket_status import BY_PHONE

    said, changed = await lookup_validation(domain, make_tracker, "我忘了工单号")
    assert said == ["utter_lookup_by_phone"] and changed["ticket_number"] == BY_PHONE


async def test_a_phone_where_the_number_is_asked_looks_up_by_phone(domain, make_tracker):
    from actions.ticket_status import BY_PHONE

    said, changed = await lookup_validation(domain, make_tracker, "13812345678")
    assert said == [] and changed["ticket_number"] == BY_PHONE and changed["lookup_phone"] == "13812345678"


async def test_the_ticket_just_filed_is_looked_up_without_asking(domain, make_tracker):
    said, changed = await lookup_validation(
        domain,
        make_tracker,
        "查一下进度",
        "check_ticket",
        requested=None,
        last_ticket_number=NUMBER,
        last_ticket_phone="13812345678",
    )
    assert said == [] and changed["ticket_number"] == NUMBER and changed["lookup_phone"] == "13812345678"


async def test_a_number_from_the_list_by_phone_is_looked_up_without_asking_the_phone_again(domain, make_tracker):
    listed = {"listed_tickets": {"phone": "13812345678", "numbers": [NUMBER]}}
    entities = [{"entity": "ticket_number", "value": NUMBER}]
    said, changed = await lookup_validation(
        domain, make_tracker, NUMBER, "check_ticket", requested=None, entities=entities, **listed
    )
    assert said == [] and changed["ticket_number"] == NUMBER and changed["lookup_phone"] == "13812345678"
    other = "BM261122AAAA0000"  # not in the list: its phone is asked as usual
    said, changed = await lookup_validation(
        domain,
        make_tracker,
        other,
        "check_ticket",
        requested=None,
        entities=[{**entities[0], "value": other}],
        **listed,
    )
    assert said == [] and changed == {"ticket_number": other}


async def test_a_question_inside_the_look_up_is_answered_and_the_number_asked_again(domain, make_tracker):
    said, changed = await lookup_validation(domain, make_tracker, "我反映的问题处理完会有人回访吗", "ask_question")
    assert said[-1] == "utter_form_resume" and said[0] != "utter_ticket_number_invalid"
    assert changed["ticket_number"] is None


def listing(tickets, seen):
    async def list_tickets(**filters):
        seen.append(filters)
        return {
            "tickets": [t for t in tickets if t["phone"] == filters["phone"] and t["sender_id"] == filters["sender_id"]]
        }

    return list_tickets


async def test_by_phone_lists_only_this_sender_s_tickets_masked(domain, dispatcher, make_tracker, tickets, responses):
    from actions.ticket_status import BY_PHONE

    seen = []
    tickets.list_tickets = listing(
        [
            ticket(
                sender_id="citizen",
                address="幸福路18号3单元502室",
                created_at="2026-11-22T09:30:00",
                category="城乡建设",
            ),
            ticket(number="BM261122AAAA0000", sender_id="someone-else", address="长江道5号"),
        ],
        seen,
    )
    tracker = make_tracker("13812345678", slots={"ticket_number": BY_PHONE, "lookup_phone": "13812345678"})
    events = await ActionTicketStatus().run(dispatcher, tracker, domain)
    listed = SlotSet("listed_tickets", {"phone": "13812345678", "numbers": [NUMBER]})
    assert events == [*CLEARED, listed] and responses(dispatcher) == ["utter_tickets_by_phone"]
    assert seen == [{"phone": "13812345678", "sender_id": "citizen", "limit": 5}]
    message = dispatcher.messages[0]
    assert message["count"] == 1 and NUMBER in message["tickets"] and "502" not in message["tickets"]
    assert "BM261122AAAA0000" not in message["tickets"]


async def test_by_phone_with_nothing_found_says_what_to_do(domain, dispatcher, make_tracker, tickets, responses):
    from actions.ticket_status import BY_PHONE

    tickets.list_tickets = listing([], [])
    tracker = make_tracker("13812345678", slots={"ticket_number": BY_PHONE, "lookup_phone": "13812345678"})
    assert await ActionTicketStatus().run(dispatcher, tracker, domain) == CLEARED
    assert responses(dispatcher) == ["utter_no_tickets_by_phone"]


async def test_a_notice_inside_a_form_is_told_and_the_question_asked_again(domain, dispatcher, make_tracker, responses):
    from actions.complaint import ValidateComplaintForm

    tracker = make_tracker(
        "/EXTERNAL_ticket_update",
        "EXTERNAL_ticket_update",
        entities=[{"entity": "ticket_number", "value": NUMBER}, {"entity": "ticket_status", "value": "办理中"}],
        slots={"requested_slot": "occurred_at", "occurred_at": "/EXTERNAL_ticket_update"},
        active_loop="complaint_form",
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ticket_updated", "utter_form_resume"]
    assert events == [SlotSet("occurred_at", None)]


async def test_a_human_from_the_look_up_ends_the_look_up(domain, dispatcher, make_tracker, responses, env_settings):
    from rasa_sdk.events import ActiveLoop, ConversationPaused

    from actions.handoff import ActionHandoff

    tracker = make_tracker("转人工", "request_human", active_loop="ticket_lookup_form", sender="lookup-human")
    events = await ActionHandoff().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_handoff_next"]
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None), ConversationPaused()]
