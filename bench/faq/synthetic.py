"""Synthetic knowledge-base entries for the scale test, recombined from templates at run time.

They reuse the hotline vocabulary (districts, housing estates, facilities, problems, services) so the
posting lists grow as they would with a real 20,000-entry base, and they compete with the real entries.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import List

from bot.kb import Entry

DISTRICTS = "和平区 河西区 南开区 河东区 河北区 红桥区 滨海新区 东丽区 西青区 津南区 北辰区 武清区 宝坻区 宁河区 静海区 蓟州区".split()
SYLLABLES = "华 景 阳 光 明 安 康 泰 和 顺 福 瑞 祥 兴 盛 嘉 锦 润 丰 宁 海 河 桥 园 秀 馨 怡 翠 柳 梅".split()
SUFFIXES = "家园 花园 新村 里 公寓 小区 雅苑 名邸".split()
FACILITIES = "暖气管道 二次供水泵房 楼道灯 电梯 消防栓 化粪池 雨水井 外墙保温层 单元门禁 自行车棚 健身器材 垃圾站 路灯 井盖 绿地 停车场 充电桩 燃气管线 排水管 屋面防水".split()
PROBLEMS = "损坏 漏水 维修进度 改造计划 收费标准 使用规定 更换安排 检测结果 管理责任 噪音 异味 安全隐患".split()
SERVICES = "养老服务补贴 居住证签注 公积金提取 社保转移 残疾人补贴 老年证 医保备案 营业执照变更 门牌号申请 占道施工审批 犬只登记 临时救助".split()
DEPARTMENTS = "街道办事处 区住房建设委员会 区城市管理委员会 区市场监督管理局 区民政局 区人力资源和社会保障局 社区居委会 区政务服务中心".split()
QUESTION_TEMPLATES = (
    "{district}{estate}的{facility}{problem}怎么办",
    "{estate}{facility}{problem}找哪个部门",
    "请问{district}{estate}{facility}的{problem}",
)
SERVICE_TEMPLATES = (
    "{district}{service}在哪里办理",
    "在{district}办{service}需要什么材料",
    "{district}{service}多久能办好",
)
CATEGORIES = ("城乡建设", "民政", "劳动和社会保障", "经济管理")


def generate(count: int, seed: int = 7) -> List[Entry]:
    """`count` distinct synthetic entries with ids synthetic_000001..."""
    rng = random.Random(seed)
    entries = []
    for number in range(1, count + 1):
        district = rng.choice(DISTRICTS)
        estate = "".join(rng.sample(SYLLABLES, 2)) + rng.choice(SUFFIXES)
        department = rng.choice(DEPARTMENTS)
        if rng.random() < 0.75:
            facility, problem = rng.choice(FACILITIES), rng.choice(PROBLEMS)
            slots = dict(district=district, estate=estate, facility=facility, problem=problem)
            questions = [template.format(**slots) for template in QUESTION_TEMPLATES]
            answer = f"您好，{district}{estate}{facility}{problem}的问题由{department}负责，请在这里登记地址，我们会转办并跟进。"
        else:
            slots = dict(district=district, service=rng.choice(SERVICES))
            questions = [template.format(**slots) for template in SERVICE_TEMPLATES]
            answer = f"您好，{district}的{slots['service']}请到{department}办理，带好身份证和相关证明材料。"
        entries.append(
            Entry(
                id=f"synthetic_{number:06d}",
                questions=questions,
                answer=answer,
                category=rng.choice(CATEGORIES),
                source="bench/faq synthetic",
                reviewed=dt.date(2026, 1, 1),
            )
        )
    return entries
