"""Logs without secrets or citizens' texts, files only their owner can read, and logs that rotate.

- `PrivacyFilter` (installed on every handler of the root logger by `install()`, or on every record the
  process makes by `mask_every_record()`, for Rasa, which configures its handlers itself): passwords, tokens,
  bearer headers and secrets in URLs are replaced by `***`, phone, ID-card numbers and addresses' house
  numbers are masked (bot/personal_data.py), and a long message is cut to MAX_LOG_TEXT characters, so a
  citizen's full text or a 100 KB body never reaches a log file. Tracebacks are masked the same way.
- `private_umask()`: files the process creates (SQLite databases, the outbox, logs, everything in
  var/) are created mode 600, folders 700; `make_private()` tightens files made before.
- `rotate_logs()`: `bianmin run` calls it every minute for var/logs/*.log (copy, then truncate: the
  services keep writing to the same open file).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterable, Optional

from bot.personal_data import mask_text

MAX_LOG_TEXT = 500  # characters of one log message
LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5
_SECRET_WORDS = r"password|passwd|pwd|secret|token|api[_-]?key|access_token|aes_key|authorization|cookie|密码"
_SECRETS = [
    (re.compile(r"\b((?:Bearer|Basic)\s+)([^\s\"',;]+)", re.IGNORECASE), r"\1***"),
    # "key": "value" (JSON) and key='value': the whole quoted value, spaces included
    (re.compile(rf"""((?:{_SECRET_WORDS})["']?\s*[=:]\s*)(["'])(?:\\.|(?!\2).)*\2""", re.IGNORECASE), r"\1\2***\2"),
    # key=value, key: value, ?key=value in URLs
    (re.compile(rf"""((?:{_SECRET_WORDS})\s*[=:]\s*)(?!["'*])([^\s"'&,;}}]+)""", re.IGNORECASE), r"\1***"),
    # "with password abc123" / "password is abc123" (the console's old first-login line)
    (re.compile(r"((?:password|密码)\s+(?:is\s+|为\s*)?)([^\s,，。)]{6,})", re.IGNORECASE), r"\1***"),
]


# "\u662f" in JSON logs (Rasa's structlog): read as the character, so "是13712345678" is masked like plain text
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescaped(match: "re.Match[str]") -> str:
    code = int(match.group(1), 16)
    return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)


def redact(text: str, limit: int = MAX_LOG_TEXT) -> str:
    """`text` without secrets and personal numbers, cut to `limit` characters."""
    if "\\u" in text:
        text = _JSON_ESCAPE.sub(_unescaped, text)
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    if len(text) > limit:
        text = f"{text[:limit]}…(+{len(text) - limit} characters not logged)"
    return mask_text(text)


class PrivacyFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with `redact`."""

    def __init__(self, limit: int = MAX_LOG_TEXT) -> None:
        super().__init__()
        self.limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what there is
            message = str(record.msg)
        record.msg, record.args = redact(message, self.limit), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), 20 * self.limit)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, 20 * self.limit)
        return True


def install(logger: Optional[logging.Logger] = None) -> PrivacyFilter:
    """Adds one PrivacyFilter to every handler of `logger` (the root logger by default); call after
    logging is configured. Records of every child logger pass through these handlers."""
    target = logger or logging.getLogger()
    privacy = PrivacyFilter()
    for handler in target.handlers:
        if not any(isinstance(existing, PrivacyFilter) for existing in handler.filters):
            handler.addFilter(privacy)
    return privacy


def mask_every_record(limit: int = MAX_LOG_TEXT) -> None:
    """Every log record this process makes is redacted when it is made, whichever handler (added before
    or after this call, by us or by a library) writes it. Records below a logger's level are never made."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "bianmin_private", False):
        return
    privacy = PrivacyFilter(limit)

    def private_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        privacy.filter(record)
        return record

    private_record.bianmin_private = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(private_record)


def private_umask() -> None:
    """From now on this process (and its children) create files 600 and folders 700."""
    os.umask(0o077)


def make_private(paths: Iterable[Path]) -> None:
    """Files 600, folders 700 (and, for folders, everything inside them)."""
    for path in paths:
        path = Path(path)
        if not path.exists() or path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o700)
            for inner in path.rglob("*"):
                if not inner.is_symlink():
                    inner.chmod(0o700 if inner.is_dir() else 0o600)
        else:
            path.chmod(0o600)


def rotate_logs(log_dir: Path, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS) -> None:
    """Each *.log over `max_bytes` becomes .log.1 (older ones shift up to .log.`backups`, the oldest goes);
    the live file is copied then truncated, so processes writing to it (in append mode) go on."""
    for log in Path(log_dir).glob("*.log"):
        try:
            if log.stat().st_size <= max_bytes:
                continue
            for index in range(backups - 1, 0, -1):
                older = log.with_name(f"{log.name}.{index}")
                if older.exists():
                    older.replace(log.with_name(f"{log.name}.{index + 1}"))
            shutil.copyfile(log, log.with_name(f"{log.name}.1"))
            log.with_name(f"{log.name}.1").chmod(0o600)
            with open(log, "r+b") as handle:
                handle.truncate(0)
        except OSError as error:
            logging.getLogger(__name__).warning("could not rotate %s: %s", log, error)
