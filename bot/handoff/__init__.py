"""Human handoff: state in Redis (queue, holder, summary), the agents' staffed hours, and the summary
the agent reads."""

from bot.handoff.hours import StaffedHours, when_back
from bot.handoff.store import Handoff, HandoffStore
from bot.handoff.summary import collected_slots, handoff_summary, last_citizen_text

__all__ = [
    "Handoff",
    "HandoffStore",
    "StaffedHours",
    "collected_slots",
    "handoff_summary",
    "last_citizen_text",
    "when_back",
]
