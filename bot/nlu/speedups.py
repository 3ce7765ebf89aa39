"""Rasa 3.6's per-turn costs removed, behaviour unchanged (installed when the model loads).

Both ran synchronously on the Rasa server's one event loop, so every other conversation waited for them;
figures in bench/dialogue/LOAD.md.

- **The action server's answers**: Rasa checks each answer against its JSON schema with
  `jsonschema.validate`, which first checks the schema itself against the JSON Schema metaschema and builds
  a new validator: the largest single cost of a turn under load (about 55 ms a call on the loaded machine,
  3.5 ms with the validator built once). The schema never changes, so it is checked once and its validator
  kept; answers are validated as before: same errors, same message.
- **Event types**: Rasa finds an event's class by its name by walking every subclass of `Event`, again
  for each event it reads (each tracker loaded from Redis, twice a turn, and each action's events). The
  class found for a name is kept.
- **Action calls** go over a kept-alive connection instead of a new one each (bot/nlu/endpoint_session.py).
- **Saving a tracker** does not read it back from Redis when nothing wrote it since it was read
  (bot/nlu/tracker_save.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Optional, Text, Type

from jsonschema import Draft202012Validator, exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event

from bot.nlu import endpoint_session, tracker_save

_resolve_by_type = Event.resolve_by_type
_event_classes: Dict[Text, Type[Event]] = {}


@lru_cache(maxsize=1)
def response_validator() -> Draft202012Validator:
    """The validator of Rasa's action-response schema, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """Rasa's `RemoteAction._validate_action_result`, with the validator built once."""
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Rasa's `Event.resolve_by_type`, remembering the class found for each name."""
    found = _event_classes.get(type_name)
    if found is None:
        found = _resolve_by_type(type_name, default)
        if found is not None and found is not default:
            _event_classes[type_name] = found
    return found


def install() -> None:
    """Patches RemoteAction, Event, EndpointConfig and RedisTrackerStore (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    endpoint_session.install()
    tracker_save.install()
