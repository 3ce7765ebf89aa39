"""Answers from the knowledge base in faq/ (retrieved at run time, never trained into the model)."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import button, channel_of, latest_entity, latest_intent, latest_text, previous_bot_response
from bot.categories import citizen_name
from bot.emergency import mentioned
from bot.kb import Entry
from bot.kb import shared as knowledge_base
from bot.routing import shared as router

NONE_OF_THESE = "都不是"  # the last button under the suggested questions


def answer(dispatcher: CollectingDispatcher, entry: Entry, ask_feedback: bool = True) -> None:
    """Sends an entry's answer (the knowledge base's own text) and asks whether it solved the problem
    (not inside a form, where the form's question follows: ask_feedback=False)."""
    dispatcher.utter_message(text=entry.answer.strip())
    if ask_feedback:
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
        elif is_request(text):
            return [FollowupAction("action_fallback")]  # taken up: the offer to register it
        else:
            not_understood(dispatcher, tracker)
        return []


class ActionFallback(Action):
    """What no intent or rule covers: a short reply fitting the context, a request taken up, or (for
    gibberish only) a request to rephrase. Every path ends listening (FollowupAction action_listen), so
    the policies are never asked again in the same turn: no fallback loop."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = latest_text(tracker)
        intent = latest_intent(tracker)
        previous = previous_bot_response(tracker)
        if "utter_offer_register" in previous_turn_responses(tracker):
            previous = "utter_offer_register"  # the offer may be followed by the one-line safety note
        pending = tracker.get_slot(PENDING)
        short = len(text) <= 12
        no = intent == "deny" or bool(_NO.match(text)) or (short and bool(_DECLINE.search(text)))
        yes = not no and (intent == "affirm" or bool(_YES.match(text)) or (short and bool(_ACCEPT.search(text))))
        if previous == "utter_offer_register" and pending and yes:
            return await start_registration(dispatcher, tracker, domain, pending)
        if is_request(text):
            return take_up(dispatcher, tracker, text)
        if previous == "utter_offer_register" and no:
            dispatcher.utter_message(response="utter_register_declined")
            return [SlotSet(PENDING, None), LISTEN]
        if previous == "utter_faq_feedback" and (yes or no):
            dispatcher.utter_message(response="utter_faq_glad" if yes else "utter_faq_not_solved")
            return [LISTEN]
        if previous == "utter_faq_suggestions" and no and pending:
            offer_registration(dispatcher, pending)
            return [LISTEN]
        if yes or no or intent in _ACKNOWLEDGING or _ACKNOWLEDGEMENT.search(text) or not text:
            menu_shown = any(name in _MENUS for name in bot_responses_this_session(tracker))
            dispatcher.utter_message(response="utter_anything_else" if menu_shown else "utter_ack_menu")
            return [LISTEN]
        not_understood(dispatcher, tracker)
        return [LISTEN]


PENDING = "pending_request"
LISTEN = FollowupAction("action_listen")
_MENUS = {"utter_greet", "utter_ack_menu"}
_ACKNOWLEDGING = {"affirm", "deny", "thank", "greet", "goodbye", "chitchat", "cancel", "inform"}
_YES = re.compile(r"^(好|好的|行|可以|需要|要|是|是的|对|嗯+|登记|帮我登记|ok|OK|yes)[。！!~～]*$", re.I)
_NO = re.compile(r"^(不用|不用了|不需要|不要|算了|没有|没有了|不|否|no)[。！!~～]*$", re.I)
_ACCEPT = re.compile(r"登记|提交|受理|帮我|需要|可以|好|行|要")
_DECLINE = re.compile(r"不用|不需要|不要|算了|不必|别")
_ACKNOWLEDGEMENT = re.compile(
    r"好|嗯|行|哦|噢|喔|知道|明白|收到|了解|懂|ok|谢|人呢|在吗|有人吗|在不在|随便|没事|没了|没有", re.I
)
_MEANINGFUL = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{2,}|\d{3,}")
_FILLER = re.compile(r"[好的嗯啊哦噢喔呢吧呀吗了哈是对行]")


def is_request(text: str) -> bool:
    """Substantive text: at least six meaningful characters, not only particles or one character
    repeated ("呱呱呱呱呱呱" is gibberish)."""
    units = _MEANINGFUL.findall(text)
    content = [unit for unit in units if not _FILLER.fullmatch(unit)]
    return len(content) >= 6 and len(set(content)) >= 3


def previous_turn_responses(tracker: Tracker) -> List[Text]:
    """Response names of the bot messages between the previous user message and the latest one."""
    names: List[Text] = []
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                break
        elif event.get("event") == "bot" and users == 1:
            names.append((event.get("metadata") or {}).get("utter_action") or "")
    return names


def bot_responses_this_session(tracker: Tracker) -> List[Text]:
    """Response names the bot sent since the session started."""
    names: List[Text] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            names = []
        elif event.get("event") == "bot":
            name = (event.get("metadata") or {}).get("utter_action")
            if name:
                names.append(name)
    return names


def shortened(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def offer_registration(dispatcher: CollectingDispatcher, request: str) -> None:
    """ "您反映的是…，需要我帮您登记吗？" with the routed category."""
    category = router().classify(request).category or "其他"
    dispatcher.utter_message(
        response="utter_offer_register", category=citizen_name(category), request=shortened(request)
    )


def take_up(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> List[Dict[Text, Any]]:
    """A request no intent matched: answered from the knowledge base when it is confident, otherwise
    suggested questions or the offer to register it; one line of safety advice when it mentions a danger."""
    kb = knowledge_base()
    hits = kb.search(text, k=3, channel=channel_of(tracker))
    decision = kb.decide(hits)
    if decision == "answer":
        answer(dispatcher, hits[0].entry)
    elif decision == "suggest":
        buttons = [button(hit.entry.questions[0], "ask_question", faq_id=hit.entry.id) for hit in hits]
        dispatcher.utter_message(response="utter_faq_suggestions", buttons=buttons + [button(NONE_OF_THESE, "deny")])
    else:
        offer_registration(dispatcher, text)
    if mentioned(text):
        dispatcher.utter_message(response="utter_safety_note")
    return [SlotSet(PENDING, text), LISTEN]


async def start_registration(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any], request: str
) -> List[Dict[Text, Any]]:
    """The citizen accepted: the complaint form starts as if the request had been its first message
    (description, routed category, district, phone taken from it)."""
    from actions.complaint import ActionStartComplaint  # here: actions.complaint imports this module

    as_first_message = tracker.copy()
    as_first_message.latest_message = {"text": request, "intent": {"name": "file_complaint"}, "entities": []}
    events = await ActionStartComplaint().run(dispatcher, as_first_message, domain)
    return [*events, SlotSet(PENDING, None), FollowupAction("complaint_form")]
