"""Masking of personal data (phone and ID-card numbers) wherever the console lists conversations."""
from __future__ import annotations

import re
from typing import Any

from actions.validation import mask_phone

_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s\-]?)?(1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}|0\d{2,3}[\s\-]?\d{7,8})(?!\d)")


def mask_id_card(number: str) -> str:
    """110101********123X style masking of an 18-character resident ID number."""
    if not number or len(number) < 10:
        return number or ""
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"


def mask_text(text: Any) -> Any:
    """Masks every ID-card and phone number inside free text; other values pass unchanged."""
    if not isinstance(text, str):
        return text
    text = _ID_CARD.sub(lambda match: mask_id_card(match.group(0)), text)
    return _PHONE.sub(lambda match: mask_phone(re.sub(r"[\s\-]", "", match.group(1))), text)


def mask_deep(value: Any) -> Any:
    """mask_text applied to every string inside dicts and lists."""
    if isinstance(value, dict):
        return {key: mask_deep(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_deep(item) for item in value]
    return mask_text(value)
