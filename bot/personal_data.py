"""Citizens' personal data: reading phone numbers as citizens type them, and masking phones and ID-card
numbers wherever conversations or tickets are listed."""

from __future__ import annotations

import re
from typing import Any, Optional

FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９－＋", "0123456789-+")
_JOINERS = re.compile(r"(?<=\d)[\s\-—–]+(?=\d)")
_DIGIT_RUN = re.compile(r"\+?\d+")
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{9,11}")  # area code (3-4 digits incl. the 0) + 7-8 digit number
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s\-]?)?(1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}|0\d{2,3}[\s\-]?\d{7,8})(?!\d)")


def parse_phone(text: Optional[str]) -> Optional[str]:
    """Returns the digits of the one valid mainland phone number in `text`, or None.

    Accepts spaces or dashes between digits, full-width digits and a +86/86 prefix. Text with a
    malformed number (wrong length or prefix) is rejected rather than guessed at.
    """
    if not text:
        return None
    joined = _JOINERS.sub("", text.translate(FULLWIDTH_DIGITS))
    runs = [run.lstrip("+") for run in _DIGIT_RUN.findall(joined)]
    candidates = [run[2:] if run.startswith("86") and len(run) == 13 else run for run in runs]
    valid = [c for c in candidates if MOBILE.fullmatch(c) or LANDLINE.fullmatch(c)]
    if len(valid) != 1 or len(candidates) != 1:
        return None
    return valid[0]


def same_phone(a: Optional[str], b: Optional[str]) -> bool:
    """True when two phone numbers written in any accepted way are the same number."""
    pa, pb = parse_phone(a), parse_phone(b)
    return pa is not None and pa == pb


def mask_phone(phone: Optional[str]) -> str:
    """138****5678 style masking for lists and logs."""
    if not phone or len(phone) < 7:
        return phone or ""
    return f"{phone[:3]}****{phone[-4:]}"


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
