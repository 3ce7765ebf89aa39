"""What the console shows and does for one conversation: view (masked unless held), take over, pick
up, reply, hand back, close, reassign, and tickets."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, List, Optional

from bot.handoff import Handoff, HandoffStore, collected_slots, handoff_summary, last_citizen_text
from bot.personal_data import mask_deep
from bot.rasa_client import RasaClient
from bot.ticket_client import TicketClient, TicketError
from console.transcript import turns

logger = logging.getLogger(__name__)

GREETING = "您好，我是人工客服{name}，很高兴为您服务。请问有什么可以帮您？"
FAREWELL = "本次人工服务已结束，感谢您的耐心。之后如有需要，智能客服会继续为您服务。"
TICKET_FIELDS = ("category", "description", "district", "address", "occurred_at", "name", "phone")


class ConsoleError(Exception):
    """A refused console operation: `status` is the HTTP status, the message is shown to the agent."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def list_item(record: Handoff, display_names: Dict[str, str], now: float) -> Dict[str, Any]:
    """A queue or active-list row; personal data masked."""
    summary = mask_deep(record.summary)
    return {
        "id": record.id,
        "status": record.status,
        "agent": record.agent,
        "agent_name": display_names.get(record.agent or "", record.agent),
        "queued_at": record.queued_at,
        "taken_at": record.taken_at,
        "waited": round(record.waited(now), 1),
        "summary": {
            key: summary.get(key)
            for key in ("topic", "intent", "category", "description", "channel", "last_message", "time")
        },
    }


def suggestions(question: Optional[str]) -> List[Dict[str, Any]]:
    """Up to three knowledge-base answers for the citizen's last question ([] if none or no kb)."""
    if not question:
        return []
    try:
        from bot.kb import shared

        hits = shared().search(question, k=3)
    except Exception:  # the knowledge base is optional for the console
        logger.exception("knowledge base search failed")
        return []
    return [
        {"question": hit.entry.questions[0], "answer": hit.entry.answer.strip(), "score": round(float(hit.score), 3)}
        for hit in hits
    ]


class Conversations:
    """Console operations on conversations; `agent` is the logged-in account name."""

    def __init__(self, store: HandoffStore, rasa: RasaClient, tickets: TicketClient) -> None:
        self.store, self.rasa, self.tickets = store, rasa, tickets

    async def _require_holder(self, conversation_id: str, agent: str) -> None:
        holder = await self.store.holder(conversation_id)
        if holder != agent:
            raise ConsoleError(409, "这个会话不在您手上" + (f"（由 {holder} 处理中）" if holder else ""))

    async def view(self, conversation_id: str, agent: str) -> Dict[str, Any]:
        """Transcript, slots, summary, tickets and suggested answers; masked unless `agent` holds it."""
        record = await self.store.get(conversation_id)
        mine = record is not None and record.status == "active" and record.agent == agent
        tracker = await self.rasa.tracker(conversation_id)
        events = tracker.get("events") or []
        data = {
            "id": conversation_id,
            "mine": mine,
            "status": record.status if record else "bot",
            "agent": record.agent if record else None,
            "summary": record.summary if record else {},
            "transcript": turns(events),
            "slots": collected_slots(tracker.get("slots")),
            "suggestions": suggestions(last_citizen_text(events)),
        }
        data.update(await self._tickets(conversation_id))
        if not mine:
            data = mask_deep(data)
        return data

    async def transcript(self, conversation_id: str, agent: str) -> Dict[str, Any]:
        """Only the transcript (for live updates), masked unless `agent` holds the conversation."""
        tracker = await self.rasa.tracker(conversation_id)
        events = tracker.get("events") or []
        data = {
            "transcript": turns(events),
            "count": len(events),
            "suggestions": suggestions(last_citizen_text(events)),
        }
        return data if await self.store.holder(conversation_id) == agent else mask_deep(data)

    async def _tickets(self, conversation_id: str) -> Dict[str, Any]:
        try:
            found = await self.tickets.list_tickets(sender_id=conversation_id, limit=20)
            return {"tickets": found.get("tickets") or [], "tickets_error": None}
        except TicketError as error:
            return {"tickets": [], "tickets_error": f"工单系统暂时无法查询（{error}）"}

    async def take(self, conversation_id: str, agent: str, display_name: str) -> None:
        """Takes a waiting conversation (only one agent wins), makes sure the bot is paused, greets."""
        if not await self.store.take(conversation_id, agent):
            holder = await self.store.holder(conversation_id)
            raise ConsoleError(409, f"这个会话已由 {holder} 接入" if holder else "这个会话已不在等待队列中")
        await self._start(conversation_id, display_name)

    async def pick_up(self, conversation_id: str, agent: str, display_name: str) -> None:
        """Takes any conversation by id: a waiting one as `take`, otherwise pauses the bot for it."""
        if await self.store.take(conversation_id, agent):
            await self._start(conversation_id, display_name)
            return
        tracker = await self.rasa.tracker(conversation_id)
        if not any(event.get("event") == "user" for event in tracker.get("events") or []):
            raise ConsoleError(404, "没有找到这个会话")
        if not await self.store.pick_up(conversation_id, agent, handoff_summary(tracker, picked_by_agent=True)):
            raise ConsoleError(409, "这个会话已在人工服务中")
        await self._start(conversation_id, display_name)

    async def _start(self, conversation_id: str, display_name: str) -> None:
        await self.rasa.pause(conversation_id)  # already paused after action_handoff; needed when picked
        await self.rasa.say(conversation_id, GREETING.format(name=display_name), display_name)

    async def reply(self, conversation_id: str, agent: str, display_name: str, text: str) -> None:
        """Sends the agent's message to the citizen on the citizen's channel."""
        text = (text or "").strip()
        if not text or len(text) > 2000:
            raise ConsoleError(400, "消息不能为空，也不能超过2000字")
        await self._require_holder(conversation_id, agent)
        await self.rasa.say(conversation_id, text, display_name)

    async def hand_back(self, conversation_id: str, agent: str) -> None:
        """Gives the conversation back to the bot, which asks the citizen for a rating."""
        await self._require_holder(conversation_id, agent)
        await self.rasa.hand_back(conversation_id)
        await self.store.finish(conversation_id, agent, "handed_back")

    async def close(self, conversation_id: str, agent: str, supervisor: bool) -> None:
        """Ends the human service with a farewell (the bot answers later messages again). Supervisors may
        close any conversation, waiting ones included."""
        record = await self.store.get(conversation_id)
        if record is None or record.status == "closed":
            raise ConsoleError(409, "这个会话没有在人工服务中")
        if not supervisor:
            await self._require_holder(conversation_id, agent)
        if record.status == "active":
            await self.rasa.say(conversation_id, FAREWELL, record.agent or agent)
        await self.rasa.hand_back(conversation_id, trigger=False)
        await self.store.finish(conversation_id, None if supervisor else agent, "closed")

    async def reassign(self, conversation_id: str, to_agent: str) -> None:
        """Gives a held conversation to another agent (supervisors)."""
        if not await self.store.reassign(conversation_id, to_agent):
            raise ConsoleError(409, "只能转派人工服务中的会话")

    async def create_ticket(self, conversation_id: str, agent: str, fields: Dict[str, Any]) -> Dict[str, Any]:
        """Opens a ticket for the citizen from the (agent-edited) collected details."""
        await self._require_holder(conversation_id, agent)
        record = await self.store.get(conversation_id)
        payload = {key: fields.get(key) or None for key in TICKET_FIELDS}
        payload.update(
            client_ref=uuid.uuid4().hex,
            sender_id=conversation_id,
            channel=(record.summary.get("channel") if record else None) or "console",
            confidential=bool(fields.get("confidential")),
        )
        return await self._ticket_call(self.tickets.create_ticket(payload))

    async def update_ticket(
        self, conversation_id: str, agent: str, number: str, fields: Dict[str, Any]
    ) -> Dict[str, Any]:
        """Edits a ticket of this conversation's citizen."""
        await self._require_holder(conversation_id, agent)
        ticket = await self._ticket_call(self.tickets.get_ticket(number))
        if ticket.get("sender_id") != conversation_id:
            raise ConsoleError(403, "这张工单不属于当前会话的市民")
        changes = {key: value for key, value in fields.items() if key in TICKET_FIELDS}
        return await self._ticket_call(self.tickets.update_ticket(number, changes))

    @staticmethod
    async def _ticket_call(call) -> Dict[str, Any]:
        try:
            return await call
        except TicketError as error:
            message = getattr(error, "message", None) or str(error)
            raise ConsoleError(
                getattr(error, "status", 502) if getattr(error, "status", 0) < 500 else 502, f"工单系统：{message}"
            ) from error
