"""The routing classifier: TF-IDF (characters and jieba words) + linear SVM + keyword priors, mixed with a
classifier on sentence embeddings.

A linear SVM scores second-level categories (trained on the project's examples); a softmax of the scores
gives probabilities and a top-level category's probability is the sum of its second-level ones. Taxonomy
keywords found in the text multiply the probability of their second-level category, which carries the
model to vocabulary the examples lack. A softmax temperature fitted on cross-validated scores of the
examples calibrates the confidence. When sentence embeddings are available (bot/embeddings), a logistic
regression on the embeddings of the examples gives a second opinion on the top-level category, by
meaning rather than by words; the two are mixed as a weighted geometric mean. The examples are not drawn
at the rates citizens write about each category, so the mix is finally weighed by those rates
(data/routing/shares.yml), gently.
"""

from __future__ import annotations

import functools
import re
from typing import List, Optional, Protocol, Sequence, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

from bot.embeddings import Embedder
from bot.hotline_jieba import hotline_jieba
from bot.routing.taxonomy import Taxonomy, split_label

MAX_CHARS = 1500  # a complaint states its matter first; the rest of a long letter adds little but time
KEYWORD_WEIGHT = 2.0  # exponent of (1 + keyword hits) multiplying a second-level category's probability
TITLE_WEIGHT = 3  # a message's title counts as often as this in its keyword hits
TITLE_REPEAT = 4  # ... and is repeated this often before its text for the linear model
MEANING_WEIGHT = 0.6  # weight of the embedding classifier in the geometric mean of the two opinions
MEANING_CHARS = 250  # the title and the start of a letter are embedded (cost grows with length)
MEANING_C = 10.0  # inverse regularisation of the embedding classifier
SHARE_WEIGHT = 0.2  # exponent of a category's share of real messages (shares.yml) multiplying its probability
WORDS_CACHE = 1024  # texts whose jieba words are kept (a few MB): a learned model and the examples' model
# read the same inputs of a batch (bianmin classify's batches are 256), so jieba, most of the cost, runs once
TEMPERATURE_FOLDS = 3  # cross-validation folds for the temperature (4 gave the same 0.1, 50 % slower)
_NOISE = re.compile(r"[\s\u3000]+|\*{3,}|https?://\S+|_x000D_")


def normalise(text: str) -> str:
    """Text without masked numbers, links and runs of blanks, cut to MAX_CHARS."""
    return _NOISE.sub(" ", text or "").strip()[:MAX_CHARS]


def words(text: str) -> List[str]:
    """jieba words of the text, blanks and single punctuation dropped."""
    return list(_words(text))


@functools.lru_cache(maxsize=WORDS_CACHE)
def _words(text: str) -> Tuple[str, ...]:
    return tuple(w for w in hotline_jieba().lcut(text, HMM=False) if w.strip() and (len(w) > 1 or w.isalnum()))


def joined_inputs(texts: Sequence[str], titles: Sequence[str]) -> List[str]:
    """The linear models' input: the title repeated TITLE_REPEAT times, then the text."""
    return [
        normalise(" ".join([title] * TITLE_REPEAT + [text]) if title else text) for text, title in zip(texts, titles)
    ]


class TopLevel(Protocol):
    """A top-level opinion that can replace the model's own (bot.routing.learned.LearnedModel)."""

    def probabilities(self, texts: Sequence[str], titles: Sequence[str], categories: Sequence[str]) -> np.ndarray:
        """Probabilities of `categories` (columns in that order) for each text."""


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1)),
            ("words", TfidfVectorizer(tokenizer=words, token_pattern=None, lowercase=False, sublinear_tf=True)),
        ]
    )


def _classifier() -> LinearSVC:
    return LinearSVC(C=1.0)


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    scaled = scores / temperature
    scaled = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


class RouteModel:
    """Fitted classifier: `predict` gives top-level and second-level categories with a confidence."""

    def __init__(self, taxonomy: Taxonomy, embedder: Optional[Embedder] = None) -> None:
        self.labels = taxonomy.labels
        self.keywords = [taxonomy.keywords[name] for name in self.labels]
        self.categories = tuple(dict.fromkeys(split_label(name)[0] for name in self.labels))
        # multiplies the top-level probabilities: each category's share of real messages, gently
        self.share_weights = np.array([taxonomy.shares[c] for c in self.categories]) ** SHARE_WEIGHT
        owner = {c: i for i, c in enumerate(self.categories)}
        self._owner = np.array([owner[split_label(name)[0]] for name in self.labels])
        texts = [normalise(text) for text, _ in taxonomy.examples]
        targets = [name for _, name in taxonomy.examples]
        self.temperature = self._fit_temperature(texts, targets)
        self.pipeline = make_pipeline(_features(), _classifier()).fit(texts, targets)
        self.meaning: Optional[LogisticRegression] = None
        if embedder is not None:
            tops = [split_label(target)[0] for target in targets]
            vectors = embedder.many([text[:MEANING_CHARS] for text in texts])
            self.meaning = LogisticRegression(C=MEANING_C, max_iter=5000).fit(vectors, tops)

    def _scores(self, pipeline, texts: Sequence[str]) -> np.ndarray:
        """Decision scores aligned with self.labels (a class missing from a fold scores very low)."""
        raw = pipeline.decision_function(texts)
        out = np.full((len(texts), len(self.labels)), -10.0)
        index = {name: i for i, name in enumerate(self.labels)}
        for column, name in enumerate(pipeline.classes_):
            out[:, index[name]] = raw[:, column]
        return out

    def _keyword_hits(self, text: str, title: str) -> np.ndarray:
        return np.array(
            [sum((k in text) + TITLE_WEIGHT * (k in title) for k in keys) for keys in self.keywords], dtype=float
        )

    def _probabilities(self, scores: np.ndarray, hits: np.ndarray, temperature: float):
        """(second-level, top-level) probabilities: softmax of the scores times the keyword priors."""
        sub = _softmax(scores, temperature) * (1.0 + hits) ** KEYWORD_WEIGHT
        sub /= sub.sum(axis=1, keepdims=True)
        top = np.zeros((len(sub), len(self.categories)))
        np.add.at(top.T, self._owner, sub.T)
        return sub, top

    def _meaning(self, texts: Sequence[str], titles: Sequence[str], embedder: Embedder) -> np.ndarray:
        """Top-level probabilities (columns in self.categories order) from the embedding classifier."""
        vectors = embedder.embed(
            [normalise(f"{title}。{text}" if title else text) for text, title in zip(texts, titles)], MEANING_CHARS
        )
        meaning = self.meaning
        assert meaning is not None, "a model trained without embeddings has no meaning opinion"
        raw = meaning.predict_proba(vectors)
        out = np.full((len(texts), len(self.categories)), 1e-6)
        for column, name in enumerate(meaning.classes_):
            out[:, self.categories.index(name)] = raw[:, column]
        return out

    def predict(
        self,
        texts: Sequence[str],
        titles: Optional[Sequence[str]] = None,
        embedder: Optional[Embedder] = None,
        top_level: Optional[TopLevel] = None,
    ) -> List[Tuple[str, str, float, Tuple[str, ...]]]:
        """(category, second-level category, calibrated confidence, all categories best first) for each
        text; with `embedder` (and a model trained with one) the embedding classifier's opinion is mixed in.
        `top_level` (a model learned from a hotline's history) replaces this model's top-level opinion: the
        second-level category is still this model's best inside the chosen top-level one."""
        titles = list(titles) if titles is not None else [""] * len(texts)
        hits = np.vstack([self._keyword_hits(normalise(t), title or "") for t, title in zip(texts, titles)])
        sub, top = self._probabilities(
            self._scores(self.pipeline, joined_inputs(texts, titles)), hits, self.temperature
        )
        if top_level is not None:
            top = top_level.probabilities(texts, titles, self.categories)
        else:
            if self.meaning is not None and embedder is not None:
                top = np.exp(
                    (1 - MEANING_WEIGHT) * np.log(top + 1e-9)
                    + MEANING_WEIGHT * np.log(self._meaning(texts, titles, embedder))
                )
            top = top * self.share_weights
        top /= top.sum(axis=1, keepdims=True)
        results = []
        for row_sub, row_top in zip(sub, top):
            order = np.argsort(-row_top, kind="stable")
            best = int(order[0])
            own = np.where(self._owner == best, row_sub, -1.0)
            ranking = tuple(self.categories[int(k)] for k in order)
            results.append((ranking[0], split_label(self.labels[int(own.argmax())])[1], float(row_top[best]), ranking))
        return results

    def _fit_temperature(self, texts: List[str], targets: List[str]) -> float:
        """Temperature minimising the log-loss of out-of-fold top-level predictions of the examples."""
        top_truth = [split_label(t)[0] for t in targets]
        truth = np.array([self.categories.index(c) for c in top_truth])
        scores = np.zeros((len(texts), len(self.labels)))
        hits = np.vstack([self._keyword_hits(t, "") for t in texts])
        folds = StratifiedKFold(n_splits=TEMPERATURE_FOLDS, shuffle=True, random_state=0)
        for train, test in folds.split(texts, top_truth):
            fold = make_pipeline(_features(), _classifier()).fit([texts[i] for i in train], [targets[i] for i in train])
            scores[test] = self._scores(fold, [texts[i] for i in test])

        def loss(temperature: float) -> float:
            top = self._probabilities(scores, hits, temperature)[1]
            return -float(np.mean(np.log(np.clip(top[np.arange(len(truth)), truth], 1e-9, 1.0))))

        return min((float(t) for t in np.arange(0.02, 1.0, 0.02)), key=loss)
