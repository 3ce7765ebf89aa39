"""Training the Rasa model only when its inputs changed.

The model's name is a hash of everything that shapes it (config, domain, NLU/rules/stories data, the
jieba dictionary and the custom NLU components), so an unchanged tree reuses the model in models/
instead of retraining. The knowledge base (faq/) is deliberately not part of it: it is read at run time.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Optional

from bot.settings import ROOT, Settings

TRAINING_DATA = ("data/nlu", "data/rules", "data/stories")
MODEL_INPUTS = ("config.yml", "domain", "data/nlu", "data/rules", "data/stories", "data/dict", "bot/nlu")


def _files(paths: Iterable[str]) -> Iterable[Path]:
    for name in paths:
        path = ROOT / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def fingerprint() -> str:
    """Short hash of the model's inputs (file names and contents)."""
    digest = hashlib.sha256()
    for path in _files(MODEL_INPUTS):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    """Where the model for the current inputs is (or will be) stored."""
    return settings.models_dir / f"bianmin-{fingerprint()}.tar.gz"


def ensure_model(settings: Settings, force: bool = False, quiet: bool = False) -> Path:
    """Returns the trained model for the current inputs, training it first if needed."""
    target = model_path(settings)
    if target.exists() and not force:
        return target
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    print(f"Training the Rasa model ({target.name}); this takes a few minutes...", flush=True)
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain",
        "--data",
        *TRAINING_DATA,
        "--out",
        str(settings.models_dir),
        "--fixed-model-name",
        target.name[: -len(".tar.gz")],
    ]
    output = subprocess.DEVNULL if quiet else None
    subprocess.run(command, cwd=ROOT, check=True, stdout=output)
    return target


def latest_model(settings: Settings) -> Optional[Path]:
    """The model for the current inputs if it exists."""
    target = model_path(settings)
    return target if target.exists() else None


def cross_validate(folds: int, out_dir: Path) -> dict:
    """Runs `rasa test nlu --cross-validation` over data/nlu and returns the intent report."""
    import json

    command = [
        sys.executable,
        "-m",
        "rasa",
        "test",
        "nlu",
        "--cross-validation",
        "--folds",
        str(folds),
        "--config",
        "config.yml",
        "--nlu",
        "data/nlu",
        "--out",
        str(out_dir),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"cross-validation failed: {result.stderr[-3000:]}")
    return json.loads((out_dir / "intent_report.json").read_text(encoding="utf-8"))
