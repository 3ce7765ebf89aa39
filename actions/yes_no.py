"""Pure functions that check and normalise what citizens type (phones, ticket numbers, yes/no)."""
from __future__ import annotations

import re
from typing import Optional

_FULLWIDTH = str.maketrans("０１２３４５６７８９－＋", "0123456789-+")
_JOINERS = re.compile(r"(?<=\d)[\s\-—–]+(?=\d)")
_DIGIT_RUN = re.compile(r"\+?\d+")
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{9,11}")  # area code (3-4 digits incl. the 0) + 7-8 digit number

TICKET_NUMBER = re.compile(r"BM\d{6}[0-9A-HJKMNP-TV-Z]{8}")

PHONE_HELP = (
    "这个号码好像不太对。手机号是以1开头的11位数字；座机请带上区号，例如 022-23456789。"
    "请再输入一次联系电话。"
)


def parse_phone(text: Optional[str]) -> Optional[str]:
    """Returns the digits of the one valid mainland phone number in `text`, or None.

    Accepts spaces or dashes between digits, full-width digits and a +86/86 prefix. Text with a
    malformed number (wrong length or prefix) is rejected rather than guessed at.
    """
    if not text:
        return None
    joined = _JOINERS.sub("", text.translate(_FULLWIDTH))
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


def parse_ticket_number(text: Optional[str]) -> Optional[str]:
    """Finds a ticket number in `text` (any case, spaces allowed) and returns it upper-case."""
    if not text:
        return None
    compact = re.sub(r"[\s\-]", "", text.translate(_FULLWIDTH)).upper()
    match = TICKET_NUMBER.search(compact)
    return match.group(0) if match else None


_NEGATIVE = re.compile(r"不需要|不用|不要|不必|无需|没必要|否|无所谓|不保密|可以公开|公开")
_POSITIVE = re.compile(r"需要|要|保密|匿名|是|好|对|嗯|可以|行|确认")


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


def mask_phone(phone: Optional[str]) -> str:
    """138****5678 style masking for lists and logs."""
    if not phone or len(phone) < 7:
        return phone or ""
    return f"{phone[:3]}****{phone[-4:]}"
