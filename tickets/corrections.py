"""Dispatchers' corrections of ticket categories: what routing learns from, and how often each category
is corrected.

A correction is stored when a ticket's category changes (`TicketStore.update`): the ticket's text (ID and
phone numbers masked: routing does not need them), the old and the new category, who changed it, when.
`training_rows` gives `bianmin routing learn --from-tickets` the corrected tickets (labelled with their
current category) and the confirmed ones: never corrected and forwarded (status past 已受理) under the
category they were given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.personal_data import mask_text
from bot.ticket_contract import STATUSES

RATE_DAYS = 30  # the console's window


def record(
    connection: Connection,
    table: sa.Table,
    ticket: Any,
    category: Optional[str],
    changed_by: Optional[str],
    at: datetime,
) -> None:
    """Stores a correction when `category` differs from the ticket's (`ticket`: its row before the change)."""
    if category and category != ticket.category:
        connection.execute(
            table.insert().values(
                ticket_id=ticket.id,
                text=mask_text(ticket.description),
                old_category=ticket.category,
                new_category=category,
                changed_by=changed_by,
                at=at,
            )
        )


def listed(connection: Connection, tickets: sa.Table, table: sa.Table) -> List[Dict[str, Any]]:
    """Every correction with its ticket's number, oldest first."""
    rows = connection.execute(
        sa.select(
            tickets.c.number, table.c.text, table.c.old_category, table.c.new_category, table.c.changed_by, table.c.at
        )
        .join(tickets, tickets.c.id == table.c.ticket_id)
        .order_by(table.c.id)
    ).all()
    return [dict(row._mapping) for row in rows]


def training_rows(connection: Connection, tickets: sa.Table, table: sa.Table) -> List[Tuple[str, str, str]]:
    """(text, category, "corrected" | "confirmed") of every corrected or confirmed ticket, oldest first."""
    corrected = sa.select(table.c.ticket_id).distinct()
    rows = connection.execute(
        sa.select(tickets.c.description, tickets.c.category, tickets.c.id.in_(corrected).label("corrected"))
        .where(sa.or_(tickets.c.id.in_(corrected), tickets.c.status != STATUSES[0]))
        .order_by(tickets.c.id)
    ).all()
    return [(row.description, row.category, "corrected" if row.corrected else "confirmed") for row in rows]


def rates(connection: Connection, tickets: sa.Table, table: sa.Table, since: datetime) -> List[Dict[str, Any]]:
    """Per category first given to the tickets opened since `since`: tickets, corrected tickets and their
    share, most corrected first."""
    first = (
        sa.select(table.c.ticket_id, sa.func.min(table.c.id).label("first_id")).group_by(table.c.ticket_id).subquery()
    )
    original = connection.execute(
        sa.select(table.c.ticket_id, table.c.old_category).join(first, table.c.id == first.c.first_id)
    ).all()
    given = {row.ticket_id: row.old_category for row in original}
    counts: Dict[str, List[int]] = {}
    for row in connection.execute(
        sa.select(tickets.c.id, tickets.c.category).where(tickets.c.created_at >= since)
    ).all():
        tally = counts.setdefault(given.get(row.id, row.category), [0, 0])
        tally[0] += 1
        tally[1] += row.id in given
    out = [
        {"category": category, "tickets": total, "corrected": fixed, "rate": round(fixed / total, 4)}
        for category, (total, fixed) in counts.items()
    ]
    return sorted(out, key=lambda item: (-item["rate"], -item["tickets"], item["category"]))
