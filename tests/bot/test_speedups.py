"""bot/nlu/speedups.py: Rasa's checks and look-ups, faster, with the same results."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from bot.nlu import speedups

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"response": "utter_greet"}]}
BAD = {"events": [{"event": "slot"}], "responses": []}


def test_an_answer_is_validated_as_rasa_validates_it():
    schema = RemoteAction.action_response_format_spec()
    action = RemoteAction("action_x", None)
    jsonschema.validate(GOOD, schema)
    assert speedups.validate_action_result(action, GOOD)
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        jsonschema.validate(BAD, schema)
    with pytest.raises(jsonschema.ValidationError) as ours:
        speedups.validate_action_result(action, BAD)
    assert ours.value.message.startswith(rasa_error.value.message + ". Failed to validate Action server response")


def test_event_classes_are_found_as_rasa_finds_them():
    for cls in all_subclasses(Event):
        assert speedups.resolve_by_type(cls.type_name) is speedups._resolve_by_type(cls.type_name)
    assert speedups.resolve_by_type("topic") is None
    assert speedups.resolve_by_type("unknown", default=Event) is Event
    with pytest.raises(ValueError):
        speedups.resolve_by_type("unknown")
