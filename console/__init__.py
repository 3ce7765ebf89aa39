"""Agent takeover console: agents see waiting conversations, take over, reply, open tickets, hand back."""
