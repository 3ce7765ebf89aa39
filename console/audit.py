"""The console's audit log: who read or changed what, when, from where (append-only).

One row per request that reads a citizen's data or changes something (log-ins, failed ones too, opening
a conversation, replies, take-overs, ticket edits, searches), in the SQL database of the accounts, so it
is kept and backed up with them. Rows are only ever added; `bianmin purge` removes rows older than the
retention period (docs/security.md). Personal data in paths and queries is masked, and a request body
is recorded only by its field names, never its values.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

import sqlalchemy as sa
from aiohttp import web

from bot.personal_data import mask_text
from bot.threads import in_thread
from console.auth import client_ip

logger = logging.getLogger(__name__)

metadata = sa.MetaData()
audit = sa.Table(
    "console_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("agent", sa.String(64)),
    sa.Column("ip", sa.String(64)),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("target", sa.String(300), nullable=False),
    sa.Column("detail", sa.String(500)),
    sa.Column("status", sa.Integer, nullable=False),
)
# requests not worth a row: the queue and health are polled constantly and show masked data only
QUIET = ("/health", "/api/queue")


class AuditLog:
    """Append-only audit rows in the SQL database at `engine`."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def record(self, agent: Optional[str], ip: str, action: str, target: str, status: int, detail: str = "") -> None:
        """Adds one row."""
        row = {
            "at": time.time(),
            "agent": (agent or "")[:64] or None,
            "ip": ip[:64],
            "action": action[:16],
            "target": mask_text(target)[:300],
            "detail": mask_text(detail)[:500] or None,
            "status": status,
        }
        with self.engine.begin() as connection:
            connection.execute(audit.insert().values(**row))

    def recent(self, limit: int = 100, agent: Optional[str] = None) -> List[Dict[str, Any]]:
        """The newest rows first (for supervisors and tests)."""
        query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
        if agent is not None:
            query = query.where(audit.c.agent == agent)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def purge_before(self, moment: float) -> int:
        """Retention: deletes rows older than `moment` (epoch seconds); returns how many."""
        with self.engine.begin() as connection:
            return connection.execute(audit.delete().where(audit.c.at < moment)).rowcount


AUDIT = web.AppKey("audit", AuditLog)


def _action(request: web.Request) -> str:
    if request.path == "/login":
        return "login"
    if request.path == "/logout":
        return "logout"
    return "read" if request.method in ("GET", "HEAD") else "change"


async def _detail(request: web.Request, response_status: int) -> str:
    """What was sent, by field names only; the tried name for log-ins."""
    if request.path == "/login" and request.method == "POST":
        name = (await request.post()).get("name")
        return f"name={str(name or '')[:64]}" + ("" if response_status < 400 else " refused")
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or request.content_type != "application/json":
        return ""
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        return "body=invalid"
    return "fields=" + ",".join(sorted(str(key)[:32] for key in body)[:20]) if isinstance(body, dict) else ""


@web.middleware
async def audit_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    """Records every request but static files, health, the queue and the login page itself."""
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        if _worth_a_row(request):
            try:
                session = request.get("session")
                target = request.path_qs
                detail = await _detail(request, status)
                await in_thread(
                    request.app[AUDIT].record,
                    getattr(session, "name", None),
                    client_ip(request),
                    _action(request),
                    target,
                    status,
                    detail,
                )
            except Exception:  # the audit log must never break the console; it says so loudly
                logger.exception("could not write the console audit log")


def _worth_a_row(request: web.Request) -> bool:
    path = request.path
    if path.startswith("/static/") or path in QUIET or AUDIT not in request.app:
        return False
    return not (path == "/login" and request.method == "GET")
