"""The answer to an action call that failed (bot/nlu/action_recovery.py gives it inside Rasa).

Rasa 3.6 logs "Encountered an exception while running action ..." when the action server does not
answer, drops the action's events and says nothing to the citizen. Instead: once per citizen message, a
short notice; and for a form's validation action, the slots the citizen's message filled are undone, so
that the form asks the same question again instead of accepting an answer nobody checked.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

NOTICE = (
    "抱歉，系统正在恢复中，刚才的消息没能处理。请您稍等一两分钟再发一次；如遇紧急情况，请直接拨打 110 / 119 / 120。"
)
REQUESTED_SLOT = "requested_slot"
REMEMBERED = 2000  # citizen messages whose notice was sent, kept to send it once


class RecoveryAnswers:
    """Builds the action server's answer for a call it could not take."""

    def __init__(self) -> None:
        self._noticed: "OrderedDict[Tuple[str, str], None]" = OrderedDict()

    def answer(self, call: Dict[str, Any]) -> Dict[str, Any]:
        """The answer to Rasa's action call `call` (its JSON body) while the action server is away."""
        tracker = call.get("tracker") or {}
        responses: List[dict] = [{"text": NOTICE}] if self._first_for(tracker) else []
        events: List[dict] = []
        if str(call.get("next_action", "")).startswith("validate_"):
            events = undo_latest_slots(tracker.get("events") or [], call.get("domain") or {})
        return {"events": events, "responses": responses}

    def _first_for(self, tracker: Dict[str, Any]) -> bool:
        message = (tracker.get("latest_message") or {}).get("message_id") or ""
        key = (str(tracker.get("sender_id", "")), str(message))
        if key in self._noticed:
            return False
        self._noticed[key] = None
        if len(self._noticed) > REMEMBERED:
            self._noticed.popitem(last=False)
        return True


def undo_latest_slots(events: List[dict], domain: Dict[str, Any]) -> List[dict]:
    """Slot events that give every slot filled since the latest user message its earlier value back."""
    last_user = max((i for i, event in enumerate(events) if event.get("event") == "user"), default=None)
    if last_user is None:
        return []
    before, after = events[:last_user], events[last_user + 1 :]
    filled = {e["name"] for e in after if e.get("event") == "slot" and e.get("name") != REQUESTED_SLOT}
    return [{"event": "slot", "name": name, "value": _value_before(name, before, domain)} for name in sorted(filled)]


def _value_before(name: str, events: List[dict], domain: Dict[str, Any]) -> Optional[Any]:
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
        if event.get("event") in ("restart", "session_started"):  # slots were reset there
            break
    return ((domain.get("slots") or {}).get(name) or {}).get("initial_value")
