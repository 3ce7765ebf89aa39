"""The ticket (工单) contract every part of the hotline shares: number format, statuses, ratings."""

from __future__ import annotations

import re
from typing import Optional

from bot.personal_data import FULLWIDTH_DIGITS

STATUSES = ("已受理", "已转办", "办理中", "已办结", "已回访")
FINISHED = "已办结"
RATEABLE = ("已办结", "已回访")  # a citizen rates (好差评) only a finished ticket
RATINGS = ("满意", "基本满意", "不满意")
DISSATISFIED = "不满意"

# BM + yyMMdd + 8 random Crockford base32 characters, e.g. BM261122K7M4Q9XZ
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TICKET_NUMBER = re.compile(r"BM\d{6}[0-9A-HJKMNP-TV-Z]{8}")


def parse_ticket_number(text: Optional[str]) -> Optional[str]:
    """Finds a ticket number in `text` (any case, spaces allowed) and returns it upper-case."""
    if not text:
        return None
    compact = re.sub(r"[\s\-]", "", text.translate(FULLWIDTH_DIGITS)).upper()
    match = TICKET_NUMBER.search(compact)
    return match.group(0) if match else None
