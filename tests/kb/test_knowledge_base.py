"""Loading, validation, filtering and auto-reload of knowledge bases built from temporary faq dirs."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from bot import kb as kb_package
from bot.kb import FaqError, KnowledgeBase, shared
from bot.kb.knowledge_base import RELOAD_INTERVAL

ENTRY = """\
- id: {id}
  questions: [{question}]
  answer: {answer}
  category: 城乡建设
  source: 测试
  reviewed: 2026-01-01
"""


def entry_yaml(entry_id: str, question: str, answer: str, extra: str = "") -> str:
    """One faq entry as YAML text (extra: additional lines such as "  channels: [wechat]")."""
    return ENTRY.format(id=entry_id, question=question, answer=answer) + extra


def write(directory: Path, name: str, text: str, bump: int = 0) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    if bump:  # make sure the modification time changes even on coarse file systems
        stamp = time.time() + bump
        os.utime(path, (stamp, stamp))
    return path


def test_channel_limited_entry_only_on_its_channels(faq_dir: Path):
    write(
        faq_dir,
        "a.yml",
        entry_yaml("photo_upload", "微信里怎么上传照片", "点加号选择照片。", "  channels: [wechat]\n")
        + entry_yaml("heating", "暖气不热怎么办", "先排气。"),
    )
    kb = KnowledgeBase.from_dir(faq_dir)
    assert kb.search("怎么上传照片", channel="wechat")[0].entry.id == "photo_upload"
    assert all(hit.entry.id != "photo_upload" for hit in kb.search("怎么上传照片", channel="telegram"))
    assert all(hit.entry.id != "photo_upload" for hit in kb.search("怎么上传照片"))


def test_dates_hide_expired_and_future_entries(faq_dir: Path):
    extra = "  valid_from: 2026-10-15\n  valid_until: 2027-04-15\n"
    write(faq_dir, "a.yml", entry_yaml("season", "今年什么时候开始供暖", "11月1日起。", extra))
    kb = KnowledgeBase.from_dir(faq_dir)
    assert kb.search("什么时候供暖", today=dt.date(2026, 12, 1))[0].entry.id == "season"
    assert kb.search("什么时候供暖", today=dt.date(2027, 6, 1)) == []
    assert kb.search("什么时候供暖", today=dt.date(2026, 9, 1)) == []
    assert kb.get("season") is not None  # still known by id (buttons of an earlier suggestion)


@pytest.mark.parametrize(
    "text, message",
    [
        (entry_yaml("a", "问题", "回答") + entry_yaml("a", "别的问题", "回答"), "entry 2 (id a): duplicate id"),
        (
            "- id: a\n  questions: [问题]\n  category: 城乡建设\n  source: s\n  reviewed: 2026-01-01\n",
            "entry 1 (id a): missing answer",
        ),
        (entry_yaml("a", "问题", "回答").replace("城乡建设", "天气"), "unknown category '天气'"),
        (entry_yaml("a", "问题", "回答").replace("2026-01-01", "yesterday"), "`reviewed` must be a date"),
        (entry_yaml("a", "问题", "回答") + "  answr: typo\n", "unknown field(s) answr"),
        ("id: a\n", "must be a YAML list of entries"),
        ("- [unclosed\n", "cannot read the file"),
        (entry_yaml("Bad Id", "问题", "回答"), "`id` must be lower-case"),
    ],
)
def test_invalid_file_is_a_clear_error(faq_dir: Path, text, message):
    path = write(faq_dir, "broken.yml", text)
    with pytest.raises(FaqError) as error:
        KnowledgeBase.from_dir(faq_dir)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_duplicate_id_across_files(faq_dir: Path):
    write(faq_dir, "a.yml", entry_yaml("same", "问题一", "回答"))
    write(faq_dir, "b.yml", entry_yaml("same", "问题二", "回答"))
    with pytest.raises(FaqError, match="b.yml \\(id same\\): duplicate id, already used in .*a.yml"):
        KnowledgeBase.from_dir(faq_dir)


def test_missing_directory_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FaqError, match="does not exist"):
        KnowledgeBase.from_dir(tmp_path / "nowhere")


def test_shared_instance_follows_edits_without_restart(faq_dir: Path, monkeypatch):
    heating = write(faq_dir, "heating.yml", entry_yaml("heating", "暖气不热怎么办", "请先排气。"))
    write(faq_dir, "noise.yml", entry_yaml("noise", "夜间施工噪音", "请登记工地地址。"))
    kb = shared(faq_dir)
    assert shared(faq_dir) is kb
    assert kb.search("暖气不热")[0].entry.answer == "请先排气。"
    analysed = {}
    original = kb_package.knowledge_base._analyse
    monkeypatch.setattr(
        kb_package.knowledge_base,
        "_analyse",
        lambda stamp, entries, meaning: analysed.setdefault(
            entries[0].id if entries else "", original(stamp, entries, meaning)
        ),
    )

    write(
        faq_dir,
        "heating.yml",
        entry_yaml("heating", "暖气不热怎么办", "请先检查截门，再排气。")
        + entry_yaml("heating_fee", "暖气费怎么交", "到供热单位缴费。"),
        bump=5,
    )
    assert kb.search("暖气不热")[0].entry.answer == "请先排气。"  # checked at most every RELOAD_INTERVAL
    time.sleep(RELOAD_INTERVAL + 0.2)
    assert kb.search("暖气不热")[0].entry.answer == "请先检查截门，再排气。"
    assert kb.get("heating_fee") is not None
    assert set(analysed) == {"heating"}  # the unchanged noise.yml was not re-analysed

    heating.unlink()
    time.sleep(RELOAD_INTERVAL + 0.2)
    assert kb.get("heating") is None and kb.get("noise") is not None


def test_invalid_edit_keeps_the_previous_version(faq_dir: Path):
    write(faq_dir, "heating.yml", entry_yaml("heating", "暖气不热怎么办", "请先排气。"))
    kb = KnowledgeBase.from_dir(faq_dir, reload_interval=0)
    write(faq_dir, "heating.yml", "- id: heating\n  questions: [暖气不热]\n", bump=5)
    assert kb.search("暖气不热")[0].entry.answer == "请先排气。"
    write(faq_dir, "heating.yml", entry_yaml("heating", "暖气不热怎么办", "修好了。"), bump=10)
    assert kb.search("暖气不热")[0].entry.answer == "修好了。"


def test_empty_knowledge_base_answers_nothing(faq_dir: Path):
    write(faq_dir, "empty.yml", "")
    kb = KnowledgeBase.from_dir(faq_dir)
    assert len(kb) == 0 and kb.search("暖气不热") == [] and kb.decide([]) == "none"
