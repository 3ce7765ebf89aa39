"""`bianmin status`: the health URL's report, read and printed for a person."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timezone
from typing import Optional


def fetch(url: str, timeout: float = 5.0) -> Optional[dict]:
    """The health report at `url` (a 503 still carries it), or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _ago(iso: Optional[str], now: datetime) -> str:
    if not iso:
        return "-"
    seconds = int((now - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def render(report: dict, now: Optional[datetime] = None) -> str:
    """A table of the parts, then the outbox and, if the stack is giving up, why."""
    now = now or datetime.now(timezone.utc)
    lines = [f"{'part':9} {'state':9} {'since':14} {'restarts':>8}  note"]
    for part in report["parts"]:
        restarts = "-" if part["restarts"] is None else str(part["restarts"])
        note = (
            "not run by bianmin"
            if not part["supervised"]
            else (f"last exit code {part['last_exit']}" if part["last_exit"] is not None else "")
        )
        lines.append(f"{part['name']:9} {part['state']:9} {_ago(part['since'], now):14} {restarts:>8}  {note}".rstrip())
    outbox = report["outbox"]
    waiting = f"outbox: {outbox['pending']} complaint(s) waiting for the ticket system"
    if outbox["pending"]:
        waiting += f" (oldest kept {_ago(outbox['oldest_pending_at'], now)})"
    lines.append(waiting)
    if outbox["not_told"]:
        lines.append(f"outbox: {outbox['not_told']} delivered complaint(s) whose citizen is not told the number yet")
    if outbox["rejected"]:
        lines.append(
            f"outbox: {outbox['rejected']} complaint(s) refused by the ticket system, kept for a person to check"
        )
    if report.get("stopping_because"):
        lines.append(f"stopping: {report['stopping_because']}")
    return "\n".join(lines)
