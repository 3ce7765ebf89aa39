"""Settings: a throw-away stack (tests, benchmarks) gets its own var/ but shares the embedding cache."""

from __future__ import annotations

from pathlib import Path

from bot.settings import load, to_env
from stack.run import isolated_settings


def test_a_throw_away_stack_shares_its_parents_embedding_cache(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("BIANMIN_EMBEDDINGS_CACHE", raising=False)
    parent = load()
    child = isolated_settings(parent, tmp_path, port_offset=100, redis_db=15)
    assert child.var_dir == tmp_path and child.embeddings_cache == parent.var_dir / "embeddings.sqlite3"
    monkeypatch.setenv("BIANMIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BIANMIN_EMBEDDINGS_CACHE", to_env(child)["BIANMIN_EMBEDDINGS_CACHE"])
    assert load().embeddings_cache == child.embeddings_cache  # what the child's processes read
