"""The trained Rasa model: test stories without prediction errors, and NLU cross-validation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import ROOT, load
from stack.training import cross_validate, ensure_model

MIN_INTENT_F1 = 0.80  # a regression guard; the measured figure is in bench/nlu/REPORT.md


@pytest.fixture(scope="session")
def model():
    return ensure_model(load(), quiet=True)


def rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rasa", *args], cwd=ROOT, capture_output=True, text=True)


def test_test_stories_have_no_prediction_errors(model, tmp_path):
    result = rasa(
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        "tests/stories",
        "--fail-on-prediction-errors",
        "--out",
        str(tmp_path),
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-3000:]
    assert result.returncode == 0, details


@pytest.mark.slow
def test_nlu_cross_validation_intent_f1(tmp_path):
    report = cross_validate(folds=3, out_dir=tmp_path)
    weak = {
        name: round(scores["f1-score"], 2)
        for name, scores in report.items()
        if isinstance(scores, dict) and "support" in scores and scores["f1-score"] < 0.7
    }
    assert report["weighted avg"]["f1-score"] >= MIN_INTENT_F1, weak
