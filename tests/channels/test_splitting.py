"""Long replies are cut where a reader expects a break, and never by changing the text."""

from __future__ import annotations

import re

from channels.splitting import SENTENCE, cut, split_text, utf8_len


def rejoined(pieces):
    return re.sub(r"\n+", "", "".join(pieces))


def test_cuts_after_sentences_never_inside_words_or_numbers():
    description = "".join(f"楼下饭店的排油烟管道直通我家窗户，第{i}次反映了，电话13812345678。" for i in range(40))
    pieces = split_text(description, 300, utf8_len)
    assert len(pieces) > 1
    assert all(utf8_len(piece) <= 300 and piece.endswith("。") for piece in pieces)
    assert "".join(pieces) == description


def test_prefers_line_breaks_and_drops_only_the_break_at_the_cut():
    text = "第一行说明。\n" + "很长的一段话，" * 30 + "结束。\n最后一行。"
    pieces = split_text(text, 200, utf8_len)
    assert rejoined(pieces) == re.sub(r"\n", "", text)
    assert all(piece in text for piece in pieces)


def test_a_long_run_without_punctuation_is_cut_between_latin_words():
    text = " ".join(["BM261122K7M4Q9XZ"] * 30)
    head, rest = cut(text, 100)
    assert head.endswith(" ") and head + rest == text


def test_the_first_half_of_the_room_is_filled_before_an_early_line_break():
    text = "请确认：\n描述：" + "油烟很大，噪音也大。" * 100
    head, _ = cut(text, 2000, utf8_len)
    assert utf8_len(head) > 1800 and head.endswith("。")


def test_worst_acceptable_break_can_be_limited():
    head, rest = cut("没有标点的一大段文字" * 10, 40, utf8_len, worst=SENTENCE)
    assert (head, rest) == ("", "没有标点的一大段文字" * 10)
