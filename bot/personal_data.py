"""Citizens' personal data: reading phone numbers as citizens type them, and masking phones, ID-card
numbers and addresses wherever conversations or tickets are listed or logged.

Citizens type numbers in many ways: full-width digits (１３８…), spaces or dashes inside them
("138 1234 5678", "010-1234 5678"), a +86 prefix, landlines with their area code, and often a phone and
an ID-card number in the same message. Both reading and masking first normalise the text (NFKC, so
full-width digits, ＋ and full-width spaces become ASCII) and recognise ID-card numbers before phones, so
a piece of an ID number is never taken for a phone number.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, List, Optional, Tuple

FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９－＋", "0123456789-+")
_DASHES = str.maketrans({"－": "-", "—": "-", "–": "-", "‐": "-", "‑": "-", "―": "-"})
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{9,11}")  # area code (3-4 digits incl. the 0) + 7-8 digit number
# a resident ID number: 6-digit region, birth date yyyymmdd, 3-digit sequence, check digit or X
ID_CARD = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]")
MIN_PHONE_RUN = 5  # shorter digit groups (house numbers, counts) are not phone candidates
MAX_SCAN = 20_000  # characters of a message that are looked at (bounded work for huge inputs)

# a "number as typed": digits (ASCII or full-width), single spaces or dashes between them, an ID's X
_DIGIT = r"[0-9０-９]"
_SEP = r"(?:[ \t\u3000]{1,2}|[\-－—–‐‑―])"
_NUMBER_RUN = re.compile(
    rf"(?<![0-9０-９A-Za-z])(?:(?:\+|＋)\s?)?{_DIGIT}(?:{_SEP}?{_DIGIT})*(?:{_SEP}?[Xx])?(?![0-9０-９A-Za-z])"
)
# the detailed part of an address: numbers before 号 / 楼 / 栋 / 单元 / 室 ... (road and district stay)
_ADDRESS_NUMBER = re.compile(
    r"[0-9０-９一二三四五六七八九十百零〇两]+(?:[\-－][0-9０-９]+)*"
    r"(?=\s*(?:号楼|号院|号|栋|幢|座|单元|楼|层|室|户|门|弄|巷|排|组))"
)


def normalise(text: str) -> str:
    """NFKC (full-width digits, letters, ＋ and spaces become ASCII) and one kind of dash."""
    return unicodedata.normalize("NFKC", text).translate(_DASHES)


def _digits(run: str) -> str:
    return re.sub(r"[^0-9Xx]", "", normalise(run)).upper()


def _strip_country_code(digits: str) -> str:
    if digits.startswith("0086") and len(digits) in (15, 16):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def _is_phone(digits: str) -> bool:
    return bool(MOBILE.fullmatch(digits) or LANDLINE.fullmatch(digits))


def _pieces(run: str) -> List[str]:
    """A joined run's groups as typed (split at its spaces and dashes)."""
    return [piece for piece in re.split(_SEP, normalise(run)) if piece]


def _phones_and_others(text: str) -> Tuple[List[str], List[str]]:
    """(valid phone numbers, other digit groups of at least MIN_PHONE_RUN digits) in `text`; ID-card
    numbers are neither."""
    phones: List[str] = []
    others: List[str] = []
    for match in _NUMBER_RUN.finditer(text[:MAX_SCAN]):
        whole = _strip_country_code(_digits(match.group(0)))
        if ID_CARD.fullmatch(whole):
            continue
        if _is_phone(whole):
            phones.append(whole)
            continue
        if sum(c.isdigit() for c in whole) < MIN_PHONE_RUN:
            continue
        # "13700001111 110105199001011234": the groups as typed, each on its own
        groups = [_strip_country_code(_digits(piece)) for piece in _pieces(match.group(0))]
        groups = [g for g in groups if len(g) >= MIN_PHONE_RUN and not ID_CARD.fullmatch(g)]
        if len(groups) > 1 and all(_is_phone(g) for g in groups):
            phones.extend(groups)
        elif len(groups) > 1 and any(_is_phone(g) for g in groups) and ID_CARD.search(whole):
            phones.extend(g for g in groups if _is_phone(g))
            others.extend(g for g in groups if not _is_phone(g))
        elif ID_CARD.search(whole) and _is_phone(_strip_country_code(ID_CARD.sub("", whole))):
            phones.append(_strip_country_code(ID_CARD.sub("", whole)))
        else:
            others.append(whole)
    return phones, others


def parse_phone(text: Optional[str]) -> Optional[str]:
    """Returns the digits of the one valid mainland phone number in `text`, or None.

    Accepts spaces or dashes between digits, full-width digits and a +86/86 prefix; ID-card numbers and
    short numbers (house numbers) beside it are ignored. Text with two phone numbers, or with a
    malformed number (wrong length or prefix), is rejected rather than guessed at.
    """
    if not text or not isinstance(text, str):
        return None
    phones, others = _phones_and_others(text)
    if len(set(phones)) != 1 or others:
        return None
    return phones[0]


def phone_from(text: Optional[str], *candidates: Optional[str]) -> Optional[str]:
    """The phone number of a message: the one in its whole `text` when there is one; else the first of
    `candidates` (extracted entities, a slot value) that is a valid number and not a piece of an ID-card
    number or of a longer number in the text."""
    phone = parse_phone(text)
    if phone:
        return phone
    compact = _digits(text or "")
    long_numbers = ID_CARD.findall(compact)
    for candidate in candidates:
        parsed = parse_phone(candidate)
        if parsed and not any(parsed in number for number in long_numbers):
            return parsed
    return None


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


def mask_address(address: Any) -> Any:
    """An address with its house, building, unit and room numbers starred: 幸福路**号*单元***室."""
    if not isinstance(address, str):
        return address
    return _ADDRESS_NUMBER.sub(lambda match: "*" * len(match.group(0)), address)


def _mask_run(run: str) -> str:
    """One number as typed, masked: an ID number, a phone, or (a long number we cannot tell) its middle."""
    digits = _digits(run)
    if sum(c.isdigit() for c in digits) < 7:
        return run
    kept_x = run.rstrip()[-1] if run.rstrip()[-1:] in ("x", "X") else None
    if ID_CARD.fullmatch(digits):
        masked = mask_id_card(digits)
        return masked[:-1] + kept_x if kept_x else masked
    national = _strip_country_code(digits)
    if _is_phone(national):
        return mask_phone(national)
    pieces = _pieces(run)
    if len(pieces) > 1 and any(ID_CARD.fullmatch(_digits(p)) or _is_phone(_digits(p)) for p in pieces):
        return " ".join(_mask_run(piece) for piece in pieces)
    return mask_phone(digits)


def mask_text(text: Any) -> Any:
    """Masks every ID-card and phone number (and any other number of 7+ digits) inside free text, as the
    citizen typed it: full-width, spaced or dashed; other values pass unchanged."""
    if not isinstance(text, str):
        return text
    return _NUMBER_RUN.sub(lambda match: _mask_run(match.group(0)), text)


def mask_deep(value: Any, key: Optional[str] = None) -> Any:
    """mask_text applied to every string inside dicts and lists; values of `address` keys lose their
    house and room numbers too."""
    if isinstance(value, dict):
        return {k: mask_deep(item, k if isinstance(k, str) else None) for k, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_deep(item, key) for item in value]
    if key in ADDRESS_KEYS:
        return mask_address(mask_text(value))
    return mask_text(value)


ADDRESS_KEYS = ("address", "住址", "地址")
