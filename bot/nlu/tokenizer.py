"""Jieba tokenizer that survives blank, emoji-only and mixed Chinese/English input.

Rasa's JiebaTokenizer returns whitespace tokens for text such as "wifi 坏了" or "   ", which breaks the
featurizers (RasaHQ/rasa#7910, #10504). This subclass drops blank tokens and only loads `*.txt` files
from `dictionary_path` as jieba user dictionaries.
"""

from __future__ import annotations

import glob
import logging
from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class HotlineTokenizer(JiebaTokenizer):
    """JiebaTokenizer with the hotline dictionary and no blank tokens."""

    @staticmethod
    def _load_custom_dictionary(path: Text) -> None:
        import jieba

        for user_dict in sorted(glob.glob(f"{path}/*.txt")):
            logger.debug("Loading jieba user dictionary %s", user_dict)
            jieba.load_userdict(user_dict)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Tokenizes like jieba, without whitespace-only tokens."""
        import jieba

        text = message.get(attribute) or ""
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(text) if word.strip()]
        return self._apply_token_pattern(tokens)
