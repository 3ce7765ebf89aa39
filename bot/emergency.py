"""Deterministic emergency detection: checked before anything else the assistant does.

A hotline must never answer "起火了" with a form. These patterns are deliberately broad; a false alarm
costs one extra sentence, a miss can cost a life. The advice texts live in domain.yml as
`utter_emergency_<kind>` responses.
"""

from __future__ import annotations

import re
from typing import Optional

# Order matters: gas before fire (a gas leak is not yet a fire), traffic before medical.
_PATTERNS = (
    (
        "gas",
        r"(煤气|燃气|天然气|液化气|瓦斯)(泄露|泄漏|漏了|漏气|外泄|味|味道|的味)|闻到.{0,4}(煤气|燃气|天然气)|漏(煤气|燃气|天然气)",
    ),
    ("fire", r"着火|起火|失火|火灾|大火|烧起来|冒浓烟|冒黑烟|火警|爆炸"),
    ("traffic", r"车祸|撞车|追尾|交通事故|被车撞|撞人|翻车"),
    (
        "crime",
        r"抢劫|打劫|持刀|拿刀|砍人|杀人|打人|被打|殴打|家暴|绑架|强奸|性侵|入室盗窃|有人撬门|小偷正在|跟踪我|威胁要杀|报警",
    ),
    (
        "medical",
        r"晕倒|昏倒|昏迷|不省人事|心脏病|心梗|脑梗|中风|大出血|流了很多血|呼吸困难|喘不上气|抽搐|休克|中毒|喝农药|吃了安眠药|想自杀|要自杀|轻生|跳楼|救护车|急救",
    ),
)
_COMPILED = tuple((kind, re.compile(pattern)) for kind, pattern in _PATTERNS)

KINDS = tuple(kind for kind, _ in _PATTERNS)


def detect(text: Optional[str]) -> Optional[str]:
    """Returns the emergency kind (gas, fire, traffic, crime, medical) found in `text`, or None."""
    if not text:
        return None
    for kind, pattern in _COMPILED:
        if pattern.search(text):
            return kind
    return None
