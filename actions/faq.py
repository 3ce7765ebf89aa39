"""Answers from the knowledge base in faq/ (retrieved at run time, never trained into the model)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import button, channel_of, latest_entity, latest_text, previous_bot_response
from bot.kb import Entry, shared as knowledge_base

FEEDBACK_QUESTION = "这个回答解决您的问题了吗？"


def answer(dispatcher: CollectingDispatcher, entry: Entry) -> None:
    """Sends an entry's answer and asks whether it solved the problem."""
    dispatcher.utter_message(text=entry.answer.strip())
    dispatcher.utter_message(
        text=FEEDBACK_QUESTION, buttons=[button("解决了", "affirm"), button("没解决", "deny")]
    )


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
        chosen = latest_entity(tracker, "faq_id")
        if chosen and kb.get(chosen):
            answer(dispatcher, kb.get(chosen))
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
                text="您是想问下面哪个问题吗？", buttons=buttons + [button("都不是", "deny")]
            )
        else:
            not_understood(dispatcher, tracker)
        return []


class ActionFallback(ActionAnswerFaq):
    """Fallback for low NLU or dialogue confidence: the knowledge base gets a chance first."""

    def name(self) -> Text:
        return "action_fallback"
