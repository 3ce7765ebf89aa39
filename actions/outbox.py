"""Durable outbox of complaints the ticket backend could not take yet.

A SQLite file (WAL mode, safe for several processes) keeps each complaint until it is delivered; a
delivered row stays with its ticket number, an undelivered one is never deleted. `run_outbox_loop`
(in the action server) retries delivery with backoff and then tells the citizen the ticket number
through Rasa; if Rasa is unreachable, that notification is retried later as well. A short lease on
each row keeps two processes from working on the same complaint at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.rasa_client import trigger_intent
from bot.settings import Settings, load
from bot.ticket_client import TicketBackendUnavailable, TicketClient, TicketRejected

logger = logging.getLogger(__name__)

PENDING, DELIVERED, REJECTED = "pending", "delivered", "rejected"
FIRST_RETRY = 5.0  # seconds; doubles after each failure
MAX_RETRY = 300.0
LEASE = 60.0
DELIVERED_INTENT = "EXTERNAL_ticket_delivered"
BAD_COMPLAINT = (400, 413, 422)  # answers that refuse the complaint itself, not the outbox

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    client_ref TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    ticket_number TEXT,
    delivered_at REAL,
    notified INTEGER NOT NULL DEFAULT 0,
    notify_attempts INTEGER NOT NULL DEFAULT 0,
    lease_until REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
)
"""


def retry_delay(failures: int) -> float:
    """Seconds to wait after the n-th consecutive failure: 5, 10, 20, ... up to 5 minutes."""
    return min(MAX_RETRY, FIRST_RETRY * 2 ** max(0, failures - 1))


@dataclass(frozen=True)
class KeptComplaint:
    """One kept complaint."""

    id: int
    client_ref: str
    payload: Dict[str, Any]
    state: str
    attempts: int
    ticket_number: Optional[str]
    notified: bool
    notify_attempts: int
    last_error: Optional[str]


class Outbox:
    """The outbox file at `path` (created with its folder if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)

    def _connect(self) -> "closing[sqlite3.Connection]":
        """A fresh autocommit connection, closed at the end of the `with` block."""
        connection = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        connection.row_factory = sqlite3.Row
        return closing(connection)

    def put(self, payload: Dict[str, Any]) -> str:
        """Keeps a complaint (a ticket create payload) until delivered; returns its client_ref.

        The same client_ref put twice is kept once.
        """
        payload = dict(payload)
        payload["client_ref"] = payload.get("client_ref") or uuid.uuid4().hex
        now = time.time()
        with self._connect() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO outbox (client_ref, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?)",
                (payload["client_ref"], json.dumps(payload, ensure_ascii=False), now, now),
            )
        return payload["client_ref"]

    def entries(self) -> List[KeptComplaint]:
        """Every kept complaint, oldest first."""
        with self._connect() as connection:
            return [_entry(row) for row in connection.execute("SELECT * FROM outbox ORDER BY id")]

    def backlog(self) -> Dict[str, Any]:
        """What still needs work, for `bianmin status`: complaints not delivered yet (and since when),
        refused ones kept for a person, delivered ones whose citizen was not told yet."""
        with self._connect() as connection:
            pending, oldest = connection.execute(
                "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = ?", (PENDING,)
            ).fetchone()
            rejected = connection.execute("SELECT COUNT(*) FROM outbox WHERE state = ?", (REJECTED,)).fetchone()[0]
            untold = connection.execute(
                "SELECT COUNT(*) FROM outbox WHERE state = ? AND notified = 0", (DELIVERED,)
            ).fetchone()[0]
        return {"pending": pending, "oldest_pending_at": oldest, "rejected": rejected, "not_told": untold}

    def claim_due(self, now: Optional[float] = None, limit: int = 20) -> List[KeptComplaint]:
        """Leases the entries that need work now: undelivered ones whose retry time has come, and
        delivered ones whose citizen was not told yet. Another process will not get them meanwhile."""
        now = time.time() if now is None else now
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")  # select and lease under one write lock
            rows = connection.execute(
                "SELECT * FROM outbox WHERE (state = ? OR (state = ? AND notified = 0)) "
                "AND next_attempt_at <= ? AND lease_until <= ? ORDER BY id LIMIT ?",
                (PENDING, DELIVERED, now, now, limit),
            ).fetchall()
            connection.executemany(
                "UPDATE outbox SET lease_until = ? WHERE id = ?", [(now + LEASE, row["id"]) for row in rows]
            )
            connection.execute("COMMIT")
        return [_entry(row) for row in rows]

    def delivered(self, entry: KeptComplaint, ticket_number: str) -> None:
        """Records the ticket number; the lease is kept, as the citizen is to be told next."""
        self._update(
            entry,
            release=False,
            state=DELIVERED,
            ticket_number=ticket_number,
            delivered_at=time.time(),
            attempts=entry.attempts + 1,
            last_error=None,
            next_attempt_at=0,
        )

    def failed(self, entry: KeptComplaint, error: str) -> None:
        """Delivery failed for now: try again after a growing delay."""
        attempts = entry.attempts + 1
        self._update(entry, attempts=attempts, last_error=error, next_attempt_at=time.time() + retry_delay(attempts))

    def rejected(self, entry: KeptComplaint, error: str) -> None:
        """The backend refuses this complaint: keep it for a person to look at, stop retrying."""
        self._update(entry, state=REJECTED, attempts=entry.attempts + 1, last_error=error)

    def notified(self, entry: KeptComplaint) -> None:
        """The citizen has been told the ticket number."""
        self._update(entry, notified=1, notify_attempts=entry.notify_attempts + 1)

    def notify_failed(self, entry: KeptComplaint) -> None:
        """Rasa could not be reached: tell the citizen later."""
        attempts = entry.notify_attempts + 1
        self._update(entry, notify_attempts=attempts, next_attempt_at=time.time() + retry_delay(attempts))

    def release(self, entries: List[KeptComplaint]) -> None:
        """Gives leased entries back untouched."""
        with self._connect() as connection:
            connection.executemany("UPDATE outbox SET lease_until = 0 WHERE id = ?", [(entry.id,) for entry in entries])

    def _update(self, entry: KeptComplaint, release: bool = True, **values: Any) -> None:
        if release:
            values["lease_until"] = 0
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._connect() as connection:
            connection.execute(f"UPDATE outbox SET {assignments} WHERE id = ?", (*values.values(), entry.id))


def _entry(row: sqlite3.Row) -> KeptComplaint:
    return KeptComplaint(
        id=row["id"],
        client_ref=row["client_ref"],
        payload=json.loads(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        ticket_number=row["ticket_number"],
        notified=bool(row["notified"]),
        notify_attempts=row["notify_attempts"],
        last_error=row["last_error"],
    )


async def _work_on(entry: KeptComplaint, outbox: Outbox, client: TicketClient, settings: Settings) -> bool:
    """Delivers one entry if needed, then tells the citizen; False when the backend is unavailable."""
    number = entry.ticket_number
    if entry.state == PENDING:
        try:
            number = (await client.create_ticket(entry.payload))["number"]
        except TicketBackendUnavailable as error:
            outbox.failed(entry, str(error))
            return False
        except TicketRejected as error:
            if error.status not in BAD_COMPLAINT:  # e.g. a wrong token or URL: fixable, so retry later
                logger.error("ticket backend refuses the outbox (%s); will retry", error)
                outbox.failed(entry, str(error))
                return False
            logger.error("ticket backend rejects kept complaint %s: %s", entry.client_ref, error)
            outbox.rejected(entry, str(error))
            return True
        outbox.delivered(entry, number)
        logger.info("kept complaint %s delivered as %s", entry.client_ref, number)
    sender_id = entry.payload.get("sender_id")
    if not sender_id or await trigger_intent(settings, sender_id, DELIVERED_INTENT, {"ticket_number": number}):
        outbox.notified(entry)
    else:
        outbox.notify_failed(entry)
    return True


async def deliver_due(outbox: Outbox, client: TicketClient, settings: Settings, now: Optional[float] = None) -> int:
    """One pass: delivers what is due and tells the citizens; returns how many entries were worked on.

    The pass stops at the first delivery that finds the backend unavailable; the rest wait, untouched.
    """
    entries = outbox.claim_due(now)
    for done, entry in enumerate(entries):
        if not await _work_on(entry, outbox, client, settings):
            outbox.release(entries[done + 1 :])
            return done + 1
    return len(entries)


async def run_outbox_loop(settings: Optional[Settings] = None, interval: float = 5.0) -> None:
    """Forever: every `interval` seconds, deliver due complaints (started by the action server)."""
    settings = settings or load()
    outbox = Outbox(settings.outbox_path)
    client = TicketClient(settings.tickets_url, settings.tickets_token, attempts=1)  # the loop is the retry
    while True:
        try:
            await deliver_due(outbox, client, settings)
        except asyncio.CancelledError:
            raise
        except Exception:  # the loop must survive anything (a locked file, a bug in one entry)
            logger.exception("outbox pass failed")
        await asyncio.sleep(interval)
