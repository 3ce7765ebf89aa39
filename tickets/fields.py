"""Checks request bodies and query strings of the ticket API; every error message names the field."""

from __future__ import annotations

import re
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from bot.categories import CATEGORIES
from bot.personal_data import parse_phone
from bot.ticket_contract import RATINGS, STATUSES

MAX_LENGTH = {
    "client_ref": 64,
    "subcategory": 64,
    "department": 128,
    "description": 4000,
    "district": 64,
    "address": 256,
    "occurred_at": 128,
    "name": 64,
    "channel": 32,
    "sender_id": 128,
    "note": 1000,
    "comment": 1000,
    "changed_by": 64,
}
EDITABLE = (
    "category",
    "subcategory",
    "department",
    "description",
    "district",
    "address",
    "occurred_at",
    "name",
    "phone",
    "confidential",
)
CREATABLE = EDITABLE + ("client_ref", "confidence", "channel", "sender_id")
REQUIRED = ("description", "phone", "category")
MAX_PAGE = 200


class Invalid(ValueError):
    """The request is not acceptable; the message says which field and why."""


# control characters other than tab and line breaks, and lone surrogates: PostgreSQL refuses NUL, and
# none of them belongs in a ticket
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _text(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string")
    value = value.strip()
    if len(value) > MAX_LENGTH[name]:
        raise Invalid(f"{name} is longer than {MAX_LENGTH[name]} characters")
    if _UNPRINTABLE.search(value):
        raise Invalid(f"{name} contains control characters")
    return value or None


def _value(name: str, value: Any) -> Any:
    """One cleaned field of a ticket."""
    if name == "phone":
        phone = parse_phone(value) if isinstance(value, str) else None
        if value is not None and phone is None:
            raise Invalid("phone must be a valid mainland mobile (11 digits) or landline number with area code")
        return phone
    if name == "category":
        if value is not None and value not in CATEGORIES:
            raise Invalid(f"category must be one of: {', '.join(CATEGORIES)}")
        return value
    if name == "confidential":
        if not isinstance(value, bool):
            raise Invalid("confidential must be true or false")
        return value
    if name == "confidence":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise Invalid("confidence must be a number between 0 and 1")
        return float(value)
    return _text(name, value)


def _object(body: Any) -> Dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object")
    return body


def _known(body: Dict[str, Any], allowed: Tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise Invalid(f"unknown or read-only field: {', '.join(unknown)}")


def new_ticket(body: Any) -> Dict[str, Any]:
    """The fields of a ticket to create, cleaned; description, phone and category are required."""
    body = _object(body)
    _known(body, CREATABLE)
    fields = {name: _value(name, body[name]) for name in CREATABLE if name in body}
    fields.setdefault("confidential", False)
    for name in REQUIRED:
        if not fields.get(name):
            raise Invalid(f"{name} is required")
    return fields


def edits(body: Any) -> Dict[str, Any]:
    """Cleaned editable fields of a PATCH; required fields cannot be emptied."""
    body = _object(body)
    _known(body, EDITABLE)
    if not body:
        raise Invalid(f"nothing to change: send at least one of {', '.join(EDITABLE)}")
    fields = {name: _value(name, value) for name, value in body.items()}
    for name in REQUIRED:
        if name in fields and not fields[name]:
            raise Invalid(f"{name} is required and cannot be empty")
    return fields


def edit_request(body: Any) -> Tuple[Dict[str, Any], Optional[str]]:
    """(cleaned editable fields, who made the change) of a PATCH; `changed_by` (optional) names the dispatcher
    or agent, stored with a category correction."""
    body = _object(body)
    changed_by = _text("changed_by", body.get("changed_by"))
    return edits({name: value for name, value in body.items() if name != "changed_by"}), changed_by


def correction_days(query: Mapping[str, str]) -> int:
    """The window of GET /corrections, in days (default 30)."""
    return _count(query, "days", 30, 1, 366)


def status_change(body: Any) -> Tuple[str, Optional[str]]:
    """(status, note) of a status change."""
    return _choice_with_text(body, "status", STATUSES, "note")


def rating(body: Any) -> Tuple[str, Optional[str]]:
    """(rating, comment) of a 好差评."""
    return _choice_with_text(body, "rating", RATINGS, "comment")


def _choice_with_text(body: Any, field: str, choices: Sequence[str], text_field: str) -> Tuple[str, Optional[str]]:
    """A body {field: one of choices, text_field: optional text}, checked; nothing else allowed."""
    body = _object(body)
    _known(body, (field, text_field))
    value = body.get(field)
    if value not in choices:
        raise Invalid(f"{field} must be one of: {', '.join(choices)}")
    return value, _text(text_field, body.get(text_field))


def _count(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        number = int(raw)
    except ValueError:
        raise Invalid(f"{name} must be an integer") from None
    if not low <= number <= high:
        raise Invalid(f"{name} must be between {low} and {high}")
    return number


def list_filters(query: Mapping[str, str]) -> Dict[str, Any]:
    """Filters and paging of GET /tickets."""
    filters: Dict[str, Any] = {
        "limit": _count(query, "limit", 50, 1, MAX_PAGE),
        "offset": _count(query, "offset", 0, 0, 10**9),
    }
    if query.get("phone"):
        filters["phone"] = _value("phone", query["phone"])
    if query.get("sender_id"):
        filters["sender_id"] = _text("sender_id", query["sender_id"])
    if query.get("status"):
        if query["status"] not in STATUSES:
            raise Invalid(f"status must be one of: {', '.join(STATUSES)}")
        filters["status"] = query["status"]
    return filters
