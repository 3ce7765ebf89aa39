"""Dispatchers' corrections of a ticket's category through the API: stored with who and when, counted per
category, and offered to routing as training rows (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tickets.store import TicketStore

COURIER = "韵达快递员不送货上门，还要我加钱，电话13812345678"


async def _create(api, payload):
    async with api.post("/tickets", json=payload) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["number"]


async def _patch(api, number, body, status=200):
    async with api.patch(f"/tickets/{number}", json=body) as response:
        assert response.status == status, await response.text()
        return await response.json()


async def test_a_category_change_is_stored_with_text_who_and_when(api, complaint, settings):
    number = await _create(api, complaint(category="交通运输", subcategory="快递物流", description=COURIER))
    before = datetime.utcnow() - timedelta(seconds=5)
    ticket = await _patch(api, number, {"category": "商贸旅游", "subcategory": None, "changed_by": "调度员小王"})
    assert ticket["category"] == "商贸旅游" and "changed_by" not in ticket
    await _patch(api, number, {"district": "河西区", "changed_by": "调度员小王"})  # no category change
    await _patch(api, number, {"category": "商贸旅游"})  # the same category again: no correction

    store = TicketStore(settings.database_url)
    try:
        (correction,) = store.corrections()
    finally:
        store.dispose()
    assert correction["number"] == number
    assert (correction["old_category"], correction["new_category"]) == ("交通运输", "商贸旅游")
    assert correction["changed_by"] == "调度员小王" and correction["at"] >= before
    assert correction["text"].startswith("韵达快递员不送货上门") and "13812345678" not in correction["text"]


async def test_who_must_be_a_short_text_and_is_not_a_change_by_itself(api, complaint):
    number = await _create(api, complaint())
    assert "changed_by" in (await _patch(api, number, {"category": "政法", "changed_by": 7}, status=400))["error"]
    assert (
        "changed_by" in (await _patch(api, number, {"category": "政法", "changed_by": "x" * 65}, status=400))["error"]
    )
    assert "nothing to change" in (await _patch(api, number, {"changed_by": "调度员"}, status=400))["error"]


async def test_correction_rates_per_first_given_category_over_30_days(api, complaint):
    numbers = [await _create(api, complaint(category="交通运输")) for _ in range(4)]
    await _create(api, complaint(category="城乡建设"))
    await _patch(api, numbers[0], {"category": "商贸旅游", "changed_by": "甲"})
    await _patch(api, numbers[0], {"category": "政法", "changed_by": "乙"})  # still one corrected ticket
    async with api.get("/corrections") as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    assert body["days"] == 30
    assert body["categories"] == [
        {"category": "交通运输", "tickets": 4, "corrected": 1, "rate": 0.25},
        {"category": "城乡建设", "tickets": 1, "corrected": 0, "rate": 0.0},
    ]
    async with api.get("/corrections", params={"days": "0"}) as response:
        assert response.status == 400 and "days" in (await response.json())["error"]


async def test_corrected_and_confirmed_tickets_are_training_rows(api, complaint, settings):
    corrected = await _create(api, complaint(category="交通运输", description=COURIER))
    confirmed = await _create(api, complaint(category="城乡建设", description="路灯坏了一个月没人修"))
    await _create(api, complaint(category="环境保护", description="还没有人看过的工单"))
    await _patch(api, corrected, {"category": "商贸旅游", "changed_by": "调度员"})
    async with api.post(f"/tickets/{confirmed}/status", json={"status": "已转办"}) as response:
        assert response.status == 200
    store = TicketStore(settings.database_url)
    try:
        rows = store.training_rows()
    finally:
        store.dispose()
    assert [(category, source) for _, category, source in rows] == [
        ("商贸旅游", "corrected"),
        ("城乡建设", "confirmed"),
    ]
    assert rows[1][0] == "路灯坏了一个月没人修"
