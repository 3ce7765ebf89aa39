"""Agent and supervisor accounts of the console, in the SQL database (settings.database_url).

Accounts live in SQL rather than Redis because they are durable records that must survive a Redis
restart (`bianmin run` starts Redis without persistence) and are backed up with the tickets.
Passwords are stored as salted scrypt hashes, never in clear.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import sqlalchemy as sa

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
NAME = re.compile(r"^[A-Za-z0-9_.\-]{2,32}$")
MIN_PASSWORD = 8
FIRST_ADMIN = "admin"

metadata = sa.MetaData()
agents = sa.Table(
    "console_agents",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("display_name", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("supervisor", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
)


class AccountError(ValueError):
    """A name, password or account that cannot be used; the message says why."""


def hash_password(password: str) -> str:
    """A salted scrypt hash: scrypt$n$r$p$salt$hash (base64)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${encode(salt)}${encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash no password matches in practice, made once per process, checked for unknown names."""
    return hash_password(secrets.token_urlsafe(32))


@dataclass(frozen=True)
class Agent:
    """A console user."""

    name: str
    display_name: str
    supervisor: bool


class Accounts:
    """The accounts table; synchronous (SQLAlchemy 1.4 core), quick enough to call from handlers."""

    def __init__(self, database_url: str) -> None:
        if database_url.startswith("sqlite:///"):
            Path(database_url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(database_url, future=True)
        metadata.create_all(self.engine)

    def add(self, name: str, password: str, supervisor: bool = False, display_name: Optional[str] = None) -> Agent:
        """Creates an account; AccountError for a bad or taken name or a short password."""
        if not NAME.match(name or ""):
            raise AccountError("name must be 2-32 letters, digits, '.', '_' or '-'")
        if len(password or "") < MIN_PASSWORD:
            raise AccountError(f"password must have at least {MIN_PASSWORD} characters")
        row = {
            "name": name,
            "display_name": (display_name or name)[:64],
            "supervisor": supervisor,
            "password_hash": hash_password(password),
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(agents.insert().values(**row))
        except sa.exc.IntegrityError:
            raise AccountError(f"an account named {name!r} already exists") from None
        return Agent(name, str(row["display_name"]), supervisor)

    def set_password(self, name: str, password: str) -> None:
        """Changes a password; AccountError if there is no such account or the password is short."""
        if len(password or "") < MIN_PASSWORD:
            raise AccountError(f"password must have at least {MIN_PASSWORD} characters")
        with self.engine.begin() as connection:
            changed = connection.execute(
                agents.update().where(agents.c.name == name).values(password_hash=hash_password(password))
            ).rowcount
        if not changed:
            raise AccountError(f"no account named {name!r}")

    def remove(self, name: str) -> bool:
        """Deletes an account; False if there was none."""
        with self.engine.begin() as connection:
            return connection.execute(agents.delete().where(agents.c.name == name)).rowcount > 0

    def list(self) -> List[Agent]:
        """Every account, by name."""
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(agents).order_by(agents.c.name)).all()
        return [Agent(row.name, row.display_name, bool(row.supervisor)) for row in rows]

    def get(self, name: str) -> Optional[Agent]:
        """One account, or None."""
        return next((agent for agent in self.list() if agent.name == name), None)

    def authenticate(self, name: str, password: str) -> Optional[Agent]:
        """The account if the password is right, else None (same work done for unknown names)."""
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(agents).where(agents.c.name == name)).first()
        # an unknown name costs exactly one scrypt too (against a hash made once), so login timing does not
        # tell which names exist
        stored = row.password_hash if row else _dummy_hash()
        if not verify_password(password or "", stored) or row is None:
            return None
        return Agent(row.name, row.display_name, bool(row.supervisor))

    def stored_hash(self, name: str) -> Optional[str]:
        """The stored password hash of an account (for checks and tests)."""
        with self.engine.connect() as connection:
            return connection.execute(sa.select(agents.c.password_hash).where(agents.c.name == name)).scalar()

    def ensure_first_admin(self) -> Optional[str]:
        """With no account at all, creates supervisor `admin` with a random password and returns the
        password (to print once); otherwise None."""
        if self.list():
            return None
        password = secrets.token_urlsafe(12)
        try:
            self.add(FIRST_ADMIN, password, supervisor=True, display_name="管理员")
        except AccountError:  # another console process created it at the same moment
            return None
        return password

    def dispose(self) -> None:
        """Closes the database connections."""
        self.engine.dispose()


def first_password_file(var_dir: Path) -> Path:
    """Where the generated first `admin` password is kept (mode 600) until it is changed."""
    return Path(var_dir) / "console-admin-password.txt"


def remember_first_password(var_dir: Path, password: str) -> Path:
    """Writes the generated password for `bianmin run` to show; readable by the owner only."""
    path = first_password_file(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password + "\n")
    return path


def first_login_hint(accounts: Accounts, var_dir: Path) -> Optional[str]:
    """ "admin / <password>" while the generated first password is still valid, else None (and the
    stale file is removed)."""
    path = first_password_file(var_dir)
    if not path.exists():
        return None
    password = path.read_text().strip()
    if accounts.authenticate(FIRST_ADMIN, password) is None:
        path.unlink(missing_ok=True)
        return None
    return f"{FIRST_ADMIN} / {password}"
