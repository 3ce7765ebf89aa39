"""Emergencies first, and matters the hotline does not handle, explained with their legal channel."""

from __future__ import annotations

import pytest

from actions.core import ActionEmergency, ActionOutOfScope


@pytest.mark.parametrize(
    "text, entities, response",
    [
        ("楼下着火了", [{"entity": "emergency_type", "value": "fire"}], "utter_emergency_fire"),
        ("家里闻到很大的煤气味", [], "utter_emergency_gas"),
        ("有人拿刀", [{"entity": "emergency_type", "value": "crime"}], "utter_emergency_crime"),
    ],
)
async def test_an_emergency_gets_its_number_at_once(
    domain, dispatcher, make_tracker, responses, text, entities, response
):
    events = await ActionEmergency().run(dispatcher, make_tracker(text, "report_emergency", entities=entities), domain)
    assert events == [] and responses(dispatcher) == [response]


async def test_an_emergency_during_a_form_offers_to_go_on(domain, dispatcher, make_tracker, responses):
    tracker = make_tracker(
        "着火了",
        "report_emergency",
        entities=[{"entity": "emergency_type", "value": "fire"}],
        active_loop="complaint_form",
    )
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_emergency_fire", "utter_emergency_resume"]
    resume = domain["responses"]["utter_emergency_resume"][0]["text"]
    assert resume.endswith(domain["responses"]["utter_form_resume"][0]["text"])  # "…我们继续：", then the question


async def test_out_of_scope_names_the_legal_channels_that_match(domain, dispatcher, make_tracker, responses):
    events = await ActionOutOfScope().run(
        dispatcher, make_tracker("我要起诉开发商，之前仲裁过", "out_of_scope"), domain
    )
    assert events == [] and responses(dispatcher) == ["utter_out_of_scope", "utter_anything_else"]
    texts = {
        name: domain["responses"][name][0]["text"]
        for name in ("utter_out_of_scope_lawsuit", "utter_out_of_scope_arbitration")
    }
    assert (
        dispatcher.messages[0]["legal_channels"]
        == "\n" + texts["utter_out_of_scope_lawsuit"] + "\n" + texts["utter_out_of_scope_arbitration"]
    )


async def test_out_of_scope_without_a_known_matter_gives_the_general_answer(
    domain, dispatcher, make_tracker, responses
):
    await ActionOutOfScope().run(dispatcher, make_tracker("帮我查一下彩票号码", "out_of_scope"), domain)
    assert responses(dispatcher) == ["utter_out_of_scope", "utter_anything_else"]
    assert dispatcher.messages[0]["legal_channels"] == ""
