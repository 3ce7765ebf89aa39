"""All configuration of Bianmin, read from the environment, with safe defaults for local use.

Every process (Rasa server, action server, ticket backend, console, CLI) reads its settings here and
nowhere else, so one table in the README documents them all.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    """Runtime settings; build with :func:`load` so tests can override single fields."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str = ""
    rasa_port: int = 5005
    actions_port: int = 5055
    tickets_port: int = 8070
    console_port: int = 8060
    host: str = "127.0.0.1"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = "bianmin-dev-rasa-token"
    actions_url: str = "http://127.0.0.1:5055/webhook"
    tickets_url: str = "http://127.0.0.1:8070"
    tickets_token: str = "bianmin-dev-tickets-token"
    var_dir: Path = field(default_factory=lambda: ROOT / "var")
    faq_dir: Path = field(default_factory=lambda: ROOT / "faq")
    models_dir: Path = field(default_factory=lambda: ROOT / "models")
    staffed_hours: str = "08:00-20:00"

    @property
    def outbox_path(self) -> Path:
        """SQLite file where complaints wait when the ticket backend is unreachable."""
        return self.var_dir / "outbox.sqlite3"


def load() -> Settings:
    """Read the settings from the environment (see the README's configuration table)."""
    var_dir = Path(_env("BIANMIN_VAR_DIR", str(ROOT / "var")))
    rasa_port = int(_env("BIANMIN_RASA_PORT", "5005"))
    actions_port = int(_env("BIANMIN_ACTIONS_PORT", "5055"))
    tickets_port = int(_env("BIANMIN_TICKETS_PORT", "8070"))
    host = _env("BIANMIN_HOST", "127.0.0.1")
    return Settings(
        redis_url=_env("REDIS_URL", "redis://127.0.0.1:6379/0"),
        database_url=_env("DATABASE_URL", f"sqlite:///{var_dir / 'tickets.sqlite3'}"),
        rasa_port=rasa_port,
        actions_port=actions_port,
        tickets_port=tickets_port,
        console_port=int(_env("BIANMIN_CONSOLE_PORT", "8060")),
        host=host,
        rasa_url=_env("BIANMIN_RASA_URL", f"http://127.0.0.1:{rasa_port}"),
        rasa_token=_env("BIANMIN_RASA_TOKEN", "bianmin-dev-rasa-token"),
        actions_url=_env("BIANMIN_ACTIONS_URL", f"http://127.0.0.1:{actions_port}/webhook"),
        tickets_url=_env("BIANMIN_TICKETS_URL", f"http://127.0.0.1:{tickets_port}"),
        tickets_token=_env("BIANMIN_TICKETS_TOKEN", "bianmin-dev-tickets-token"),
        var_dir=var_dir,
        faq_dir=Path(_env("BIANMIN_FAQ_DIR", str(ROOT / "faq"))),
        models_dir=Path(_env("BIANMIN_MODELS_DIR", str(ROOT / "models"))),
        staffed_hours=_env("BIANMIN_STAFFED_HOURS", "08:00-20:00"),
    )
