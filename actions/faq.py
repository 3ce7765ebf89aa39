"""Answers from the knowledge base in faq/ (retrieved at run time, never trained into the model)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import button, channel_of, latest_entity, latest_text, previous_bot_response
from bot.kb import Entry
from bot.kb import shared as knowledge_base

NONE_OF_THESE = "都不是"  # the last button under the suggested questions


def answer(dispatcher: CollectingDispatcher, entry: Entry) -> None:
    """Sends an entry's answer (the knowledge base's own text) and asks whether it solved the problem."""
    dispatcher.utter_message(text=entry.answer.strip())
    dispatcher.utter_message(response="utter_faq_feedback")


def not_understood(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """First miss: ask to rephrase. Second miss in a row: offer a human or a request."""
    if previous_bot_response(tracker) == "utter_ask_rephrase":
        dispatcher.utter_message(response="utter_offer_human")
    else:
        dispatcher.utter_message(response="utter_ask_rephrase")


class ActionAnswerFaq(Action):
    """Answer, suggest up to three questions, or admit not knowing."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kb = knowledge_base()
        chosen = kb.get(latest_entity(tracker, "faq_id") or "")
        if chosen:
            answer(dispatcher, chosen)
            return []
        text = latest_text(tracker)
        if not text:
            dispatcher.utter_message(response="utter_what_question")
            return []
        hits = kb.search(text, k=3, channel=channel_of(tracker))
        decision = kb.decide(hits)
        if decision == "answer":
            answer(dispatcher, hits[0].entry)
        elif decision == "suggest":
            buttons = [button(hit.entry.questions[0], "ask_question", faq_id=hit.entry.id) for hit in hits]
            dispatcher.utter_message(
                response="utter_faq_suggestions", buttons=buttons + [button(NONE_OF_THESE, "deny")]
            )
        else:
            not_understood(dispatcher, tracker)
        return []


class ActionFallback(ActionAnswerFaq):
    """Fallback for low NLU or dialogue confidence: the knowledge base gets a chance first."""

    def name(self) -> Text:
        return "action_fallback"
