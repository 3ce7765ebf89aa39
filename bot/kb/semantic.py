"""The knowledge base's use of sentence embeddings (bot/embeddings): what an entry is embedded as, how
much of a question is embedded, and how a cosine similarity becomes a 0..1 score."""
from __future__ import annotations

from typing import List

import numpy as np

# The start of a question carries its topic; embedding cost grows with length (bench/faq).
QUERY_CHARS = 48
# e5 cosine similarities of unrelated and of matching texts fall around these two values; a
# similarity is mapped linearly from this range onto 0..1 so it can be mixed with the word score.
UNRELATED_COSINE = 0.80
MATCHING_COSINE = 0.95


def score(cosines: np.ndarray) -> np.ndarray:
    """Cosine similarities mapped onto 0..1 (see UNRELATED_COSINE and MATCHING_COSINE)."""
    return np.clip((cosines - UNRELATED_COSINE) / (MATCHING_COSINE - UNRELATED_COSINE), 0.0, 1.0)


def entry_text(questions: List[str]) -> str:
    """What an entry is embedded as: its questions joined."""
    return " ".join(str(q) for q in questions)
