"""All configuration of Bianmin, read from the environment, with safe defaults for local use.

Every process (Rasa server, action server, ticket backend, console, CLI) reads its settings here and
nowhere else, so one table in the README documents them all.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Dict

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Runtime settings; build with :func:`load` so tests can override single fields.

    Each field is read from `BIANMIN_<FIELD>` (`REDIS_URL` and `DATABASE_URL` keep their usual names);
    the default written here is the only one. A field whose default depends on another (the URLs on the
    ports, the files on `var_dir`) is empty here and filled in by `_DERIVED`.
    """

    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str = ""  # derived: SQLite file in var_dir
    rasa_port: int = 5005
    actions_port: int = 5055
    tickets_port: int = 8070
    console_port: int = 8060
    supervisor_port: int = 8090  # `bianmin run`: /health
    host: str = "127.0.0.1"
    rasa_url: str = ""  # derived from rasa_port
    rasa_token: str = "bianmin-dev-rasa-token"
    actions_url: str = ""  # derived from actions_port
    # Rasa's calls to the action server carry it (endpoints.yml); empty: a random one kept in var_dir
    actions_token: str = ""  # derived: var_dir/actions-token (mode 600); set it on every machine of a cluster
    tickets_url: str = ""  # derived from tickets_port
    tickets_token: str = "bianmin-dev-tickets-token"
    var_dir: Path = field(default_factory=lambda: ROOT / "var")
    # vectors of the project's texts, keyed by model and text: throw-away stacks share their parent's
    embeddings_cache: Path = Path()  # derived: in var_dir
    faq_dir: Path = field(default_factory=lambda: ROOT / "faq")
    models_dir: Path = field(default_factory=lambda: ROOT / "models")
    staffed_hours: str = "08:00-20:00"
    timezone: str = "Asia/Shanghai"  # the hotline's time zone: staffed hours and every time shown to agents
    # channels (a channel is enabled when its credentials are set; see docs/channels.md)
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_url: str = "https://api.weixin.qq.com"
    wechat_accept_plaintext: str = ""  # "1": a safe-mode account also takes plaintext pushes (migration)
    miniprogram_token: str = ""
    miniprogram_appid: str = ""
    miniprogram_secret: str = ""
    miniprogram_aes_key: str = ""
    miniprogram_api_url: str = "https://api.weixin.qq.com"
    miniprogram_accept_plaintext: str = ""
    telegram_token: str = ""
    telegram_secret: str = ""
    telegram_api_url: str = "https://api.telegram.org/bot"
    # security and personal data (docs/security.md)
    cors_origins: str = ""  # space-separated origins of the sites that embed the widget (Rasa's own always)
    console_secret: str = ""  # signs console sessions; empty: a random key kept in var_dir (set it on each machine)
    retention_days: int = 180  # `bianmin purge`: what is older than this many days (see docs/security.md)
    redis_maxmemory: str = "512mb"  # the Redis `bianmin run` starts: memory limit (policy noeviction)
    trusted_proxies: str = ""  # space-separated addresses of reverse proxies whose X-Forwarded-For is believed
    # seconds a Rasa server's hold on a conversation (lock ticket) lasts: longer than a slow turn under load
    # (bench/load: p99 under 11 s), and how long a conversation waits after its server was killed mid-turn
    lock_lifetime: int = 20

    @property
    def rasa_cors_origins(self) -> list:
        """Origins Rasa answers cross-origin requests from (with credentials): its own and cors_origins."""
        own = [f"http://{self.host}:{self.rasa_port}", f"http://localhost:{self.rasa_port}"]
        return own + [origin for origin in self.cors_origins.split() if origin not in own and origin != "*"]

    @property
    def health_url(self) -> str:
        """The supervisor's report of every part (`bianmin run`; `bianmin status` and the console read it)."""
        return f"http://{self.host}:{self.supervisor_port}/health"

    @property
    def outbox_path(self) -> Path:
        """SQLite file where complaints wait when the ticket backend is unreachable."""
        return self.var_dir / "outbox.sqlite3"

    def __post_init__(self) -> None:
        for name, derive in _DERIVED.items():
            if getattr(self, name) in ("", Path()):
                object.__setattr__(self, name, derive(self))


# fields whose default is computed from other fields (when neither the environment nor the caller sets them)
_DERIVED: Dict[str, Callable[[Settings], Any]] = {
    "database_url": lambda s: f"sqlite:///{s.var_dir / 'tickets.sqlite3'}",
    "rasa_url": lambda s: f"http://127.0.0.1:{s.rasa_port}",
    "actions_url": lambda s: f"http://127.0.0.1:{s.actions_port}/webhook",
    "tickets_url": lambda s: f"http://127.0.0.1:{s.tickets_port}",
    "embeddings_cache": lambda s: s.var_dir / "embeddings.sqlite3",
    "actions_token": lambda s: kept_secret(s.var_dir / "actions-token"),
}
_OWN_NAMES = {"redis_url": "REDIS_URL", "database_url": "DATABASE_URL"}
_PARSE: Dict[str, Callable[[str], Any]] = {"int": int, "Path": Path}  # by annotation; the rest are str


def kept_secret(path: Path) -> str:
    """A random secret kept in `path` (created mode 600 on first use, then read by every process; written
    whole before it appears, so a process starting at the same moment never reads half of it)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)  # fails if another process was first: its secret is kept
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="utf-8").strip()


def env_name(field_name: str) -> str:
    """The environment variable of a Settings field: BIANMIN_WECHAT_TOKEN for wechat_token, and so on."""
    return _OWN_NAMES.get(field_name, f"BIANMIN_{field_name.upper()}")


def load() -> Settings:
    """Read the settings from the environment (see the README's configuration table)."""
    values: Dict[str, Any] = {}
    for f in fields(Settings):
        raw = os.environ.get(env_name(f.name), "").strip()
        if raw:
            values[f.name] = _PARSE.get(str(f.type), str)(raw)
    return Settings(**values)


def to_env(settings: Settings) -> dict:
    """Environment variables that make a child process (or Rasa's endpoints.yml) see `settings`."""
    from urllib.parse import urlparse

    redis = urlparse(settings.redis_url)
    return {
        **{env_name(f.name): str(getattr(settings, f.name)) for f in fields(Settings)},
        # read by endpoints.yml (tracker store and lock store)
        "BIANMIN_REDIS_HOST": redis.hostname or "127.0.0.1",
        "BIANMIN_REDIS_PORT": str(redis.port or 6379),
        "BIANMIN_REDIS_DB": (redis.path or "/0").lstrip("/") or "0",
        "BIANMIN_REDIS_PASSWORD": redis.password or "",
        # read by Rasa's lock store (rasa/core/lock_store.py) when it is imported
        "TICKET_LOCK_LIFETIME": str(settings.lock_lifetime),
    }
