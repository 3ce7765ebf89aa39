"""Turning Rasa bot messages into plain text for text-only channels (WeChat): buttons as numbered choices."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

Button = Tuple[str, str]  # (title, payload)

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def buttons_of(message: Dict[str, Any]) -> List[Button]:
    """The (title, payload) buttons or quick replies of a Rasa bot message."""
    raw = message.get("buttons") or message.get("quick_replies") or []
    return [(str(b.get("title", "")), str(b.get("payload", b.get("title", "")))) for b in raw if isinstance(b, dict)]


def message_text(message: Dict[str, Any]) -> str:
    """The text of a Rasa bot message without its buttons (an image becomes its link)."""
    parts = []
    if message.get("text"):
        parts.append(str(message["text"]).strip())
    if message.get("image"):
        parts.append(f"图片：{message['image']}")
    custom = message.get("custom")
    if isinstance(custom, dict) and custom.get("text"):
        parts.append(str(custom["text"]).strip())
    return "\n".join(part for part in parts if part)


def render_message(message: Dict[str, Any], first_number: int = 1) -> Tuple[str, List[Button]]:
    """Text of one bot message; its buttons become numbered choices ("回复1：…") starting at `first_number`."""
    parts = [message_text(message)]
    buttons = buttons_of(message)
    if buttons:
        parts.append("\n".join(f"回复{first_number + i}：{title}" for i, (title, _) in enumerate(buttons)))
    return "\n".join(part for part in parts if part), buttons


def choice_number(text: Optional[str]) -> Optional[int]:
    """The number a user typed to pick a choice ("2", "２", " 2 "), or None when the text is not a number."""
    candidate = (text or "").strip().translate(_FULL_WIDTH_DIGITS)
    return int(candidate) if re.fullmatch(r"\d{1,2}", candidate) else None
