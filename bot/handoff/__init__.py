"""Human handoff state in Redis (queue, holder, summary) and the agents' staffed hours."""
from bot.handoff.hours import StaffedHours, when_back
from bot.handoff.store import Handoff, HandoffStore

__all__ = ["Handoff", "HandoffStore", "StaffedHours", "when_back"]
