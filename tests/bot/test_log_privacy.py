"""Issue 15: no secrets or citizens' full texts in logs, owner-only files, rotating logs."""

from __future__ import annotations

import logging
import stat
import subprocess
import sys
from pathlib import Path

from bot.log_privacy import MAX_LOG_TEXT, PrivacyFilter, make_private, redact, rotate_logs
from bot.settings import ROOT


def _logged(caplog, message: str, *args) -> str:
    logger = logging.getLogger("test.privacy")
    handler = caplog.handler
    handler.addFilter(PrivacyFilter())
    try:
        logger.warning(message, *args)
    finally:
        handler.filters.clear()
    return caplog.records[-1].getMessage()


def test_secrets_are_not_logged(caplog):
    for line in (
        "created supervisor 'admin' with password Zx9-Qw8_Er7t",
        "GET /conversations/x/tracker?token=bianmin-dev-rasa-token",
        'body {"password": "correct horse 42", "name": "wang"}',
        "Authorization: Bearer s3cr3t-t0ken.value",
        "wechat_aes_key=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    ):
        logged = _logged(caplog, line)
        for secret in ("Zx9-Qw8_Er7t", "bianmin-dev-rasa-token", "correct horse", "s3cr3t", "abcdefghijklmnop"):
            assert secret not in logged, logged
    assert "wang" in _logged(caplog, 'body {"password": "x1234567", "name": "wang"}')


def test_citizens_texts_are_cut_and_masked(caplog):
    logged = _logged(caplog, "unsigned body: %s", "我的电话是13812345678，身份证110105199001011234" + "投诉" * 50_000)
    assert "13812345678" not in logged and "110105199001011234" not in logged
    assert len(logged) < MAX_LOG_TEXT + 100 and "characters not logged" in logged


def test_tracebacks_are_masked(caplog):
    logger = logging.getLogger("test.privacy")
    caplog.handler.addFilter(PrivacyFilter())
    try:
        try:
            raise ValueError("phone 13812345678 refused")
        except ValueError:
            logger.exception("failed")
        text = caplog.text
    finally:
        caplog.handler.filters.clear()
    assert "13812345678" not in text and "138****5678" in text


def test_redact_leaves_ordinary_lines_alone():
    assert redact("actions restarted (restart 2)") == "actions restarted (restart 2)"
    assert redact("密码错误次数过多") == "密码错误次数过多"


def test_files_the_services_create_are_owner_only(tmp_path):
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.log_privacy import private_umask\n"
        "private_umask()\n"
        "from tickets.store import TicketStore\n"
        "from actions.outbox import Outbox\n"
        "base = Path(sys.argv[1])\n"
        "TicketStore(f'sqlite:///{base}/var/tickets.sqlite3').dispose()\n"
        "Outbox(base / 'var' / 'outbox.sqlite3').put({'description': 'x'})\n"
        "(base / 'var' / 'logs').mkdir()\n"
        "(base / 'var' / 'logs' / 'console.log').write_text('x')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, check=True, timeout=120)
    for path in (tmp_path / "var").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))


def test_make_private_tightens_older_files(tmp_path):
    folder = tmp_path / "var"
    (folder / "logs").mkdir(parents=True)
    for path in (folder / "tickets.sqlite3", folder / "logs" / "rasa.log"):
        path.write_text("x")
        path.chmod(0o644)
    make_private([folder])
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in [folder, *folder.rglob("*")])


def test_logs_rotate_and_the_writer_goes_on(tmp_path: Path):
    log = tmp_path / "rasa.log"
    with open(log, "ab") as writer:
        writer.write(b"a" * 2000)
        writer.flush()
        for _ in range(4):
            rotate_logs(tmp_path, max_bytes=1000, backups=2)
            writer.write(b"b" * 1500)
            writer.flush()
    assert log.stat().st_size == 1500  # the open (append-mode) file went on at its new end
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rasa.log", "rasa.log.1", "rasa.log.2"]
    assert (tmp_path / "rasa.log.1").read_bytes() == b"b" * 1500


def test_the_rasa_server_masks_what_it_logs_whatever_handlers_it_sets_up():
    # what stack/rasa_server.py does before Rasa's CLI configures logging at --debug (and structlog's JSON)
    script = (
        "import logging, structlog\n"
        "from bot.log_privacy import mask_every_record\n"
        "mask_every_record()\n"
        "from rasa.utils.common import configure_logging_and_warnings\n"
        "from rasa.utils.log_utils import configure_structlog\n"
        "configure_logging_and_warnings(logging.DEBUG)\n"
        "configure_structlog(logging.DEBUG)\n"
        "logging.getLogger('rasa.core.channels').debug(\"Received user message '我的电话是13812345678'\")\n"
        "structlog.get_logger().debug('processor.message.parse', parse_data_text='我的电话是13812345678')\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    logged = run.stdout + run.stderr
    assert "13812345678" not in logged and logged.count("138****5678") == 2, logged
