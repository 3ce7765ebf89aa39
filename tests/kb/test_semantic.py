"""Sentence vectors in retrieval: meaning without shared words, questions that never run the model, the
vector cache, the fallback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from bot import embeddings
from bot.embeddings import DIMENSIONS, Embedder
from bot.kb import Entry, KnowledgeBase, semantic
from bot.settings import ROOT

DAY = dt.date(2026, 12, 1)


def entry(entry_id: str, *questions: str) -> Entry:
    return Entry(
        id=entry_id,
        questions=list(questions),
        answer="测试答案。",
        category="劳动和社会保障",
        source="测试",
        reviewed=DAY,
    )


ENTRIES = [
    entry("unemployment", "失业了怎么领失业保险金", "失业金申请条件"),
    entry("heating", "暖气不热怎么办", "供暖温度不达标"),
    entry("pension", "退休金什么时候发", "养老金调整"),
]


def test_meaning_finds_an_entry_that_shares_no_word_with_the_question(real_kb: KnowledgeBase):
    question = "屋里冷得跟冰窖一样"  # no word of the heating entries; 冰窖 is nowhere in faq/
    words_only = KnowledgeBase.from_dir(ROOT / "faq", semantic_search=False).search(question, today=DAY)
    assert words_only[0].entry.id != "heating_not_warm"
    assert real_kb.search(question, today=DAY)[0].entry.id == "heating_not_warm"


def test_a_question_is_encoded_from_known_words_without_running_the_model(real_kb: KnowledgeBase, monkeypatch):
    def model_called(*args, **kwargs):
        raise AssertionError("a citizen's question must not run the model")

    monkeypatch.setattr(real_kb.meaning.embedder, "embed", model_called)
    monkeypatch.setattr(real_kb.meaning.embedder, "many", model_called)
    # 暖气片冰冰凉 is no word of faq/: it is read through the pieces and characters the base knows
    assert real_kb.search("暖气片冰冰凉咋整", today=DAY)[0].entry.id == "heating_not_warm"
    assert not real_kb.meaning.encode("").any() and not real_kb.meaning.encode("？？！").any()


def test_vectors_are_cached_on_disk(tmp_path: Path):
    cache = tmp_path / "embeddings.sqlite3"
    first = Embedder(cache)
    vectors = first.many(["暖气不热怎么办", "失业金怎么领", "暖气不热怎么办"])
    assert vectors.shape == (3, DIMENSIONS) and first.computed == 2
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    second = Embedder(cache)  # a restarted process embeds nothing it has seen
    assert np.allclose(second.many(["失业金怎么领"]), vectors[1]) and second.computed == 0


def test_numbers_and_blank_questions_embed_without_error(tmp_path: Path):
    embedder = Embedder(tmp_path / "embeddings.sqlite3")
    assert embedder.embed(["", 12345], chars=48).shape == (2, DIMENSIONS)
    assert embedder.many([12345, ""]).shape == (2, DIMENSIONS)  # YAML reads "12345" as a number


def test_without_the_engine_the_base_ranks_by_words(monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("engine not built for this CPU")

    monkeypatch.setattr(embeddings, "Embedder", broken)
    monkeypatch.setattr(embeddings, "_shared", None)
    monkeypatch.setattr(semantic, "_shared", None)
    kb = KnowledgeBase.from_entries(ENTRIES)
    assert kb.meaning is None
    assert kb.search("暖气不热", today=DAY)[0].entry.id == "heating"
