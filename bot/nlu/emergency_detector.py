"""NLU component that overrides the intent with `report_emergency` when the text is an emergency."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.emergency import detect
from bot.nlu import override_intent

EMERGENCY_INTENT = "report_emergency"
FALLBACK_INTENT = "nlu_fallback"  # taken up by action_fallback as a request


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyDetector(GraphComponent):
    """Sets intent `report_emergency` (confidence 1.0) and entity `emergency_type` on emergencies, and
    `nlu_fallback` where the model guessed an emergency that bot.emergency finds only mentioned.

    Place it after the trained intent classifier and before the FallbackClassifier.
    """

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyDetector":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Marks emergency messages; leaves every other message untouched."""
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # button payloads are never free-text emergencies
            kind = detect(text)
            if kind is None:
                if (message.get(INTENT) or {}).get("name") == EMERGENCY_INTENT:
                    # the model heard a danger word that is not happening now (一旦着火…, 跳楼机): a request
                    override_intent(message, FALLBACK_INTENT, 1.0)
                continue
            override_intent(message, EMERGENCY_INTENT, 1.0)
            entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") != "emergency_type"]
            entities.append(
                {
                    "entity": "emergency_type",
                    "value": kind,
                    "start": 0,
                    "end": len(text),
                    "extractor": self.__class__.__name__,
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
