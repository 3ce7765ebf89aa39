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

# What a citizen reads on the category buttons: everyday words for the administrative names (the
# ticket keeps the administrative name, which the buttons send as their payload).
CITIZEN_NAMES = {
    "城乡建设": "住房、物业、道路与市政",
    "环境保护": "噪音、污染与环境卫生",
    "交通运输": "公交、出租车与交通",
    "教育文体": "学校、教育与文体活动",
    "劳动和社会保障": "工资、社保与就业",
    "商贸旅游": "消费、商家与旅游",
    "卫生计生": "医院、医疗与卫生",
    "农村农业": "农村与农业",
    "政法": "治安、法律与户籍",
    "民政": "养老、救助与婚姻登记",
    "党务政务": "政府办事与服务态度",
    "经济管理": "企业、市场与价格",
    "纪检监察": "举报公职人员",
    "国土资源": "土地与房产登记",
    "科技与信息产业": "网络、通信与科技",
}


def citizen_name(category: str) -> str:
    """The button title for a category (the administrative name if it has no everyday one)."""
    return CITIZEN_NAMES.get(category, category)
