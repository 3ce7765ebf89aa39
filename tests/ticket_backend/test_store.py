"""The ticket store on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from bot.ticket_contract import TICKET_NUMBER
from tickets import fields
from tickets.store import TicketConflict, TicketMissing, TicketStore, new_ticket_number


@pytest.fixture
def store(database_url):
    store = TicketStore(database_url)
    yield store
    store.dispose()


def test_numbers_have_the_format_and_are_not_guessable():
    numbers = {new_ticket_number() for _ in range(20000)}
    assert len(numbers) == 20000
    assert all(TICKET_NUMBER.fullmatch(number) for number in numbers)
    today = datetime(2026, 11, 22, 23, 30)
    assert new_ticket_number(today).startswith("BM261122")
    suffixes = [number[8:] for number in numbers]
    # every Crockford character appears in every position: the suffix is random, not a counter
    for position in range(8):
        assert len({suffix[position] for suffix in suffixes}) == 32


def test_create_and_get(store, complaint):
    ticket, created = store.create(fields.new_ticket(complaint()))
    assert created
    assert TICKET_NUMBER.fullmatch(ticket["number"])
    assert ticket["status"] == "已受理"
    assert ticket["phone"] == "13812345678"
    assert ticket["confidential"] is False and ticket["rating"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", ticket["created_at"])
    assert [step["status"] for step in ticket["history"]] == ["已受理"]
    assert store.get(ticket["number"]) == ticket
    assert store.get("BM261122K7M4Q9XZ") is None


def test_create_is_idempotent_on_client_ref(store, complaint):
    payload = fields.new_ticket(complaint())
    first, created_first = store.create(payload)
    again, created_again = store.create(payload)
    assert (created_first, created_again) == (True, False)
    assert again["number"] == first["number"]
    assert store.list()[1] == 1


def test_a_number_collision_is_retried(database_url, complaint):
    numbers = iter(["BM2611220000AAAA", "BM2611220000AAAA", "BM2611220000BBBB"])
    store = TicketStore(database_url, number_factory=lambda: next(numbers))
    try:
        first, _ = store.create(fields.new_ticket(complaint()))
        second, created = store.create(fields.new_ticket(complaint()))
    finally:
        store.dispose()
    assert created and (first["number"], second["number"]) == ("BM2611220000AAAA", "BM2611220000BBBB")


def test_status_moves_forward_only_with_history(store, complaint):
    number = store.create(fields.new_ticket(complaint()))[0]["number"]
    store.change_status(number, "已转办", "转区生态环境局")
    ticket = store.change_status(number, "已办结", "已取缔")  # skipping forward is allowed
    assert ticket["status"] == "已办结"
    assert [(step["status"], step["note"]) for step in ticket["history"]] == [
        ("已受理", "诉求已登记"),
        ("已转办", "转区生态环境局"),
        ("已办结", "已取缔"),
    ]
    for backward in ("已受理", "办理中", "已办结"):
        with pytest.raises(TicketConflict, match="forward"):
            store.change_status(number, backward, None)
    assert len(store.get(number)["history"]) == 3
    with pytest.raises(TicketMissing):
        store.change_status("BM261122K7M4Q9XZ", "已转办", None)


def test_rating_only_once_finished(store, complaint):
    number = store.create(fields.new_ticket(complaint()))[0]["number"]
    with pytest.raises(TicketConflict, match="finished"):
        store.rate(number, "满意", None)
    store.change_status(number, "已办结", None)
    store.rate(number, "不满意", "没人联系我")
    ticket = store.rate(number, "基本满意", None)  # a later rating replaces the first
    assert (ticket["rating"], ticket["rating_comment"]) == ("基本满意", None)


def test_update_and_list(store, complaint):
    mine = [store.create(fields.new_ticket(complaint(sender_id="s1")))[0] for _ in range(3)]
    store.create(fields.new_ticket(complaint(phone="022-23456789", sender_id="s2")))
    store.change_status(mine[0]["number"], "已转办", None)
    edited = store.update(mine[1]["number"], {"district": "河西区", "category": "城乡建设"})
    assert (edited["district"], edited["category"]) == ("河西区", "城乡建设")
    with pytest.raises(TicketMissing):
        store.update("BM261122K7M4Q9XZ", {"district": "河西区"})

    page, total = store.list(sender_id="s1", limit=2)
    assert total == 3 and [t["number"] for t in page] == [mine[2]["number"], mine[1]["number"]]
    assert store.list(sender_id="s1", limit=2, offset=2)[0][0]["number"] == mine[0]["number"]
    assert store.list(phone="02223456789")[1] == 1
    assert [t["number"] for t in store.list(status="已转办")[0]] == [mine[0]["number"]]
    assert len(store.list(status="已转办")[0][0]["history"]) == 2


def test_the_tickets_table_is_the_only_one_with_a_number(store, complaint):
    number = store.create(fields.new_ticket(complaint()))[0]["number"]
    store.change_status(number, "已转办", None)
    metadata = sa.MetaData()
    metadata.reflect(store.engine)
    columns = set(metadata.tables["tickets"].c.keys())
    assert {"number", "phone", "district", "description", "status", "category"} <= columns
    assert [name for name, table in metadata.tables.items() if "number" in table.c] == ["tickets"]
