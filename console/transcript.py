"""The conversation as the agent reads it, built from Rasa's tracker events."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

SYSTEM_EVENTS = {"pause": "机器人已暂停，等待人工客服", "resume": "机器人已恢复应答"}


def _time(timestamp: Optional[float], timezone: str) -> str:
    return dt.datetime.fromtimestamp(timestamp, ZoneInfo(timezone)).strftime("%H:%M:%S") if timestamp else ""


def _user_text(event: Dict[str, Any]) -> str:
    text = (event.get("text") or "").strip()
    if text.startswith("/"):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or text[1:]
        return f"〔点击按钮：{intent}〕"
    return text


def turns(events: List[Dict[str, Any]], timezone: str = "Asia/Shanghai") -> List[Dict[str, Any]]:
    """User, bot, agent and system turns in order: {role, text, time, agent?, buttons?}; times on the
    hotline's clock (`timezone`)."""
    result: List[Dict[str, Any]] = []
    paused = False
    for event in events:
        kind = event.get("event")
        when = _time(event.get("timestamp"), timezone)
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            if intent.startswith("EXTERNAL_"):
                continue
            result.append({"role": "user", "text": _user_text(event), "time": when, "intent": intent})
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            agent = metadata.get("agent")
            if metadata.get("handoff") and not agent:  # the hotline's notices (queue places, tickets, hand-back)
                result.append({"role": "system", "text": event.get("text") or "", "time": when})
                continue
            buttons = [b.get("title", "") for b in ((event.get("data") or {}).get("buttons") or [])]
            turn = {"role": "agent" if agent else "bot", "text": event.get("text") or "", "time": when}
            if agent:
                turn["agent"] = agent
            if buttons:
                turn["buttons"] = buttons
            result.append(turn)
        elif kind in SYSTEM_EVENTS and paused != (kind == "pause"):  # a repeated pause says nothing new
            paused = kind == "pause"
            result.append({"role": "system", "text": SYSTEM_EVENTS[kind], "time": when})
    return result
