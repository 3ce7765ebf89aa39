"""好差评: the citizen's rating of a finished ticket (sent to the ticket backend) and of the human service
after a handoff (stored against the agent who helped)."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import button, latest_entity
from bot.handoff import HandoffStore
from bot.settings import load as load_settings
from bot.ticket_client import TicketBackendUnavailable, TicketClient, TicketRejected
from bot.ticket_contract import DISSATISFIED, RATINGS

logger = logging.getLogger(__name__)


def rating_buttons(intent: str, entity: str) -> List[Dict[str, str]]:
    """One button per 好差评 rating: /rate{"ticket_rating": ...} for a ticket,
    /rate_service{"service_rating": ...} for the human service."""
    return [button(rating, intent, **{entity: rating}) for rating in RATINGS]


def ask_ticket_rating(dispatcher: CollectingDispatcher, number: str) -> List[EventType]:
    """Asks for a 好差评 rating of a finished ticket and remembers which ticket it is for."""
    dispatcher.utter_message(
        response="utter_ask_ticket_rating", ticket_number=number, buttons=rating_buttons("rate", "ticket_rating")
    )
    return [SlotSet("rating_ticket_number", number)]


def ask_service_rating(dispatcher: CollectingDispatcher) -> None:
    """Asks for a rating of the human service the citizen just had."""
    dispatcher.utter_message(
        response="utter_ask_service_rating", buttons=rating_buttons("rate_service", "service_rating")
    )


class ActionRecordRating(Action):
    """Records a 好差评 rating for the ticket it was asked for."""

    def name(self) -> Text:
        return "action_record_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        rating = latest_entity(tracker, "ticket_rating")
        number = tracker.get_slot("rating_ticket_number")
        if not (rating and number):
            dispatcher.utter_message(response="utter_thanks_for_rating")
            return []
        try:
            await TicketClient.from_settings().rate(number, rating)
        except TicketBackendUnavailable:
            dispatcher.utter_message(response="utter_ticket_rating_unavailable")
            return []
        except TicketRejected:
            dispatcher.utter_message(response="utter_ticket_rating_not_yet")
            return [SlotSet("rating_ticket_number", None)]
        if rating == DISSATISFIED:
            dispatcher.utter_message(response="utter_ticket_rating_unsatisfied")
        else:
            dispatcher.utter_message(response="utter_thanks_for_rating")
        return [SlotSet("rating_ticket_number", None)]


class ActionRecordServiceRating(Action):
    """Stores the citizen's rating of the human service against the agent who helped."""

    def name(self) -> Text:
        return "action_record_service_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        rating = latest_entity(tracker, "service_rating")
        if rating in RATINGS:
            store = HandoffStore.from_url(load_settings().redis_url)
            try:
                await store.record_rating(tracker.sender_id, rating)
            except Exception:
                logger.exception("could not store the service rating of %s", tracker.sender_id)
            finally:
                await store.close()
        if rating == DISSATISFIED:
            dispatcher.utter_message(response="utter_service_rating_unsatisfied")
        else:
            dispatcher.utter_message(response="utter_thanks_for_service_rating")
        return []
