"""What agents see of the stack's health on the queue page: parts that are down or restarted in the last
hour, and complaints kept in the outbox while the ticket system was away. It reads the supervisor's
/health (`bianmin run`); a console run without it shows nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import List, Optional

import aiohttp

RECENT_RESTART = 3600  # seconds: a restart is news to the agents for an hour
PART_NAMES = {
    "redis": "会话存储",
    "tickets": "工单系统",
    "actions": "业务服务",
    "rasa": "对话引擎",
    "console": "坐席台",
}


async def fetch_health(url: str, timeout: float = 2.0) -> Optional[dict]:
    """The health report (a 503 still carries it), or None when nothing readable answers."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.get(url) as answer:
                report = await answer.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return None
    return report if isinstance(report, dict) and isinstance(report.get("parts"), list) else None


def _minutes_ago(iso: Optional[str], now: datetime) -> Optional[int]:
    if not iso:
        return None
    return max(0, int((now - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds() // 60))


def notices(report: Optional[dict], now: Optional[datetime] = None) -> List[str]:
    """One Chinese line per thing agents should know: a part down, a recent restart, complaints kept."""
    if report is None:
        return []
    now = now or datetime.now(timezone.utc)
    lines = []
    for part in report["parts"]:
        name = PART_NAMES.get(part.get("name"), str(part.get("name")))
        minutes = _minutes_ago(part.get("since"), now)
        if part.get("state") != "up":
            since = f"（{minutes} 分钟前起）" if minutes is not None else ""
            lines.append(f"{name}暂时不可用{since}，系统正在自动恢复；市民会收到“系统正在恢复中”的提示。")
        elif part.get("restarts") and minutes is not None and minutes * 60 < RECENT_RESTART:
            lines.append(f"{name}在 {minutes} 分钟前自动重启过（累计 {part['restarts']} 次），现已恢复。")
    pending = (report.get("outbox") or {}).get("pending") or 0
    if pending:
        lines.append(f"有 {pending} 件诉求暂存待送工单系统，恢复后会自动补送，请勿让市民重复提交。")
    return lines
