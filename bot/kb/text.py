"""Chinese text analysis for retrieval: normalisation, synonyms, jieba words and character n-grams.

Questions and entries go through the same `features()` so that synonyms, full-width characters and
colloquial variants meet on one canonical form. Character bigrams and unigrams sit next to the words
so a typo or an unusual segmentation still shares most features with the intended question.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Dict, List

import yaml

from bot.hotline_jieba import hotline_jieba

SYNONYMS_FILE = Path(__file__).with_name("synonyms.yml")

# Relative weight of each feature kind inside an entry/question vector.
WORD_WEIGHT = 1.0
BIGRAM_WEIGHT = 0.6
UNIGRAM_WEIGHT = 0.5

STOPWORDS = frozenset(
    "的 了 吗 呢 啊 吧 呀 嘛 哦 嗯 哈 么 我 我们 我家 你 你们 您 他 她 它 他们 是 在 有 和 与 及 就 都 也 还 很 "
    "请问 你好 您好 一下 这个 那个 这 那 个 想 要 能 会 可以 怎么 怎么样 怎样 如何 什么 为什么 啥 谢谢 麻烦 问 问问 下 "
    "给 把 被 让 对 从 到 又 再 才 已经 一直 现在 今天 我们家 里 上 中 一个 没有 不 没 得 地 着 过 说 请 帮 帮忙 "
    "去 比较 应该 需要 是不是 能不能 可不可以 有没有 哪里 哪儿 哪 怎么回事 回事 好".split()
)
STOP_CHARS = frozenset(
    "的了吗呢啊吧呀嘛哦嗯哈么我你您他她它是在和与及就都也还很这那个要能会可把被让对从到又再才着过说请去哪里好有没一下想比较"
)
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
TOKEN_OK = re.compile(r"[\u4e00-\u9fff0-9a-z]")


def _basic(text: str) -> str:
    """Full-width to half-width, lower case, whitespace folded."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


@lru_cache(maxsize=1)
def synonym_table() -> Dict[str, str]:
    """Variant -> canonical form, read from synonyms.yml (first word of each group is canonical)."""
    groups = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")) or []
    table: Dict[str, str] = {}
    for group in groups:
        canonical = _basic(str(group[0]))
        for variant in group[1:]:
            table[_basic(str(variant))] = canonical
    return table


@lru_cache(maxsize=1)
def _synonym_pattern() -> re.Pattern:
    variants = sorted(synonym_table(), key=len, reverse=True)
    # Latin letters and digits match whole tokens only ("12345" is not inside "123456789").
    return re.compile(
        "|".join(
            rf"(?<![0-9a-z]){re.escape(v)}(?![0-9a-z])" if re.fullmatch(r"[0-9a-z]+", v) else re.escape(v)
            for v in variants
        )
    )


def normalise(text: str) -> str:
    """Canonical form of a text: NFKC, lower case, synonyms rewritten (longest match first, one pass)."""
    table = synonym_table()
    return _synonym_pattern().sub(lambda match: table[match.group(0)], _basic(text))


def words(text: str) -> List[str]:
    """Content words of an already normalised text (jieba, stopwords and punctuation dropped)."""
    return [w for w in hotline_jieba().lcut(text) if w not in STOPWORDS and TOKEN_OK.search(w)]


def features(text: str) -> Dict[str, float]:
    """Weighted bag of features of a text: words, CJK bigrams and CJK unigrams (sublinear tf)."""
    text = normalise(text)
    counts: Counter = Counter(f"w:{w}" for w in words(text))
    for run in CJK_RUN.findall(text):
        counts.update(f"b:{pair}" for pair in (run[i : i + 2] for i in range(len(run) - 1)) if pair not in STOPWORDS)
        counts.update(f"u:{char}" for char in run if char not in STOP_CHARS)
    weights = {"w": WORD_WEIGHT, "b": BIGRAM_WEIGHT, "u": UNIGRAM_WEIGHT}
    return {name: (1.0 + math.log(tf)) * weights[name[0]] for name, tf in counts.items()}
