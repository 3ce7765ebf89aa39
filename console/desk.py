"""Agent assist and desk helpers: what the citizen asked, the pre-filled ticket (智能填单), conversations
that asked for a human but never reached the queue, search, and times in the hotline's time zone."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

from bot.categories import CATEGORIES
from bot.handoff.summary import citizen_texts
from bot.personal_data import parse_phone
from bot.places import find_district

# Rasa's Redis tracker store (endpoints.yml: key_prefix bianmin): one JSON dialogue per conversation.
TRACKER_KEYS = "bianmin:tracker:*"
TRACKER_PREFIX = "bianmin:tracker:"
SCAN_LIMIT = 2000  # conversations read per stuck/search request (a day of a busy hotline is well below)
STUCK_WINDOW = 3600.0  # a request for a human older than this is no longer "waiting" (Rasa's session)
TIME_WORDS = re.compile(
    r"((?:已经|已)?[一二三四五六七八九十两几半\d]+(?:天|周|个?星期|个?月|年)了?|今天|昨天|前天|昨晚|今晚|今早|上午|下午|晚上|凌晨|上周|本周|这周|最近|每天|每晚|"
    r"\d{1,2}月\d{1,2}[日号]|\d{1,2}[点:：]\d{0,2}分?|周[一二三四五六日天]|星期[一二三四五六日天])[上下中午晚早凌晨点半钟\d一二三四五六七八九十两:：时分号日]{0,6}"
)
ADDRESS_WORDS = re.compile(
    r"[\u4e00-\u9fa5A-Za-z0-9]{2,10}?(?:小区|大道|路(?![灯口面边上])|街(?!道办)|巷|村|社区|广场|花园|公寓|大厦)"
    r"[0-9一二三四五六七八九十东西南北门号楼栋单元期座室A-Za-z-]{0,10}"
)
PLACE_END = re.compile(r"[，。,.!！?？;；\s]")


def find_address(words: str) -> Optional[str]:
    """The place the citizen named: what follows a district's name, else the last "…小区/路/街…" phrase."""
    from bot.places import district_names

    for written in sorted(district_names(), key=len, reverse=True):
        at = words.rfind(written)
        if written and at >= 0:
            rest = PLACE_END.split(words[at + len(written) :], 1)[0]
            if len(rest) >= 2:
                return written + rest[:24]
    found = list(ADDRESS_WORDS.finditer(words))
    return found[-1].group(0) if found else None


def ticket_draft(
    events: Sequence[Mapping[str, Any]], slots: Mapping[str, Any], summary: Mapping[str, Any]
) -> Dict[str, Any]:
    """The ticket as the agent would file it, from the slots first and the citizen's words second."""
    texts = citizen_texts(events)
    words = "\n".join(texts)
    category = slots.get("category") or slots.get("predicted_category") or summary.get("category")
    if category not in CATEGORIES:
        category = None
    department = slots.get("department")
    if not department and category:
        try:
            from bot.routing import department_for

            department = department_for(category, slots.get("subcategory"))
        except Exception:  # the department table is a convenience here
            department = None
    address = slots.get("address")
    if not address:
        address = find_address(words)
    occurred = slots.get("occurred_at")
    if not occurred:
        found = TIME_WORDS.search(words)
        occurred = found.group(0) if found else None
    phone = slots.get("phone")
    if not phone:
        phone = next((p for p in (parse_phone(text) for text in reversed(texts)) if p), None)
    return {
        "category": category,
        "department": department,
        "description": slots.get("description") or "；".join(texts[-3:]) or None,
        "district": slots.get("district") or find_district(words),
        "address": address,
        "occurred_at": occurred,
        "name": slots.get("person_name"),
        "phone": phone,
    }


def local_time(timestamp: Optional[float], timezone: str, with_date: bool = False) -> str:
    """A Unix time as the hotline's clock shows it (HH:MM:SS, or MM-DD HH:MM)."""
    if not timestamp:
        return ""
    moment = dt.datetime.fromtimestamp(float(timestamp), ZoneInfo(timezone))
    return moment.strftime("%m-%d %H:%M" if with_date else "%H:%M:%S")


def local_iso(text: Optional[str], timezone: str) -> Optional[str]:
    """An ISO time (any offset) as "YYYY-MM-DD HH:MM" in the hotline's time zone."""
    if not text:
        return text
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


async def trackers(redis: Any, limit: int = SCAN_LIMIT) -> Dict[str, List[Dict[str, Any]]]:
    """conversation id -> events, read from Rasa's Redis tracker store (up to `limit` conversations)."""
    keys: List[str] = []
    async for key in redis.scan_iter(match=TRACKER_KEYS, count=500):
        keys.append(key)
        if len(keys) >= limit:
            break
    found: Dict[str, List[Dict[str, Any]]] = {}
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        for key, raw in zip(chunk, await redis.mget(chunk)):
            try:
                found[key[len(TRACKER_PREFIX) :]] = list((json.loads(raw) or {}).get("events") or [])
            except (TypeError, ValueError):
                continue
    return found


def _intent(event: Mapping[str, Any]) -> str:
    return str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")


def asked_for_human_at(events: Sequence[Mapping[str, Any]]) -> Optional[float]:
    """When the citizen last asked for a person, if the bot was not paused and no agent came since."""
    asked: Optional[float] = None
    for event in events:
        kind = event.get("event")
        if kind == "user" and _intent(event) == "request_human":
            asked = float(event.get("timestamp") or 0)
        elif kind == "pause" or (kind == "bot" and (event.get("metadata") or {}).get("agent")):
            asked = None
    return asked


def last_time(events: Sequence[Mapping[str, Any]]) -> float:
    return max((float(e.get("timestamp") or 0) for e in events), default=0.0)


def row(conversation_id: str, events: Sequence[Mapping[str, Any]], timezone: str, **extra: Any) -> Dict[str, Any]:
    """A list row known by what the citizen asked and when, not only by its id."""
    texts = citizen_texts(events)
    channel = next((e.get("input_channel") for e in reversed(events) if e.get("event") == "user"), None)
    return {
        "id": conversation_id,
        "question": texts[-1] if texts else "",
        "channel": channel,
        "last": local_time(last_time(events), timezone, with_date=True),
        **extra,
    }


def matches(events: Sequence[Mapping[str, Any]], query: str) -> bool:
    """True when the citizen's words or the bot's collected phone number contain `query`."""
    digits = re.sub(r"\D", "", query)
    for event in events:
        text = str(event.get("text") or "")
        if query in text or (len(digits) >= 4 and digits in re.sub(r"\D", "", text)):
            return True
        if (
            event.get("event") == "slot"
            and event.get("name") == "phone"
            and digits
            and digits in str(event.get("value") or "")
        ):
            return True
    return False
