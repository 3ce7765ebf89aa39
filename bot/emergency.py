"""Deterministic emergency detection: checked before anything else the assistant does.

A hotline must never answer "起火了" with a form, and must not answer a letter about a blocked fire lane
with "请立即拨打119" either. `detect` finds an emergency that is happening: a danger word (the patterns
below) that is not part of a compound (跳楼机, 火锅, 火灾隐患, 报警器…), not in a clause that is
hypothetical or preventive (一旦/万一/如果/以免/隐患/可能…), past (去年/曾经/多次…), denied (没有着火) or about
a fire lane, and, in a long letter, said with a sign that it is happening now (…了, 正在, 突然, 救命…).
Short messages need no such sign: "有人持刀抢劫" is caught as it is. `mentioned` finds any danger word:
the assistant then takes the letter up as a request and adds one line of safety advice.
The advice texts live in domain/core.yml as `utter_emergency_<kind>` responses.
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

# Words that contain a danger word but name something else: masked before matching.
_COMPOUNDS = re.compile(
    r"跳楼机|跳楼价|跳楼大甩卖|火锅|火警电话|火灾报警|报警器|报警电话|报警装置|报警系统|烟雾报警|防火|"
    r"急救中心|急救站|急救电话|急救知识|急救培训|急救箱|救护车通道|爆炸性|爆炸式|打人事|食物中毒险|中风险|趁火打劫|黑救护车"
)
# A clause with one of these speaks of a danger that is not happening now.
_NOT_NOW = re.compile(
    r"一旦|万一|如果|假如|假设|倘若|若是|要是|若有|如若|如遇|发生时|的话|以免|以防|防止|避免|预防|防范|谨防|"
    r"隐患|风险|危险性|可能|恐怕|容易|易引发|易发生|引发|后果|迟早|难免|会不会|是否|"
    r"应急|演练|宣传|培训|知识|常识|预案|"
    r"曾经|去年|前年|当年|那年|那次|上次|以前|之前|过去|早年|多年前|几年前|年前|个月前|多次|屡次|每次|经常|"
    r"\d+年|[一二三四五六七八九十]+年前|"
    r"消防通道|消防车道|生命通道|堵塞|占用|占道|"
    r"新闻|报道|电视|电影|小说|游戏|据说|听说"
)
# Right before the danger word: denied (没有着火) or a possible consequence (会导致…晕倒, 甚至爆炸).
_BEFORE = re.compile(r"(没有|没|不是|并非|并未|未曾|不会|不要|别|防)(发生)?$|(会|将|或|甚至|以致|导致|引起)[^了]{0,6}$")
# A sign that it is happening now (needed in long messages, which are mostly letters).
_NOW = re.compile(r"了|啦|正在|现在|突然|刚刚|刚才|马上|赶紧|赶快|快来|快点|救命|救救|求救|紧急|危险！|快不行")
# Danger words that are also chronic conditions: they need a sign of now even in a short message.
_CHRONIC = re.compile(r"心脏病|心梗|脑梗|中风|中毒|抽搐|昏迷")
_CHRONIC_NOW = re.compile(r"发作|犯了|突发|突然|了|正在|快不行|昏过去")
_FIRE_LANE = re.compile(r"消防通道|消防车道|生命通道|消防车.{0,4}进不")
# Words of a letter or a request (a complaint, a report, a question about a past event): such a message
# is an emergency only where the clause says it is urgent now.
_LETTER = re.compile(
    r"尊敬|领导|书记|市长|举报|投诉|反映|控告|相关部门|有关部门|希望|建议|请求|恳请|隐患|为何|为什么|公道|"
    r"受害者|未果|至今|事后|鉴定|资质|频发|多发|高发|减少|不闻不问|整改|处理"
)
_URGENT = re.compile(r"正在|现在.{0,3}(着火|起火|冒烟|泄漏|晕倒|昏迷|有人)|救命|快来|赶紧|赶快|马上|快点|快叫")
_CLAUSE = re.compile(r"[^，。！？；,.!?;\n、：:]+")
LONG = 60  # characters: from this length a message is read as a letter


def _masked(text: str) -> str:
    return _COMPOUNDS.sub(lambda m: "□" * len(m.group(0)), text)


def mentioned(text: Optional[str]) -> Optional[str]:
    """The kind of danger a text speaks of at all (happening or not), or None."""
    if not text:
        return None
    masked = _masked(text)
    for kind, pattern in _COMPILED:
        if pattern.search(masked):
            return kind
    return None


def _live(clause: str, match: re.Match, long_text: bool) -> bool:
    """Whether the danger word `match` in `clause` is happening now."""
    if _NOT_NOW.search(clause) or _BEFORE.search(clause[: match.start()]):
        return False
    if _CHRONIC.fullmatch(match.group(0)) and not _CHRONIC_NOW.search(clause):
        return False
    return not long_text or bool(_NOW.search(clause))


def detect(text: Optional[str]) -> Optional[str]:
    """Returns the kind (gas, fire, traffic, crime, medical) of an emergency happening now, or None."""
    if not text:
        return None
    masked = _masked(text)
    long_text = len(text.strip()) >= LONG
    clauses = [clause.group(0) for clause in _CLAUSE.finditer(masked)]
    fire_lane = bool(_FIRE_LANE.search(masked))
    letter = bool(_LETTER.search(masked))
    for kind, pattern in _COMPILED:
        if kind == "fire" and fire_lane:
            continue  # a complaint about a blocked fire lane speaks of fires that could not be fought
        for clause in clauses:
            for match in pattern.finditer(clause):
                if _live(clause, match, long_text) and (not letter or _URGENT.search(clause)):
                    return kind
    return None
