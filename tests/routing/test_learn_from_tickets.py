"""Dispatchers' corrections reach the next `bianmin routing learn --from-tickets`."""

from __future__ import annotations

import shutil

from bot.routing import Router
from bot.routing.taxonomy import DATA_DIR
from stack.cli import main as bianmin
from tests.routing.conftest import UNSEEN_COURIER, courier_history
from tickets.store import TicketStore


def test_corrected_tickets_teach_the_next_learn(tmp_path, seeded_cache, monkeypatch, capsys):
    database = f"sqlite:///{tmp_path / 'tickets.sqlite3'}"
    store = TicketStore(database)
    try:
        for record in courier_history():
            if record["category"] != "商贸旅游":
                continue
            ticket, _ = store.create({"description": record["text"], "phone": "13800000000", "category": "交通运输"})
            store.update(ticket["number"], {"category": "商贸旅游"}, changed_by="调度员")  # as the console does
    finally:
        store.dispose()
    var = tmp_path / "var"
    shutil.copytree(seeded_cache, var / "routing")
    monkeypatch.setenv("BIANMIN_VAR_DIR", str(var))
    monkeypatch.setenv("DATABASE_URL", database)
    assert Router(DATA_DIR, var / "routing").classify(UNSEEN_COURIER).category == "交通运输"

    assert bianmin(["routing", "learn", "--from-tickets"]) == 0
    assert "tickets: 60 corrected or confirmed" in capsys.readouterr().out
    assert Router(DATA_DIR, var / "routing").classify(UNSEEN_COURIER).category == "商贸旅游"
