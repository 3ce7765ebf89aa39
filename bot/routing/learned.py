"""The top-level classifier learned from a hotline's history (bot/routing/history) plus the project's examples.

Real tickets say what the examples cannot: how this hotline's citizens write and how its dispatchers
label. An NB-SVM (one linear SVM per category on character and word TF-IDF of the title (repeated) and
the text, each feature scaled by how much more often it occurs in that category's texts than in the
others': Wang & Manning's log-count ratio) learns the top-level categories from both, the examples
weighing EXAMPLE_WEIGHT of a real row; in the 5-fold cross-validation of bench/routing it beat the plain
linear SVM on the same features by 0.003-0.008 of macro-F1 at every size (learning takes about 1.6 times as
long, classifying the same). A softmax
temperature fitted on out-of-fold scores of the real rows gives probabilities, and an isotonic map of the
best one to how often it was right (the same out-of-fold scores) makes the confidence honest enough to
gate dispatch: a single temperature left the 0.7-0.99 range 4-8 points over-confident
(bench/routing/REPORT.md). No sentence embedding is used: embedding each message costs about 100 ms, the
words cost well under 1 ms (figures in bench/routing/REPORT.md). The Router keeps choosing the
second-level category and the department inside the predicted top-level one with its own model.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from bot.routing.history import HistoryRow
from bot.routing.model import _softmax, joined_inputs, words
from bot.routing.taxonomy import Taxonomy, split_label

logger = logging.getLogger(__name__)

LEARNED_FILE = "learned.pkl"  # in the Router's cache folder (var/routing/)
TEMPERATURE_FOLDS = 2  # each fold fits on half the rows: the temperature costs about one more fit
MIN_DF = 2
SVM_C = 1.0  # 5-fold CV on the history (bench/routing): C 0.5 / 1 / 2 gave macro-F1 0.922 / 0.925 / 0.926
NB_ALPHA = 1.0  # smoothing of the NB-SVM's feature counts (Wang & Manning)
EXAMPLE_WEIGHT = 0.3  # of a project example against a real row (5-fold CV, macro-F1 at 500 / 2,000 / all
# rows: weight 1 0.835 / 0.895 / 0.930, 0.3 0.838 / 0.902 / 0.931, 0 0.769 / 0.894 / 0.930)

MIN_ROWS_TO_MAP = 300  # fewer real rows leave the isotonic map too coarse: the temperature alone is used

Progress = Callable[[str], None]


def _features() -> FeatureUnion:
    """Character 1-3-grams, jieba words and word pairs, each seen in at least two texts (on one fold of the
    history: macro-F1 0.932 against 0.924 with every n-gram, and 3.5 times fewer features, 40 % faster)."""
    return FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=MIN_DF)),
            (
                "words",
                TfidfVectorizer(
                    tokenizer=words,
                    token_pattern=None,
                    lowercase=False,
                    sublinear_tf=True,
                    ngram_range=(1, 2),
                    min_df=MIN_DF,
                ),
            ),
        ]
    )


class NBSVM:
    """One-vs-rest linear SVMs on features scaled by their log-count ratio (Wang & Manning 2012, without
    the interpolation): for category c, r = log((p / |p|) / (q / |q|)) where p and q are the (weighted)
    numbers of texts of c and of the other categories containing each feature, plus NB_ALPHA. The scale
    is folded into each SVM's weights, so scoring costs one sparse product like a plain linear SVM."""

    def __init__(self, C: float = SVM_C, alpha: float = NB_ALPHA) -> None:
        self.C, self.alpha = C, alpha

    def fit(self, matrix, truth: np.ndarray, sample_weight: np.ndarray) -> "NBSVM":
        present = matrix.copy().tocsr()
        present.data[:] = 1.0
        self.classes_ = np.unique(truth)
        coefs, intercepts = [], []
        for category in self.classes_:
            mine = truth == category
            p = self.alpha + np.asarray(present[mine].T @ sample_weight[mine]).ravel()
            q = self.alpha + np.asarray(present[~mine].T @ sample_weight[~mine]).ravel()
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            svm = LinearSVC(C=self.C).fit(matrix.multiply(ratio).tocsr(), mine.astype(int), sample_weight=sample_weight)
            coefs.append(svm.coef_.ravel() * ratio)
            intercepts.append(svm.intercept_[0])
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.array(intercepts)
        return self

    def decision_function(self, matrix) -> np.ndarray:
        return np.asarray(matrix @ self.coef_.T) + self.intercept_


def training_set(rows: Sequence[HistoryRow], taxonomy: Taxonomy):
    """(texts, titles, top-level targets) of the history rows followed by the project's examples."""
    texts = [row.text for row in rows] + [text for text, _ in taxonomy.examples]
    titles = [row.title for row in rows] + [""] * len(taxonomy.examples)
    targets = [row.category for row in rows] + [split_label(name)[0] for _, name in taxonomy.examples]
    return texts, titles, targets


class LearnedModel:
    """Top-level category probabilities learned from history rows and the examples of `taxonomy`."""

    def __init__(self, rows: Sequence[HistoryRow], taxonomy: Taxonomy, progress: Optional[Progress] = None) -> None:
        step = progress or (lambda _: None)
        texts, titles, targets = training_set(rows, taxonomy)
        weights = np.where(np.arange(len(texts)) < len(rows), 1.0, EXAMPLE_WEIGHT)
        self.trained_on: Dict[str, int] = dict(Counter(row.source for row in rows), examples=len(taxonomy.examples))
        self.created = time.time()
        step("features")
        self.features = _features()
        matrix = self.features.fit_transform(joined_inputs(texts, titles))
        self.classes = tuple(sorted(set(targets)))
        truth = np.array([self.classes.index(t) for t in targets])
        step("calibration")
        self.temperature, self.confidence_map = self._fit_calibration(matrix, truth, weights, len(rows))
        step("classifier")
        self.classifier = NBSVM().fit(matrix, truth, sample_weight=weights)

    def _fit_calibration(
        self, matrix, truth: np.ndarray, weights: np.ndarray, real: int
    ) -> Tuple[float, Optional[IsotonicRegression]]:
        """The temperature minimising the log-loss of out-of-fold predictions of the first `real` rows (the
        hotline's own messages, not the shorter, cleaner examples, which outnumber a small history; with the
        benchmark's 5,840 rows both choices give 0.16), and the isotonic map of their best probability to
        being right (None below MIN_ROWS_TO_MAP rows). The vocabulary is fitted on all rows once; refitting
        it per fold would triple the time."""
        scores = np.full((len(truth), len(self.classes)), -10.0)
        folds = StratifiedKFold(n_splits=TEMPERATURE_FOLDS, shuffle=True, random_state=0)
        for train, test in folds.split(np.zeros(len(truth)), truth):
            fold = NBSVM().fit(matrix[train], truth[train], sample_weight=weights[train])
            scores[np.ix_(test, fold.classes_)] = fold.decision_function(matrix[test])
        scores, truth = (scores[:real], truth[:real]) if real else (scores, truth)

        def loss(temperature: float) -> float:
            chosen = _softmax(scores, temperature)[np.arange(len(truth)), truth]
            return -float(np.mean(np.log(np.clip(chosen, 1e-9, 1.0))))

        temperature = min((float(t) for t in np.arange(0.02, 1.0, 0.02)), key=loss)
        if real < MIN_ROWS_TO_MAP:
            return temperature, None
        probabilities = _softmax(scores, temperature)
        right = probabilities.argmax(axis=1) == truth
        isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        return temperature, isotonic.fit(probabilities.max(axis=1), right)

    def _calibrated(self, probabilities: np.ndarray) -> np.ndarray:
        """The best probability of each row set to its isotonic map, the others scaled to share the rest
        (never above the best one, so the ranking stays)."""
        mapping = getattr(self, "confidence_map", None)  # models learned before the map have none
        if mapping is None:
            return probabilities
        ordered = np.sort(probabilities, axis=1)
        best, second = ordered[:, -1], ordered[:, -2]
        rest = np.maximum(1.0 - best, 1e-12)
        mapped = np.maximum(mapping.predict(best), second / (rest + second))
        scaled = probabilities * ((1.0 - mapped) / rest)[:, None]
        winner = probabilities.argmax(axis=1)
        scaled[np.arange(len(scaled)), winner] = mapped
        return scaled

    def probabilities(self, texts: Sequence[str], titles: Sequence[str], categories: Sequence[str]) -> np.ndarray:
        """Probabilities of `categories` (columns in that order; a category never trained on gets ~0)."""
        scores = np.full((len(texts), len(self.classes)), -10.0)
        scores[:, self.classifier.classes_] = self.classifier.decision_function(
            self.features.transform(joined_inputs(texts, titles))
        )
        learned = self._calibrated(_softmax(scores, self.temperature))
        out = np.full((len(texts), len(categories)), 1e-9)
        for column, name in enumerate(self.classes):
            if name in categories:
                out[:, list(categories).index(name)] = learned[:, column]
        return out


def save(model: LearnedModel, folder: Path) -> Path:
    """Writes the model atomically to folder/LEARNED_FILE (a running Router loads it on its next check)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as handle:
        pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    path = folder / LEARNED_FILE
    os.replace(handle.name, path)
    return path


def load(path: Path) -> Optional[LearnedModel]:
    """The learned model at `path`, or None when there is none or it cannot be read (logged)."""
    try:
        with path.open("rb") as handle:
            model = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as error:  # a foreign or truncated file must not stop routing
        logger.error("routing: ignoring the unreadable learned model %s (%s)", path, error)
        return None
    if not isinstance(model, LearnedModel):
        logger.error("routing: %s is not a learned routing model; ignored", path)
        return None
    return model
