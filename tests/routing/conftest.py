"""Routers trained once per session from data/routing, and caches seeded with their models.

Training takes tens of seconds, so a test that only needs a Router over data/routing (or an unchanged
copy of it: the model's cache key is the content, not the path) starts from a seeded cache and loads.
"""
from __future__ import annotations

import shutil

import pytest

from bot.routing import Router
from bot.routing.taxonomy import DATA_DIR


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory):
    """The cache of `router`; `words_router` keeps its model in the subfolder words/ (a Router removes every
    other model from its own folder when it saves one)."""
    return tmp_path_factory.mktemp("routing-cache")


@pytest.fixture(scope="session")
def router(model_cache):
    return Router(DATA_DIR, model_cache)


@pytest.fixture(scope="session")
def words_router(model_cache):
    """The words-only router (no embedding classifier)."""
    return Router(DATA_DIR, model_cache / "words", semantic=False)


@pytest.fixture
def seeded_cache(router, words_router, model_cache, tmp_path):
    """A fresh cache folder holding both trained models of data/routing: a Router on it loads, not trains."""
    cache = tmp_path / "seeded-cache"
    cache.mkdir()
    for model in [*model_cache.glob("model-*.pkl"), *(model_cache / "words").glob("model-*.pkl")]:
        shutil.copy(model, cache)
    return cache
