"""Small helpers shared by the actions: latest text, channel name, button builders, the phone answer."""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Any, Dict, List, Optional

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.personal_data import phone_from
from bot.ticket_contract import parse_ticket_number


def latest_text(tracker: Tracker) -> str:
    """The citizen's latest message, or '' for button payloads such as '/affirm'."""
    text = (tracker.latest_message.get("text") or "").strip()
    return "" if text.startswith("/") else text


def latest_intent(tracker: Tracker) -> Optional[str]:
    """Name of the latest user intent."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_entity(tracker: Tracker, entity: str) -> Optional[str]:
    """First value of `entity` in the latest message."""
    return next(tracker.get_latest_entity_values(entity), None)


def phone_given(tracker: Tracker, value: Optional[str] = None) -> Optional[str]:
    """The valid phone number the citizen just gave: in the slot value, an extracted entity, or the
    whole message (the statistical extractor sometimes cuts "138 1234 5678" into pieces)."""
    # the whole message first: an entity can be a piece of an ID-card number typed beside the phone
    return phone_from(latest_text(tracker), value, *tracker.get_latest_entity_values("phone"))


def validated_phone(
    slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> Dict[str, Optional[str]]:
    """A form's phone slot (the complaint's `phone`, the look-up's `lookup_phone`): the number the citizen
    just gave, or None with an explanation, so the form asks again."""
    phone = phone_given(tracker, value)
    if phone is None:
        dispatcher.utter_message(response="utter_phone_invalid")
    return {slot: phone}


def ticket_number_given(tracker: Tracker, value: Optional[str] = None) -> Optional[str]:
    """The ticket number the citizen just gave, in the slot value or anywhere in the message."""
    return parse_ticket_number(value) or parse_ticket_number(latest_text(tracker))


def channel_of(tracker: Tracker) -> Optional[str]:
    """Name of the channel the citizen writes from (rest, socketio, wechat, telegram, ...)."""
    return tracker.get_latest_input_channel()


def payload(intent: str, **entities: Any) -> str:
    """A button payload that triggers `intent` with entities, e.g. /rate{"ticket_rating":"满意"}."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def button(title: str, intent: str, **entities: Any) -> Dict[str, str]:
    """One button dict as Rasa channels expect it."""
    return {"title": title, "payload": payload(intent, **entities)}


def previous_bot_response(tracker: Tracker) -> Optional[str]:
    """The response name (utter_*) of the last bot message before the latest user message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            return (event.get("metadata") or {}).get("utter_action")
    return None


class AnswerValidationAction(FormValidationAction):
    """A form validation that checks only what the citizen answered.

    Slots cleared with SlotSet(None) (when a form starts afresh or a field is corrected) are left alone;
    rasa-sdk would otherwise run their validate_<slot> methods with None and ask about every one of them.
    """

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        answered = {name: value for name, value in tracker.slots_to_validate().items() if value is not None}
        only_answers = tracker.copy()
        only_answers.slots_to_validate = lambda: dict(answered)  # type: ignore[method-assign]
        return await super().get_validation_events(dispatcher, only_answers, domain)

    @abstractmethod
    def name(self) -> str:
        """The form's validation action name (abstract, so rasa-sdk does not register this base class)."""
