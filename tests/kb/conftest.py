"""Fixtures of the knowledge-base tests: the real faq/ base and temporary faq directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb import KnowledgeBase
from bot.settings import ROOT


@pytest.fixture(scope="session")
def real_kb() -> KnowledgeBase:
    return KnowledgeBase.from_dir(ROOT / "faq")


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "faq"
    directory.mkdir()
    return directory
