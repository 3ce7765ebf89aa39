"""A category an agent corrects in the console is stored with who corrected it, and the 分类纠正 page shows
each category's correction rate."""

from __future__ import annotations

import html
import json
import re

from tickets.store import TicketStore


def rates_on(page: str) -> list:
    return json.loads(html.unescape(re.search(r'data-rates="([^"]*)"', page).group(1)))


async def test_a_corrected_category_is_recorded_and_its_rate_shown(console, login_as, queued, rasa, settings):
    headers = {"X-CSRF-Token": await login_as(console, "wang")}
    await queued("c-fix", channel="socketio")
    await console.post("/api/conversations/c-fix/take", headers=headers)
    fields = {"category": "交通运输", "description": "韵达快递员不送货上门，还要我加钱", "phone": "13812345678"}
    created = await console.post("/api/conversations/c-fix/tickets", headers=headers, json=fields)
    assert created.status == 201, await created.text()
    number = (await created.json())["number"]
    page = await (await console.get("/corrections")).text()
    assert "分类纠正率（近 30 天）" in page and rates_on(page) == [
        {"category": "交通运输", "tickets": 1, "corrected": 0, "rate": 0.0}
    ]

    edited = await console.post(
        f"/api/conversations/c-fix/tickets/{number}", headers=headers, json={"category": "商贸旅游"}
    )
    assert edited.status == 200 and (await edited.json())["category"] == "商贸旅游"
    store = TicketStore(settings.database_url)
    try:
        (correction,) = store.corrections()
    finally:
        store.dispose()
    assert (correction["old_category"], correction["new_category"], correction["changed_by"]) == (
        "交通运输",
        "商贸旅游",
        "wang",
    )
    page = await (await console.get("/corrections")).text()
    assert rates_on(page) == [{"category": "交通运输", "tickets": 1, "corrected": 1, "rate": 1.0}]
