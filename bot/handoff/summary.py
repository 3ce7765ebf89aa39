"""What the agent reads about a conversation handed to humans: built once, from Rasa's tracker state.

The action server has a rasa-sdk `Tracker` (pass `tracker.current_state()`), the console the JSON of
Rasa's `GET /conversations/{id}/tracker`; both are the same dict (`events`, `slots`, `latest_message`,
`latest_input_channel`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional

# Slots that are bookkeeping, not something the citizen told us.
NOT_COLLECTED = frozenset({"requested_slot", "session_started_metadata", "confirmed"})
# Intents that say nothing about what the conversation is about ("转人工", yes or no).
NOT_A_TOPIC = frozenset({"request_human", "affirm", "deny", "nlu_fallback"})


def _user_events(events: Iterable[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    return [event for event in events if event.get("event") == "user"]


def _intent(parse_data: Optional[Mapping[str, Any]]) -> Optional[str]:
    return ((parse_data or {}).get("intent") or {}).get("name")


def last_citizen_text(events: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """The citizen's last typed message (button payloads such as /request_human are skipped)."""
    for event in reversed(_user_events(events)):
        text = (event.get("text") or "").strip()
        if text and not text.startswith("/"):
            return text
    return None


def topic_intent(events: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """The latest intent that says what the conversation is about."""
    for event in reversed(_user_events(events)):
        intent = _intent(event.get("parse_data"))
        if intent and intent not in NOT_A_TOPIC:
            return intent
    return None


def collected_slots(slots: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Every slot with a value that the citizen gave (or the bot derived) so far."""
    return {
        name: value
        for name, value in (slots or {}).items()
        if value not in (None, "", [], {}) and name not in NOT_COLLECTED
    }


# Intents and texts (typed by the citizen) that say nothing about what the citizen wants.
NOT_A_QUESTION = frozenset(
    {"request_human", "affirm", "deny", "greet", "goodbye", "thank", "cancel", "rate_service", "inform"}
)
HUMAN_WORDS = re.compile(r"^(转|找|要|接)?(人工|真人|客服|人工客服|接线员)+(服务|客服)?[!！。.？?]*$")


def citizen_texts(events: Iterable[Mapping[str, Any]]) -> List[str]:
    """What the citizen typed (not button payloads, not bare requests for a human), in order."""
    texts = []
    for event in events:
        if event.get("event") != "user":
            continue
        text = str(event.get("text") or "").strip()
        intent = _intent(event.get("parse_data")) or ""
        if not text or text.startswith("/") or intent.startswith("EXTERNAL_"):
            continue
        if intent in NOT_A_QUESTION and (len(text) <= 8 or HUMAN_WORDS.match(text)):
            continue
        if HUMAN_WORDS.match(text):
            continue
        texts.append(text)
    return texts


def citizen_question(events: Iterable[Mapping[str, Any]], slots: Optional[Mapping[str, Any]] = None) -> str:
    """What the citizen asked: the complaint's description if the bot collected one, else the last
    thing they typed that is more than "转人工" or "好的"."""
    description = (slots or {}).get("description")
    if description:
        return str(description)
    texts = citizen_texts(events)
    return texts[-1] if texts else ""


def handoff_summary(state: Mapping[str, Any], now: Optional[dt.datetime] = None, **extra: Any) -> Dict[str, Any]:
    """The summary shown to the agent: intents, collected slots, channel, last message, time (+ `extra`)."""
    events = state.get("events") or []
    slots = collected_slots(state.get("slots"))
    return {
        "intent": _intent(state.get("latest_message")),
        "topic": topic_intent(events),
        "category": slots.get("category") or slots.get("predicted_category"),
        "description": slots.get("description"),
        "slots": slots,
        "channel": state.get("latest_input_channel"),
        "last_message": last_citizen_text(events),
        "question": citizen_question(events, slots),
        "time": (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds"),
        **extra,
    }
