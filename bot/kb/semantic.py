"""The knowledge base's sense of meaning: sentence vectors built from e5's vectors of single words.

Running e5 (bot/embeddings) on a citizen's question costs about 1 ms per token on one core, so a
question would take 15-50 ms: too slow for the answer-at-once goal (bench/faq). Instead each word of
the knowledge base, and each common character, is embedded by e5 once (cached on disk like every
project text), and a text's vector is the weighted mean of its words' vectors ("static" embeddings
distilled from the model, as in Model2Vec):
- words are jieba words of the normalised text (bot/kb/text.py), stopwords dropped;
- each word weighs a / (a + p(word)), p its frequency in jieba's dictionary (smooth inverse frequency),
  so rare, telling words count most;
- the mean vector of the common characters is subtracted from each word vector first: e5's vectors share
  a large common direction that would make every pair of texts look alike.
A question's word that the base has never seen is split into dictionary words (or characters) that it
has: a question never calls the model and takes well under a millisecond to encode.
"""

from __future__ import annotations

import threading
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from bot.embeddings import DIMENSIONS, Embedder, shared_embedder
from bot.hotline_jieba import hotline_jieba
from bot.kb.text import normalise, words

# The start of a question carries its topic.
QUERY_CHARS = 48
# Smooth-inverse-frequency constant, relative to jieba's dictionary frequencies (bench/faq).
WORD_WEIGHT_A = 1e-3
# How many of jieba's most frequent characters are embedded up front (question words' fallback).
COMMON_CHARACTERS = 3000
# Cosine similarities of unrelated and of matching texts fall around these two values; a similarity is
# mapped linearly from this range onto 0..1 so it can be mixed with the word score.
UNRELATED_COSINE = 0.2
MATCHING_COSINE = 0.7


def score(cosines: np.ndarray) -> np.ndarray:
    """Cosine similarities mapped onto 0..1 (see UNRELATED_COSINE and MATCHING_COSINE)."""
    return np.clip((cosines - UNRELATED_COSINE) / (MATCHING_COSINE - UNRELATED_COSINE), 0.0, 1.0)


def entry_text(questions: List[str]) -> str:
    """What an entry is encoded as: its questions joined."""
    return " ".join(str(q) for q in questions)


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


class SentenceVectors:
    """Encodes texts as weighted means of word vectors; `learn` adds the words of project texts."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        jieba = hotline_jieba()
        self._cut = jieba.lcut
        self._frequency = jieba.dt.FREQ
        self._total = float(jieba.dt.total)
        self._lock = threading.Lock()
        characters = sorted(
            (c for c in self._frequency if len(c) == 1 and _is_cjk(c)), key=lambda c: -self._frequency[c]
        )[:COMMON_CHARACTERS]
        raw = embedder.many(characters)
        self._centre = raw.mean(axis=0)
        self._vectors: Dict[str, np.ndarray] = dict(zip(characters, raw - self._centre))

    def _learn(self, tokens: Iterable[str]) -> None:
        with self._lock:
            new = sorted({t for t in tokens if t not in self._vectors})
            if new:
                self._vectors.update(zip(new, self.embedder.many(new) - self._centre))

    def _known(self, word: str) -> List[str]:
        """`word` if it has a vector, else its dictionary pieces (or characters) that have one."""
        if word in self._vectors:
            return [word]
        pieces = []
        for piece in self._cut(word, HMM=False):
            pieces.extend([piece] if piece in self._vectors else [c for c in piece if c in self._vectors])
        return pieces

    def _encode(self, tokens: Sequence[str]) -> np.ndarray:
        if not tokens:
            return np.zeros(DIMENSIONS, dtype=np.float32)
        weights = np.array(
            [WORD_WEIGHT_A / (WORD_WEIGHT_A + self._frequency.get(t, 0) / self._total) for t in tokens],
            dtype=np.float32,
        )
        vector = weights @ np.stack([self._vectors[t] for t in tokens])
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    def learn(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of the project's texts (faq entries); their words are embedded once, then cached."""
        text_words = [words(normalise(text)) for text in texts]
        self._learn(w for one in text_words for w in one)
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for n, one in enumerate(text_words):
            out[n] = self._encode(one)
        return out

    def encode(self, text: str) -> np.ndarray:
        """Vector of a citizen's question (its first QUERY_CHARS characters), from known words only."""
        return self._encode([piece for word in words(normalise(text[:QUERY_CHARS])) for piece in self._known(word)])


_shared: Optional[SentenceVectors] = None
_shared_lock = threading.Lock()


def shared_sentence_vectors() -> Optional[SentenceVectors]:
    """The process-wide sentence vectors, or None without the embedding engine (words alone then)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            embedder = shared_embedder()
            _shared = SentenceVectors(embedder) if embedder else None
        return _shared
