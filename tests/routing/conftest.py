"""A router trained from data/routing into a temporary cache, shared by the routing tests."""
from __future__ import annotations

import pytest

from bot.routing import Router
from bot.routing.taxonomy import DATA_DIR


@pytest.fixture(scope="session")
def router(tmp_path_factory):
    return Router(DATA_DIR, tmp_path_factory.mktemp("routing-cache"))
