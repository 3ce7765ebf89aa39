"""NLU component that turns messages made of words the model never saw into `nlu_fallback`.

DIET is confidently wrong on gibberish, emoji and lone numbers ("阿巴阿巴" → thank 0.8, "😀" → affirm 0.7):
with no known features left, some intent still wins the softmax. This component remembers the token
vocabulary of the training data and, when too small a share of a message's words is known, sets the
intent to `nlu_fallback` so the dialogue asks the citizen to rephrase instead of guessing. Words inside
extracted entities (phone numbers, ticket numbers, districts) count as known.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Set, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.nlu.constants import TOKENS_NAMES

FALLBACK_INTENT = "nlu_fallback"
_CONTENT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]")
VOCABULARY_FILE = "vocabulary.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class VocabularyGuard(GraphComponent):
    """Sets `nlu_fallback` when fewer than `min_known_share` of a message's words are known."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_known_share": 0.34, "fallback_confidence": 0.3}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[Set[str]] = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary or set()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VocabularyGuard":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Remembers every token of the training examples."""
        self.vocabulary = {
            token.text.lower()
            for example in training_data.training_examples
            for token in example.get(TOKENS_NAMES[TEXT]) or []
        }
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(self.vocabulary), ensure_ascii=False))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "VocabularyGuard":
        with model_storage.read_from(resource) as directory:
            vocabulary = set(json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8")))
        return cls(config, model_storage, resource, vocabulary)

    def known_share(self, message: Message) -> float:
        """Share of the message's content tokens that are known words or inside an entity."""
        entity_spans = [(e["start"], e["end"]) for e in message.get(ENTITIES) or []]
        tokens: List[Token] = [t for t in message.get(TOKENS_NAMES[TEXT]) or [] if _CONTENT.search(t.text)]
        if not tokens:
            return 0.0
        known = sum(
            1 for t in tokens
            if t.text.lower() in self.vocabulary or any(s <= t.start and t.end <= e for s, e in entity_spans)
        )
        return known / len(tokens)

    def process(self, messages: List[Message]) -> List[Message]:
        """Replaces the intent of messages with too few known words by `nlu_fallback`."""
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or self.known_share(message) >= self.config["min_known_share"]:
                continue
            fallback = {"name": FALLBACK_INTENT, "confidence": self.config["fallback_confidence"]}
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback] + (message.get(INTENT_RANKING_KEY) or []), add_to_output=True)
        return messages
