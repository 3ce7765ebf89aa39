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


UNSEEN_COURIER = "快递员把包裹放驿站不通知，第99次了，顺丰客服不处理"  # written like courier_history(), not one of it


def courier_history(rows: int = 60) -> list:
    """A generated hotline history (JSON lines records) whose hotline files courier complaints under 商贸旅游,
    where the project's examples put them under 交通运输, plus a few ordinary rows."""
    companies, troubles = (
        ["顺丰", "圆通", "中通", "申通", "韵达", "极兔"],
        ["快递员把包裹放驿站不通知", "快递包裹丢了不赔", "快递柜超时收费", "快递员不送上门还要加钱", "寄件被多收运费"],
    )
    records = [
        {
            "title": f"{companies[n % 6]}快递投诉",
            "text": f"{troubles[n % 5]}，第{n}次了，{companies[n % 6]}客服不处理",
            "category": "商贸旅游",
        }
        for n in range(rows)
    ]
    records += [
        {"title": "暖气不热", "text": f"{n}号楼暖气不热，室温只有十四度", "category": "城乡建设"} for n in range(10)
    ]
    return records


@pytest.fixture(scope="session")
def learned_cache(router, model_cache, tmp_path_factory):
    """A routing cache holding the zero-shot model of data/routing and a model learned from courier_history()."""
    import json

    from bot.routing.learn_cli import main as learn

    cache = tmp_path_factory.mktemp("learned-cache")
    for model in model_cache.glob("model-*.pkl"):
        shutil.copy(model, cache)
    history = cache.parent / "courier-history.jsonl"
    history.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in courier_history()), encoding="utf-8")
    assert learn(["--history", str(history)], cache) == 0
    return cache
