"""Staffed hours of the human agents ("HH:MM-HH:MM", local time; "24:00" ends the day; overnight ok)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _minutes(hours: str, minutes: str) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        raise ValueError(f"not a time of day: {hours}:{minutes}")
    return value


@dataclass(frozen=True)
class StaffedHours:
    """The daily window in which agents answer; `start == end` is not allowed (use 00:00-24:00)."""

    start: int  # minutes after midnight
    end: int

    @classmethod
    def parse(cls, text: str) -> "StaffedHours":
        """Parses "08:00-20:00"; raises ValueError with the expected format otherwise."""
        match = _RANGE.match(text or "")
        if not match:
            raise ValueError(f"staffed hours must look like 08:00-20:00, not {text!r}")
        start, end = _minutes(*match.group(1, 2)), _minutes(*match.group(3, 4))
        if start == end or start == 24 * 60:
            raise ValueError(f"staffed hours {text!r} are empty")
        return cls(start, end)

    def is_open(self, now: dt.datetime) -> bool:
        """True when `now` (local time) is inside the window."""
        minute = now.hour * 60 + now.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """When agents are next back (the next start of the window after `now`)."""
        opening = now.replace(hour=self.start // 60, minute=self.start % 60, second=0, microsecond=0)
        return opening if opening > now else opening + dt.timedelta(days=1)

    def describe(self) -> str:
        """ "08:00-20:00" as written for citizens."""
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def when_back(hours: StaffedHours, now: dt.datetime) -> str:
    """ "今天08:00" or "明天08:00": when agents answer again, for the citizen."""
    opening = hours.next_opening(now)
    day = "今天" if opening.date() == now.date() else "明天"
    return f"{day}{opening:%H:%M}"


def local_now(timezone: str = "Asia/Shanghai") -> dt.datetime:
    """The time of day at the hotline (settings.timezone), whatever the server's own time zone is."""
    return dt.datetime.now(ZoneInfo(timezone))
