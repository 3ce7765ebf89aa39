"""Human handoff: queue the conversation for an agent and pause the bot; greet back and ask for a
rating when the agent hands the conversation back (see console/ for the agents' side)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import button, channel_of, latest_intent
from bot.ticket_contract import RATINGS
from bot.handoff import HandoffStore, StaffedHours, when_back
from bot.settings import load as load_settings

logger = logging.getLogger(__name__)

# Slots that are bookkeeping, not something the citizen told us.
_NOT_COLLECTED = {"requested_slot", "session_started_metadata", "confirmed"}
_NOT_A_TOPIC = {"request_human", "affirm", "deny", "nlu_fallback", None}
UNAVAILABLE = "抱歉，人工客服系统暂时无法接入。您可以先留下诉求，我们会尽快安排专人处理。"
HANDBACK = "人工客服已结束本次服务，接下来由智能客服继续为您服务。还有什么可以帮您？"
RATING_QUESTION = "请您为刚才的人工服务打个分："


def queued_text(ahead: int) -> str:
    """What the citizen reads once queued, with their place in the queue."""
    if ahead <= 0:
        return "已为您转接人工客服，您是下一位，客服马上就来，请稍候。接入后客服会直接在这里回复您。"
    return f"已为您转接人工客服，您前面还有{ahead}位，请稍候。客服接入后会直接在这里回复您。"


def closed_text(hours: StaffedHours, now: dt.datetime) -> str:
    """What the citizen reads outside staffed hours."""
    return (
        f"现在不是人工客服的服务时间（每天{hours.describe()}），人工客服将于{when_back(hours, now)}上线。"
        "您可以先留下诉求，我们会安排专人尽快处理，也可以在服务时间再来转人工。"
    )


def _user_events(tracker: Tracker) -> List[Dict[Text, Any]]:
    return [event for event in tracker.events if event.get("event") == "user"]


def last_citizen_text(tracker: Tracker) -> Optional[str]:
    """The citizen's last typed message (button payloads such as /request_human are skipped)."""
    for event in reversed(_user_events(tracker)):
        text = (event.get("text") or "").strip()
        if text and not text.startswith("/"):
            return text
    return None


def topic_intent(tracker: Tracker) -> Optional[str]:
    """The latest intent that says what the conversation is about (not "转人工", yes or no)."""
    for event in reversed(_user_events(tracker)):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in _NOT_A_TOPIC:
            return intent
    return None


def collected_slots(tracker: Tracker) -> Dict[Text, Any]:
    """Every slot with a value that the citizen gave (or the bot derived) so far."""
    return {
        name: value for name, value in (tracker.slots or {}).items()
        if value not in (None, "", [], {}) and name not in _NOT_COLLECTED
    }


def summary_for_agent(tracker: Tracker, now: Optional[dt.datetime] = None) -> Dict[Text, Any]:
    """The bot's summary shown to the agent: intents, collected slots, channel, last message, time."""
    slots = collected_slots(tracker)
    return {
        "intent": latest_intent(tracker),
        "topic": topic_intent(tracker),
        "category": slots.get("category") or slots.get("predicted_category"),
        "description": slots.get("description"),
        "slots": slots,
        "channel": channel_of(tracker),
        "last_message": last_citizen_text(tracker),
        "time": (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds"),
    }


def rating_buttons() -> List[Dict[Text, str]]:
    """Buttons rating the human service (intent rate_service, entity service_rating)."""
    return [button(rating, "rate_service", service_rating=rating) for rating in RATINGS]


class ActionHandoff(Action):
    """Queues the conversation for a human agent and pauses the bot (inside staffed hours)."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        settings = load_settings()
        now = dt.datetime.now()
        hours = StaffedHours.parse(settings.staffed_hours)
        if not hours.is_open(now):
            dispatcher.utter_message(text=closed_text(hours, now), buttons=[button("留下诉求", "file_complaint")])
            return []
        store = HandoffStore.from_url(settings.redis_url)
        try:
            ahead = await store.enqueue(tracker.sender_id, summary_for_agent(tracker))
        except Exception:  # Redis down: say so honestly instead of leaving the citizen waiting for nobody
            logger.exception("could not queue %s for an agent", tracker.sender_id)
            dispatcher.utter_message(text=UNAVAILABLE, buttons=[button("留下诉求", "file_complaint")])
            return []
        finally:
            await store.close()
        dispatcher.utter_message(text=queued_text(ahead))
        return [ConversationPaused()]


class ActionHandback(Action):
    """The agent handed the conversation back: the bot takes over again and asks for a rating."""

    def name(self) -> Text:
        return "action_handback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(text=HANDBACK)
        dispatcher.utter_message(text=RATING_QUESTION, buttons=rating_buttons())
        return []


class ActionRecordServiceRating(Action):
    """Stores the citizen's rating of the human service against the agent who helped."""

    def name(self) -> Text:
        return "action_record_service_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        rating = next(tracker.get_latest_entity_values("service_rating"), None)
        if rating in RATINGS:
            store = HandoffStore.from_url(load_settings().redis_url)
            try:
                await store.record_rating(tracker.sender_id, rating)
            except Exception:
                logger.exception("could not store the service rating of %s", tracker.sender_id)
            finally:
                await store.close()
        if rating == "不满意":
            dispatcher.utter_message(text="很抱歉这次没能让您满意，我们会认真改进。如果问题还没解决，您可以留下诉求。",
                                     buttons=[button("留下诉求", "file_complaint")])
        else:
            dispatcher.utter_message(text="感谢您的评价！还有什么可以帮您，随时告诉我。")
        return []
