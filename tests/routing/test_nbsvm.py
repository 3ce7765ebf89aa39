"""The NB-SVM of the learned router: the log-count ratio folded into the weights scores as the SVM on scaled
features does, and it learns a small problem."""

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.routing.learned import NB_ALPHA, NBSVM

TEXTS = ["路灯不亮", "路灯坏了", "公交晚点", "公交停运", "工资拖欠", "拖欠工资三个月", "路面坑洼", "公交改线"]
TARGETS = np.array([0, 0, 1, 1, 2, 2, 0, 1])


def test_folded_weights_score_like_the_svm_on_scaled_features():
    matrix = TfidfVectorizer(analyzer="char", ngram_range=(1, 2)).fit_transform(TEXTS)
    weights = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 0.3])
    model = NBSVM().fit(matrix, TARGETS, sample_weight=weights)
    present = (matrix > 0).astype(float)
    mine = TARGETS == 1
    p = NB_ALPHA + np.asarray(present[mine].T @ weights[mine]).ravel()
    q = NB_ALPHA + np.asarray(present[~mine].T @ weights[~mine]).ravel()
    ratio = np.log((p / p.sum()) / (q / q.sum()))
    scaled = matrix.multiply(ratio).tocsr()
    svm = LinearSVC().fit(scaled, mine.astype(int), sample_weight=weights)
    assert np.allclose(
        model.decision_function(matrix)[:, 1], svm.decision_function(scaled), atol=1e-3
    )  # liblinear shuffles
    assert list(model.classes_) == [0, 1, 2]


def test_it_learns_a_small_problem():
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
    model = NBSVM().fit(vectorizer.fit_transform(TEXTS), TARGETS, sample_weight=np.ones(len(TEXTS)))
    scores = model.decision_function(vectorizer.transform(["这条路的路灯不亮", "公交车总是晚点", "老板拖欠工资"]))
    assert list(scores.argmax(axis=1)) == [0, 1, 2]
