"""What `bianmin run` starts: no reference ticket backend for an outside 工单 system, a Redis that keeps
its data in var/, and the status it reports."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.settings import load, to_env
from stack.run import redis_argv, runs_reference_tickets, services
from stack.status import render


def names(settings) -> list:
    return [service.name for service in services(settings, Path("model.tar.gz"), Path("credentials.yml"))]


def test_an_outside_ticket_system_is_used_instead_of_the_reference_backend():
    settings = load()
    assert runs_reference_tickets(settings) and names(settings)[0] == "tickets"
    outside = dataclasses.replace(settings, tickets_url="https://12345.example.gov.cn/api")
    assert not runs_reference_tickets(outside) and names(outside) == ["actions", "rasa", "console"]


def test_rasa_calls_the_action_server_directly():
    settings = load()
    rasa = next(s for s in services(settings, Path("m"), Path("c")) if s.name == "rasa")
    assert rasa.env == {} and to_env(settings)["BIANMIN_ACTIONS_URL"] == settings.actions_url  # endpoints.yml


def test_the_redis_it_starts_keeps_an_append_only_file_in_var(tmp_path):
    argv = redis_argv(16379, tmp_path / "redis")
    assert argv[argv.index("--appendonly") + 1] == "yes" and argv[argv.index("--dir") + 1] == str(tmp_path / "redis")
    assert (tmp_path / "redis").is_dir()


def test_status_table():
    report = {
        "ok": False,
        "stopping_because": None,
        "parts": [
            {"name": "redis", "state": "up", "since": None, "restarts": None, "last_exit": None, "supervised": False},
            {
                "name": "actions",
                "state": "starting",
                "since": "2026-12-07T12:00:00Z",
                "restarts": 2,
                "last_exit": -9,
                "supervised": True,
            },
        ],
        "outbox": {"pending": 1, "oldest_pending_at": "2026-12-07T11:58:00Z", "rejected": 0, "not_told": 0},
    }
    from datetime import datetime, timezone

    text = render(report, now=datetime(2026, 12, 7, 12, 0, 30, tzinfo=timezone.utc))
    assert "redis     up        -                     -  not run by bianmin" in text
    assert "actions   starting  30 s ago              2  last exit code -9" in text
    assert "outbox: 1 complaint(s) waiting for the ticket system (oldest kept 2 min ago)" in text


def test_rasa_runs_with_the_action_token_a_bounded_lock_and_private_logs():
    from stack.run import Stack

    settings = dataclasses.replace(load(), lock_lifetime=17)
    env = Stack(settings).env()
    assert env["BIANMIN_ACTIONS_TOKEN"] == settings.actions_token  # endpoints.yml's action_endpoint token
    assert env["TICKET_LOCK_LIFETIME"] == "17"  # read by Rasa's lock store
    rasa = next(s for s in services(settings, Path("m"), Path("c")) if s.name == "rasa")
    assert rasa.argv[1:4] == ["-m", "stack.rasa_server", "run"]  # Rasa's command line with our log filter
