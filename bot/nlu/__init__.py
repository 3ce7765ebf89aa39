"""Custom Rasa NLU components for Chinese hotline messages."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import action_recovery, speedups, turn_guard

# loaded with the model's components, so they patch every Rasa server
turn_guard.install()  # every turn ends listening
action_recovery.install()  # a failed action call answers the citizen (bot/nlu/action_recovery.py)
speedups.install()  # Rasa's per-turn costs removed (bot/nlu/speedups.py)


def override_intent(message: Message, name: str, confidence: float) -> None:
    """Makes `name` the message's intent and puts it first in the ranking (once).

    The other intents' confidences are scaled to share what is left (1 - confidence), so that the
    FallbackClassifier's ambiguity check does not see DIET's old winner as a near tie and turn a
    detected emergency into `nlu_fallback`.
    """
    intent = {"name": name, "confidence": confidence}
    ranking = [
        {**r, "confidence": r.get("confidence", 0.0) * (1.0 - confidence)}
        for r in message.get(INTENT_RANKING_KEY) or []
        if r.get("name") != name
    ]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)
