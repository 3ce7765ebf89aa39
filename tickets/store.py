"""Ticket storage with SQLAlchemy 1.4 Core: one `tickets` row per ticket, its status changes in
`ticket_history`. Works on SQLite and PostgreSQL; tables are created on start. Synchronous: the web app
calls it in an executor."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError

from bot.ticket_contract import CROCKFORD, RATEABLE, STATUSES
from tickets import corrections as correction_log

CHINA = timezone(timedelta(hours=8))
NUMBER_ATTEMPTS = 5

metadata = sa.MetaData()

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.String(16), nullable=False, unique=True),
    sa.Column("client_ref", sa.String(64), unique=True),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("subcategory", sa.String(64)),
    sa.Column("department", sa.String(128)),
    sa.Column("confidence", sa.Float),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("district", sa.String(64)),
    sa.Column("address", sa.String(256)),
    sa.Column("occurred_at", sa.String(128)),
    sa.Column("name", sa.String(64)),
    sa.Column("phone", sa.String(16), nullable=False, index=True),
    sa.Column("confidential", sa.Boolean, nullable=False, default=False),
    sa.Column("channel", sa.String(32)),
    sa.Column("sender_id", sa.String(128), index=True),
    sa.Column("rating", sa.String(8)),
    sa.Column("rating_comment", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# No `number` column here on purpose: a ticket number appears in exactly one table.
history = sa.Table(
    "ticket_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("at", sa.DateTime, nullable=False),
)

# A dispatcher's change of a ticket's category (tickets/corrections.py): what routing learns from.
category_corrections = sa.Table(
    "category_corrections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("old_category", sa.String(16), nullable=False),
    sa.Column("new_category", sa.String(16), nullable=False),
    sa.Column("changed_by", sa.String(64)),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
)

# what the API shows of a ticket: every column but the row id and the client's idempotency key (client_ref)
PUBLIC_FIELDS = tuple(column.name for column in tickets.columns if column.name not in ("id", "client_ref"))


class TicketMissing(LookupError):
    """No ticket has this number."""


class TicketConflict(ValueError):
    """The change does not fit the ticket's state (backward status move, rating too early)."""


def new_ticket_number(today: Optional[datetime] = None) -> str:
    """`BM` + yyMMdd (China time) + 8 random Crockford base32 characters from `secrets`."""
    day = (today or datetime.now(CHINA)).strftime("%y%m%d")
    return "BM" + day + "".join(secrets.choice(CROCKFORD) for _ in range(8))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _iso(moment: Optional[datetime]) -> Optional[str]:
    """Stored UTC time → ISO 8601 in China time, e.g. 2026-11-22T18:05:00+08:00."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def engine_for(database_url: str) -> sa.engine.Engine:
    """An engine for `database_url`; for a SQLite file, its folder is created."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys=ON"))
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class TicketStore:
    """Create, read, edit, move and rate tickets. Every method is one transaction."""

    def __init__(self, database_url: str, number_factory: Callable[[], str] = new_ticket_number) -> None:
        self.engine = engine_for(database_url)
        self.new_number = number_factory
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        """Closes the connection pool."""
        self.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def create(self, fields: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
        """Opens a ticket from validated `fields`; returns (ticket, created).

        A `client_ref` already used returns the existing ticket with created=False, so a retried
        delivery never opens a second ticket. A (very unlikely) number collision is retried.
        """
        client_ref = fields.get("client_ref")
        for _ in range(NUMBER_ATTEMPTS):
            if client_ref:
                existing = self._by_client_ref(client_ref)
                if existing:
                    return existing, False
            now = _utcnow()
            row = {**fields, "number": self.new_number(), "status": STATUSES[0], "created_at": now, "updated_at": now}
            try:
                with self.engine.begin() as connection:
                    ticket_id = connection.execute(tickets.insert().values(**row)).inserted_primary_key[0]
                    connection.execute(
                        history.insert().values(ticket_id=ticket_id, status=STATUSES[0], note="诉求已登记", at=now)
                    )
            except IntegrityError:
                continue  # the number or the client_ref was taken meanwhile: look again and retry
            return self._existing(row["number"]), True
        raise RuntimeError(f"could not store a ticket after {NUMBER_ATTEMPTS} attempts")

    def get(self, number: str) -> Optional[Dict[str, Any]]:
        """The ticket with its history, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(tickets.select().where(tickets.c.number == number)).first()
            return self._with_history(connection, [row])[0] if row else None

    def list(
        self,
        phone: Optional[str] = None,
        sender_id: Optional[str] = None,
        status: Optional[str] = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Tuple[List[Dict[str, Any]], int]:
        """Newest first, filtered; returns (page of tickets, total matching)."""
        conditions = [
            column == value
            for column, value in (
                (tickets.c.phone, phone),
                (tickets.c.sender_id, sender_id),
                (tickets.c.status, status),
            )
            if value is not None
        ]
        where = sa.and_(sa.true(), *conditions)
        with self.engine.connect() as connection:
            total = connection.execute(sa.select(sa.func.count()).select_from(tickets).where(where)).scalar()
            rows = connection.execute(
                tickets.select()
                .where(where)
                .order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            return self._with_history(connection, rows), total

    def update(self, number: str, fields: Dict[str, Any], changed_by: Optional[str] = None) -> Dict[str, Any]:
        """Sets validated editable `fields`; a changed category is stored as a correction by `changed_by`
        (tickets/corrections.py). Raises TicketMissing."""
        with self.engine.begin() as connection:
            row = self._require(connection, number, lock="category" in fields)
            now = _utcnow()
            correction_log.record(connection, category_corrections, row, fields.get("category"), changed_by, now)
            connection.execute(tickets.update().where(tickets.c.number == number).values(**fields, updated_at=now))
        return self._existing(number)

    def corrections(self) -> List[Dict[str, Any]]:
        """Every stored category correction, oldest first: number, text, old_category, new_category,
        changed_by, at (UTC)."""
        with self.engine.connect() as connection:
            return correction_log.listed(connection, tickets, category_corrections)

    def training_rows(self) -> List[Tuple[str, str, str]]:
        """(text, category, "corrected" | "confirmed") of the tickets routing can learn from."""
        with self.engine.connect() as connection:
            return correction_log.training_rows(connection, tickets, category_corrections)

    def correction_rates(self, days: int = correction_log.RATE_DAYS) -> List[Dict[str, Any]]:
        """How often dispatchers corrected each category of the tickets opened in the last `days` days."""
        with self.engine.connect() as connection:
            return correction_log.rates(connection, tickets, category_corrections, _utcnow() - timedelta(days=days))

    def change_status(self, number: str, status: str, note: Optional[str]) -> Dict[str, Any]:
        """Moves the ticket forward to `status` and records it in the history.

        Raises TicketMissing, or TicketConflict when `status` is not after the current one.
        """
        with self.engine.begin() as connection:
            row = self._require(connection, number, lock=True)
            if STATUSES.index(status) <= STATUSES.index(row.status):
                raise TicketConflict(
                    f"status can only move forward ({' → '.join(STATUSES)}): the ticket is {row.status}, not before {status}"
                )
            now = _utcnow()
            connection.execute(tickets.update().where(tickets.c.id == row.id).values(status=status, updated_at=now))
            connection.execute(history.insert().values(ticket_id=row.id, status=status, note=note, at=now))
        return self._existing(number)

    def rate(self, number: str, rating: str, comment: Optional[str]) -> Dict[str, Any]:
        """Records the citizen's 好差评 of a finished ticket (a later rating replaces an earlier one).

        Raises TicketMissing, or TicketConflict when the ticket is not finished yet.
        """
        with self.engine.begin() as connection:
            row = self._require(connection, number)
            if row.status not in RATEABLE:
                raise TicketConflict(
                    f"only a finished ticket ({' or '.join(RATEABLE)}) can be rated; it is {row.status}"
                )
            connection.execute(
                tickets.update()
                .where(tickets.c.id == row.id)
                .values(rating=rating, rating_comment=comment, updated_at=_utcnow())
            )
        return self._existing(number)

    def purge_personal_data(self, before: datetime) -> int:
        """Retention (`bianmin purge`): finished tickets (已办结, 已回访) last changed before `before` (UTC)
        lose the citizen's name, phone, address and conversation id; ID and phone numbers inside their
        texts are masked. The ticket, its category, department, history and rating stay for statistics.
        Returns how many tickets were cleared (a cleared ticket is not counted again)."""
        from bot.personal_data import mask_address, mask_text

        cutoff = before.astimezone(timezone.utc).replace(tzinfo=None) if before.tzinfo else before
        finished = (tickets.c.status.in_(RATEABLE), tickets.c.updated_at < cutoff, tickets.c.phone != "")
        cleared = 0
        with self.engine.begin() as connection:
            rows = connection.execute(
                sa.select(tickets.c.id, tickets.c.description, tickets.c.address, tickets.c.rating_comment).where(
                    *finished
                )
            ).all()
            for row in rows:
                connection.execute(
                    tickets.update()
                    .where(tickets.c.id == row.id)
                    .values(
                        name=None,
                        phone="",
                        address=mask_address(mask_text(row.address)) if row.address else None,
                        sender_id=None,
                        description=mask_text(row.description),
                        rating_comment=mask_text(row.rating_comment) if row.rating_comment else None,
                    )
                )
                cleared += 1
            if rows:  # notes written while the ticket was handled may quote the citizen
                notes = connection.execute(
                    sa.select(history.c.id, history.c.note).where(
                        history.c.ticket_id.in_([row.id for row in rows]), history.c.note.isnot(None)
                    )
                ).all()
                for note in notes:
                    if mask_text(note.note) != note.note:
                        connection.execute(
                            history.update().where(history.c.id == note.id).values(note=mask_text(note.note))
                        )
        return cleared

    def _existing(self, number: str) -> Dict[str, Any]:
        """A ticket this store has just written (so it exists)."""
        ticket = self.get(number)
        if ticket is None:
            raise TicketMissing(number)
        return ticket

    def _by_client_ref(self, client_ref: str) -> Optional[Dict[str, Any]]:
        with self.engine.connect() as connection:
            row = connection.execute(tickets.select().where(tickets.c.client_ref == client_ref)).first()
            return self._with_history(connection, [row])[0] if row else None

    @staticmethod
    def _require(connection: Connection, number: str, lock: bool = False) -> Any:
        query = tickets.select().where(tickets.c.number == number)
        row = connection.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise TicketMissing(number)
        return row

    @staticmethod
    def _with_history(connection: Connection, rows: List[Any]) -> List[Dict[str, Any]]:
        """Rows → public ticket dicts, each with its history (one query for all of them)."""
        steps: Dict[int, List[Dict[str, Any]]] = {row.id: [] for row in rows}
        if steps:
            query = history.select().where(history.c.ticket_id.in_(list(steps))).order_by(history.c.at, history.c.id)
            for step in connection.execute(query):
                steps[step.ticket_id].append({"status": step.status, "note": step.note, "at": _iso(step.at)})
        result = []
        for row in rows:
            ticket = {name: row._mapping[name] for name in PUBLIC_FIELDS}
            ticket["created_at"], ticket["updated_at"] = _iso(row.created_at), _iso(row.updated_at)
            ticket["confidential"] = bool(row.confidential)
            ticket["history"] = steps[row.id]
            result.append(ticket)
        return result
