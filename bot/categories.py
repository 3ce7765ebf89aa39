"""The 15 top-level categories of the 12345 hotline, shared by routing, the ticket backend and actions.

A module of its own (no imports) so that `bot.routing` and `tickets` can both use it without a loop.
"""

from __future__ import annotations

CATEGORIES = (
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
    "农村农业",
    "政法",
    "民政",
    "党务政务",
    "经济管理",
    "纪检监察",
    "国土资源",
    "科技与信息产业",
)
