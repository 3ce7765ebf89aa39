"""Reading what citizens answer to a form's question: yes/no, an acknowledgement, a question of their own,
"I only want to ask", "wait, one more thing", a time or a place, and corrections ("电话改成…")."""

from __future__ import annotations

import re
from typing import Optional, Tuple

_NEGATIVE = re.compile(r"不需要|不用|不要|不必|无需|没必要|否|无所谓|不保密|可以公开|公开")
_POSITIVE = re.compile(r"需要|要|保密|匿名|是|好|对|嗯|可以|行|确认")

# "嗯", "好的", "ok", "人呢": an acknowledgement or a nudge, never the answer to an open question
_ACKNOWLEDGEMENT = re.compile(
    r"^(嗯+|恩+|哦+|噢+|喔+|啊+|额+|呃+|好+|好的|好吧|好滴|行+|行吧|可以|ok|okay|收到|知道了|明白了?|了解|对+|是的?|"
    r"没问题|没有了|没了|在吗|在不在|人呢|有人吗|随便|[?？!！。.…~～]+|\W*)[。！!~～，,.\s]*$",
    re.IGNORECASE,
)
# a question of the citizen's own ("你们几点下班？", "请问保密是什么意思")
_QUESTION = re.compile(
    r"[?？]|[吗嘛么呢][。！!~\s]*$|^(请问|问一下|问下|想问|我想问|咨询一下)|你们|您们|你是|能不能|可不可以|是不是|"
    r"怎么办|怎么弄|怎么查|怎么样|为什么|为啥|如何|咋办|咋整"
)
_ONLY_ASKING = re.compile(
    r"不是(要|想)?(投诉|举报|反映|登记|报修)|只是(想)?(问问|问一下|咨询|了解)|"
    r"就(是)?(想)?(问问|问一下|咨询一下)|只想(问|咨询|了解)|随便问问|先咨询一下"
)
_ADD_MORE = re.compile(r"^(等一?下|等等|稍等|慢着|先别|别急)|补充|再加|还有一(点|件|个|句)|另外还有")
_SKIP = re.compile(r"^(跳过|不清楚|不知道|不记得|记不清|忘了|没有|无|不确定|略|说不好|说不清)")
_TIME = re.compile(
    r"\d|[零一二三四五六七八九十两半几]+个?(天|日|号|月|年|周|星期|礼拜|小时|钟头|点|分钟)|[年月日号点]|"
    r"[昨今明前后]天|[去今前]年|上午|下午|中午|早上|早晨|晚上|夜里|夜间|半夜|凌晨|傍晚|白天|每天|每晚|天天|经常|"
    r"一直|总是|最近|近来|近期|这几天|这段时间|刚才|刚刚|现在|目前|以前|之前|以来|至今|上周|本周|这周|上个月|这个月|"
    r"周末|工作日|节假日|久|长期|持续|时候|那天|当天|当时|开始"
)
_PLACE = re.compile(
    r"路|街|道|巷|弄|胡同|号|楼|栋|幢|单元|室|层|小区|村|庄|屯|镇|乡|区|县|市|里|苑|园|院|府|城|湾|广场|大厦|中心|"
    r"商场|超市|市场|公园|学校|医院|站|桥|门口|附近|对面|旁边|路口|社区|家|工地|厂|店|馆|餐厅|车库|停车场|隔壁"
)
# corrections: a field named next to a word that says it was wrong or is to change
_CORRECTION_CUE = re.compile(
    r"说错|写错|填错|弄错|搞错|打错|输错|记错|错了|不对|改成|改为|改一下|更正|修改|换成|应该是|重新填|要改"
)
_FIELDS = (
    ("phone", re.compile(r"电话|手机|号码|联系方式")),
    ("address", re.compile(r"地址|地点|位置|门牌")),
    ("person_name", re.compile(r"名字|姓名|称呼")),
    ("occurred_at", re.compile(r"时间|日期")),
    ("description", re.compile(r"描述|内容")),
    ("category", re.compile(r"类别|分类|类型")),
)
_NEW_VALUE = re.compile(r"(改成|改为|换成|应该是|其实是|正确的是|是)[:：\s]*(?P<value>.+)$")
_AFTER_COMMA = re.compile(r"[，,。；;：:]\s*(?P<value>.+)$")


def yes_no(text: Optional[str], intent: Optional[str] = None) -> Optional[bool]:
    """Reads a yes/no answer from the intent (affirm/deny) or, failing that, from the words."""
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    if not text:
        return None
    if _NEGATIVE.search(text):
        return False
    if _POSITIVE.search(text):
        return True
    return None


def is_acknowledgement(text: str) -> bool:
    """ "嗯", "好的", "ok", "人呢", punctuation alone: not an answer to an open question."""
    return bool(_ACKNOWLEDGEMENT.match(text.strip()))


def is_question(text: str) -> bool:
    """The citizen asks something themselves."""
    return bool(_QUESTION.search(text.strip()))


def only_asking(text: str) -> bool:
    """ "我不是要投诉，只是想问问": the citizen wants an answer, not a ticket."""
    return bool(_ONLY_ASKING.search(text))


def the_question_in(text: str) -> str:
    """What is left of "我不是投诉，就想问问社保断缴有什么影响" once the "only asking" words are gone."""
    rest = _ONLY_ASKING.sub("", text)
    return re.sub(r"^[\s，,。：:！!我想就是一下]+", "", rest).strip()


def wants_to_add(text: str) -> bool:
    """ "等一下，我想再补充一点": not a yes at the confirm step."""
    return bool(_ADD_MORE.search(text.strip()))


def skipped(text: str) -> bool:
    """ "不知道", "跳过", "记不清了"."""
    return bool(_SKIP.match(text.strip()))


def says_when(text: str) -> bool:
    """The text names a time or a duration ("每天晚上10点以后", "上周五", "一个多月了")."""
    return bool(_TIME.search(text))


def says_where(text: str) -> bool:
    """The text names a place (a road, a building, a compound, "我家楼下")."""
    return len(text.strip()) >= 3 and bool(_PLACE.search(text))


def correction(text: str) -> Optional[Tuple[str, Optional[str]]]:
    """("phone", "电话改成13900001111" → the new value or None) when the citizen corrects a detail."""
    if not text or not _CORRECTION_CUE.search(text):
        return None
    field = next((name for name, words in _FIELDS if words.search(text)), None)
    if field is None:
        return None
    found = _NEW_VALUE.search(text) or _AFTER_COMMA.search(text)
    value = found.group("value").strip(" 。，,！!") if found else None
    if value and _CORRECTION_CUE.fullmatch(value):
        value = None
    return field, value or None
