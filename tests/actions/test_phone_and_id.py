"""Issue 15: "我的电话是13700001111，身份证号110105199001011234" gives the phone, never a piece of the ID
number, even when the entity extractor cut one out of it."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.complaint import ValidateComplaintForm

TEXT = "我的电话是13700001111，身份证号110105199001011234"


async def test_the_phone_beside_an_id_number_is_the_phone(domain, dispatcher, make_tracker):
    tracker = make_tracker(
        TEXT,
        slots={"requested_slot": "phone", "phone": "010519900101"},
        entities=[{"entity": "phone", "value": "010519900101"}],
        active_loop="complaint_form",
    )
    events = await ValidateComplaintForm().run(dispatcher, tracker, domain)
    assert SlotSet("phone", "13700001111") in events
    assert SlotSet("phone", "010519900101") not in events
