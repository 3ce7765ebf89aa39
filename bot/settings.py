"""All configuration of Bianmin, read from the environment, with safe defaults for local use.

Every process (Rasa server, action server, ticket backend, console, CLI) reads its settings here and
nowhere else, so one table in the README documents them all.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
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
    # vectors of the project's texts, keyed by model and text: throw-away stacks share their parent's
    embeddings_cache: Path = field(default_factory=lambda: ROOT / "var" / "embeddings.sqlite3")
    faq_dir: Path = field(default_factory=lambda: ROOT / "faq")
    models_dir: Path = field(default_factory=lambda: ROOT / "models")
    staffed_hours: str = "08:00-20:00"
    # channels (a channel is enabled when its credentials are set; see docs/channels.md)
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_url: str = "https://api.weixin.qq.com"
    miniprogram_token: str = ""
    miniprogram_appid: str = ""
    miniprogram_secret: str = ""
    miniprogram_aes_key: str = ""
    miniprogram_api_url: str = "https://api.weixin.qq.com"
    telegram_token: str = ""
    telegram_secret: str = ""
    telegram_api_url: str = "https://api.telegram.org/bot"

    @property
    def outbox_path(self) -> Path:
        """SQLite file where complaints wait when the ticket backend is unreachable."""
        return self.var_dir / "outbox.sqlite3"


# channel credentials: field `wechat_token` is read from BIANMIN_WECHAT_TOKEN, and so on
_CHANNEL_DEFAULTS = {
    f.name: f.default for f in fields(Settings) if f.name.startswith(("wechat_", "miniprogram_", "telegram_"))
}


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
        embeddings_cache=Path(_env("BIANMIN_EMBEDDINGS_CACHE", str(var_dir / "embeddings.sqlite3"))),
        faq_dir=Path(_env("BIANMIN_FAQ_DIR", str(ROOT / "faq"))),
        models_dir=Path(_env("BIANMIN_MODELS_DIR", str(ROOT / "models"))),
        staffed_hours=_env("BIANMIN_STAFFED_HOURS", "08:00-20:00"),
        **{name: _env(f"BIANMIN_{name.upper()}", default) for name, default in _CHANNEL_DEFAULTS.items()},
    )


def to_env(settings: Settings) -> dict:
    """Environment variables that make a child process (or Rasa's endpoints.yml) see `settings`."""
    from urllib.parse import urlparse

    redis = urlparse(settings.redis_url)
    return {
        "REDIS_URL": settings.redis_url,
        "DATABASE_URL": settings.database_url,
        "BIANMIN_HOST": settings.host,
        "BIANMIN_RASA_PORT": str(settings.rasa_port),
        "BIANMIN_ACTIONS_PORT": str(settings.actions_port),
        "BIANMIN_TICKETS_PORT": str(settings.tickets_port),
        "BIANMIN_CONSOLE_PORT": str(settings.console_port),
        "BIANMIN_RASA_URL": settings.rasa_url,
        "BIANMIN_RASA_TOKEN": settings.rasa_token,
        "BIANMIN_ACTIONS_URL": settings.actions_url,
        "BIANMIN_TICKETS_URL": settings.tickets_url,
        "BIANMIN_TICKETS_TOKEN": settings.tickets_token,
        "BIANMIN_VAR_DIR": str(settings.var_dir),
        "BIANMIN_EMBEDDINGS_CACHE": str(settings.embeddings_cache),
        "BIANMIN_FAQ_DIR": str(settings.faq_dir),
        "BIANMIN_MODELS_DIR": str(settings.models_dir),
        "BIANMIN_STAFFED_HOURS": settings.staffed_hours,
        **{f"BIANMIN_{name.upper()}": getattr(settings, name) for name in _CHANNEL_DEFAULTS},
        # read by endpoints.yml (tracker store and lock store)
        "BIANMIN_REDIS_HOST": redis.hostname or "127.0.0.1",
        "BIANMIN_REDIS_PORT": str(redis.port or 6379),
        "BIANMIN_REDIS_DB": (redis.path or "/0").lstrip("/") or "0",
        "BIANMIN_REDIS_PASSWORD": redis.password or "",
    }
