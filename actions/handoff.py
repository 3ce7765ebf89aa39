"""Human handoff: queue the conversation for an agent and pause the bot; greet back and ask for a
rating when the agent hands the conversation back (see console/ for the agents' side; the rating itself is
recorded in actions/rating.py)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.rating import ask_service_rating
from bot.handoff import HandoffStore, StaffedHours, handoff_summary, when_back
from bot.handoff.hours import local_now
from bot.settings import load as load_settings

logger = logging.getLogger(__name__)


def tell_queued(dispatcher: CollectingDispatcher, ahead: int) -> None:
    """What the citizen reads once queued, with their place in the queue."""
    if ahead <= 0:
        dispatcher.utter_message(response="utter_handoff_next")
    else:
        dispatcher.utter_message(response="utter_handoff_queued", ahead=ahead)


def summary_for_agent(tracker: Tracker, now: Optional[dt.datetime] = None) -> Dict[Text, Any]:
    """The bot's summary shown to the agent (built in bot/handoff/summary.py, shared with the console)."""
    return handoff_summary(tracker.current_state(), now)


class ActionHandoff(Action):
    """Queues the conversation for a human agent and pauses the bot (inside staffed hours)."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        settings = load_settings()
        now = local_now(settings.timezone)
        hours = StaffedHours.parse(settings.staffed_hours)
        if not hours.is_open(now):
            dispatcher.utter_message(
                response="utter_handoff_closed", staffed_hours=hours.describe(), back_at=when_back(hours, now)
            )
            return []
        store = HandoffStore.from_url(settings.redis_url)
        try:
            ahead = await store.enqueue(tracker.sender_id, summary_for_agent(tracker, now))
        except Exception:  # Redis down: say so honestly instead of leaving the citizen waiting for nobody
            logger.exception("could not queue %s for an agent", tracker.sender_id)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        finally:
            await store.close()
        tell_queued(dispatcher, ahead)
        if tracker.active_loop.get("name"):  # e.g. a ticket look-up: after the hand-back its question is stale
            return [ActiveLoop(None), SlotSet("requested_slot", None), ConversationPaused()]
        return [ConversationPaused()]


class ActionHandback(Action):
    """The agent handed the conversation back: the bot takes over again and asks for a rating."""

    def name(self) -> Text:
        return "action_handback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_handback")
        ask_service_rating(dispatcher)
        return []
