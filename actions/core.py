"""Core skills: emergencies (redirected at once) and matters the hotline does not handle (explained politely)."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_entity, latest_text
from bot.emergency import detect

# Matters with their own legal channel: (pattern, the response naming where to go).
_OUT_OF_SCOPE = (
    (r"起诉|诉讼|打官司|上诉|法院|判决", "utter_out_of_scope_lawsuit"),
    (r"仲裁", "utter_out_of_scope_arbitration"),
    (r"信访|复查|复核", "utter_out_of_scope_petition"),
    (r"行政复议|复议", "utter_out_of_scope_administrative_review"),
    (r"军|部队|兵役|涉密", "utter_out_of_scope_military"),
)


def response_text(domain: Dict[Text, Any], name: Text) -> Text:
    """The text of a domain response's first variation (for a response embedded in another one)."""
    return domain["responses"][name][0]["text"]


class ActionEmergency(Action):
    """Gives the emergency number and safety advice before anything else."""

    def name(self) -> Text:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kind = latest_entity(tracker, "emergency_type") or detect(latest_text(tracker)) or "crime"
        dispatcher.utter_message(response=f"utter_emergency_{kind}")
        if tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_emergency_resume")
        return []


class ActionOutOfScope(Action):
    """Explains what the hotline does not handle and names the right channel."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = latest_text(tracker)
        specific = [response for pattern, response in _OUT_OF_SCOPE if re.search(pattern, text)]
        legal_channels = "".join("\n" + response_text(domain, response) for response in specific[:2])
        dispatcher.utter_message(response="utter_out_of_scope", legal_channels=legal_channels)
        dispatcher.utter_message(response="utter_anything_else")
        return []
