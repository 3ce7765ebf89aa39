"""Reading what citizens answer to a yes/no question."""

from __future__ import annotations

import re
from typing import Optional

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
