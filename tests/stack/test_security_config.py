"""Issue 15: the Redis `bianmin run` starts has a memory limit and never evicts silently; Rasa's CORS is
not "any origin with credentials"; the console's first password is not written to its log."""

from __future__ import annotations

import socket
import stat
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from bot.settings import load
from stack.run import redis_argv, services, warn_if_redis_evicts


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_stack_redis_has_a_limit_and_no_eviction(tmp_path):
    argv = redis_argv(6399, tmp_path, "256mb")
    assert argv[argv.index("--maxmemory") + 1] == "256mb"
    assert argv[argv.index("--maxmemory-policy") + 1] == "noeviction"


def test_a_full_redis_refuses_writes_loudly_and_keeps_every_conversation(tmp_path):
    port = _free_port()
    process = subprocess.Popen(redis_argv(port, tmp_path, "4mb"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=1)
    try:
        for _ in range(50):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        written = 0
        with pytest.raises(redis.exceptions.OutOfMemoryError, match="maxmemory"):
            for index in range(1000):
                client.set(f"bianmin:tracker:citizen-{index}", "x" * 20_000)
                written += 1
        assert written > 10 and all(client.exists(f"bianmin:tracker:citizen-{i}") for i in range(written))
        assert warn_if_redis_evicts(f"redis://127.0.0.1:{port}/0") is None
        client.config_set("maxmemory-policy", "allkeys-lru")
        assert "noeviction" in warn_if_redis_evicts(f"redis://127.0.0.1:{port}/0")
    finally:
        client.close()
        process.terminate()
        process.wait(10)


def test_rasa_allows_only_its_own_and_configured_origins(tmp_path):
    settings = replace(load(), cors_origins="https://www.example.gov.cn *")
    rasa = next(
        service
        for service in services(settings, tmp_path / "model.tar.gz", tmp_path / "c.yml")
        if service.name == "rasa"
    )
    cors = rasa.argv[rasa.argv.index("--cors") + 1 : rasa.argv.index("--credentials")]
    assert "*" not in cors
    assert cors == [
        f"http://{settings.host}:{settings.rasa_port}",
        f"http://localhost:{settings.rasa_port}",
        "https://www.example.gov.cn",
    ]


def test_the_console_log_never_holds_the_first_password(tmp_path, monkeypatch, capsys):
    import console.__main__ as console_main

    monkeypatch.setenv("BIANMIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'accounts.sqlite3'}")
    monkeypatch.setattr(console_main.web, "run_app", lambda *args, **kwargs: None)
    monkeypatch.setattr(console_main.log_privacy, "install", lambda: None)  # not in the test process
    monkeypatch.setattr(console_main.log_privacy, "private_umask", lambda: None)
    console_main.main()
    password_file = Path(tmp_path) / "console-admin-password.txt"
    password = password_file.read_text().strip()
    assert password and password not in capsys.readouterr().out
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
