"""`bianmin purge`: retention of citizens' personal data (BIANMIN_RETENTION_DAYS, docs/security.md).

What is older than the retention period goes:

- conversations in Redis (Rasa's tracker store) whose last event is older;
- handoff records closed before it; handoffs still *waiting* after WAITING_MAX_AGE are ended the way a
  supervisor ends them in the console (the citizen is told nobody will come, the bot answers again);
- delivered (and notified) outbox rows;
- finished tickets' personal fields (name, phone, address, conversation id; numbers in texts masked);
- console audit rows older than AUDIT_MIN_DAYS (kept at least a year, whatever the retention).

Every part is independent: one that cannot be reached is reported and the others still run. Run it daily
(cron or a systemd timer: `bianmin purge`); it is idempotent.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import Settings

DAY = 24 * 3600
WAITING_MAX_AGE = 24 * 3600  # a citizen waiting for an agent this long has gone: the handoff ends
AUDIT_MIN_DAYS = 365
TRACKER_PREFIX = "bianmin:tracker:"


@dataclass
class PurgeReport:
    """What one purge removed, and the parts it could not reach."""

    days: int
    conversations: int = 0
    handoffs_closed: int = 0
    handoffs_ended: int = 0
    outbox_rows: int = 0
    tickets_cleared: int = 0
    audit_rows: int = 0
    problems: List[str] = field(default_factory=list)

    def lines(self) -> List[str]:
        return [
            f"retention: {self.days} days",
            f"conversations deleted: {self.conversations}",
            f"handoff records deleted: {self.handoffs_closed}",
            f"waiting handoffs ended (waited over {WAITING_MAX_AGE // 3600} h): {self.handoffs_ended}",
            f"delivered outbox rows deleted: {self.outbox_rows}",
            f"finished tickets cleared of personal data: {self.tickets_cleared}",
            f"console audit rows deleted: {self.audit_rows}",
            *(f"problem: {problem}" for problem in self.problems),
        ]


def _last_event_time(raw: Optional[str]) -> Optional[float]:
    try:
        events = (json.loads(raw or "") or {}).get("events") or []
    except (TypeError, ValueError, AttributeError):
        return None
    times = [float(event.get("timestamp") or 0) for event in events if isinstance(event, dict)]
    return max(times) if times else None


async def purge_redis(settings: Settings, cutoff: float, now: float, report: PurgeReport) -> None:
    """Old conversations and handoff records; handoffs that have waited too long are ended."""
    import redis.asyncio as aioredis

    from bot.handoff import HandoffStore

    client = aioredis.Redis.from_url(settings.redis_url, decode_responses=True, socket_connect_timeout=3)
    store = HandoffStore(client)
    try:
        keys: List[str] = [key async for key in client.scan_iter(match=TRACKER_PREFIX + "*", count=500)]
        for start in range(0, len(keys), 200):
            chunk = keys[start : start + 200]
            old = [
                key
                for key, raw in zip(chunk, await client.mget(chunk))
                if (last := _last_event_time(raw)) is not None and last < cutoff
            ]
            if old:
                report.conversations += await client.delete(*old)
        report.handoffs_closed = await store.forget_closed(cutoff)
        stale = await store.stale_waiting(WAITING_MAX_AGE, now)
        if stale:
            report.handoffs_ended = await _end_waiting(settings, store, stale, report)
    finally:
        await client.close()
        await client.connection_pool.disconnect()


async def _end_waiting(settings: Settings, store, conversation_ids: List[str], report: PurgeReport) -> int:
    """Ends waiting handoffs as a supervisor would in the console; if Rasa does not answer, the queue
    entry still ends (the bot is resumed by the citizen's next 人工 request or a console hand-back)."""
    from bot.rasa_client import RasaClient, RasaUnavailable
    from bot.ticket_client import TicketClient
    from console.conversations import Conversations

    rasa = RasaClient(settings)
    conversations = Conversations(store, rasa, TicketClient.from_settings(settings))
    ended = 0
    try:
        for conversation_id in conversation_ids:
            try:
                await conversations.close(conversation_id, "bianmin-purge", True)
                ended += 1
            except RasaUnavailable as error:
                report.problems.append(f"Rasa unreachable while ending {conversation_id}: {error}")
                if await store.finish(conversation_id, None, "expired"):
                    ended += 1
            except Exception as error:  # one odd record must not stop the purge
                report.problems.append(f"could not end the handoff of {conversation_id}: {error}")
    finally:
        await rasa.close()
    return ended


def purge_outbox(path: Path, cutoff: float) -> int:
    """Deletes delivered and notified outbox rows delivered before `cutoff`."""
    if not Path(path).exists():
        return 0
    with closing(sqlite3.connect(path, timeout=15)) as connection, connection:
        return connection.execute(
            "DELETE FROM outbox WHERE state = 'delivered' AND notified = 1 AND delivered_at < ?", (cutoff,)
        ).rowcount


def purge_tickets(database_url: str, cutoff: float) -> int:
    from tickets.store import TicketStore

    store = TicketStore(database_url)
    try:
        return store.purge_personal_data(datetime.fromtimestamp(cutoff, timezone.utc))
    finally:
        store.dispose()


def purge_audit(database_url: str, cutoff: float) -> int:
    from console.accounts import Accounts
    from console.audit import AuditLog

    accounts = Accounts(database_url)
    try:
        return AuditLog(accounts.engine).purge_before(cutoff)
    finally:
        accounts.dispose()


def run_purge(settings: Settings, days: Optional[int] = None, now: Optional[float] = None) -> PurgeReport:
    """Purges everything older than `days` (default: settings.retention_days)."""
    from stack.run import runs_reference_tickets

    days = settings.retention_days if days is None else days
    now = time.time() if now is None else now
    cutoff = now - days * DAY
    report = PurgeReport(days)
    steps: Dict[str, object] = {
        "Redis": lambda: asyncio.run(purge_redis(settings, cutoff, now, report)),
        "outbox": lambda: setattr(report, "outbox_rows", purge_outbox(settings.outbox_path, cutoff)),
        "console audit log": lambda: setattr(
            report, "audit_rows", purge_audit(settings.database_url, now - max(days, AUDIT_MIN_DAYS) * DAY)
        ),
    }
    if runs_reference_tickets(settings):
        steps["tickets"] = lambda: setattr(report, "tickets_cleared", purge_tickets(settings.database_url, cutoff))
    else:
        report.problems.append("tickets live in an outside 工单 system: apply the retention there")
    for name, step in steps.items():
        try:
            step()  # type: ignore[operator]
        except Exception as error:  # noqa: BLE001 - reported, the other parts still run
            report.problems.append(f"{name}: {type(error).__name__}: {error}")
    return report


def main(days: Optional[int], settings: Settings) -> int:
    """`bianmin purge [--days N]`: prints what went; exit code 1 if a part could not be purged."""
    if days is not None and days < 1:
        print("bianmin purge: --days must be at least 1", file=sys.stderr)
        return 2
    report = run_purge(settings, days)
    print("\n".join(report.lines()))
    return 1 if report.problems else 0


def scheduled(settings: Settings) -> None:
    """`bianmin run` calls this once an hour (in a thread): one line in the stack's log."""
    import logging

    log = logging.getLogger("bianmin.stack")
    try:
        report = run_purge(settings)
    except Exception:  # noqa: BLE001 - never take the stack down
        log.exception("scheduled purge failed")
        return
    removed = (report.conversations, report.handoffs_ended, report.outbox_rows, report.tickets_cleared)
    if any(removed) or report.problems:
        log.warning("purge (retention %d days): %s", report.days, "; ".join(report.lines()[1:]))
