"""What the console shows and does for one conversation: view (masked unless held), take over, pick
up, reply, hand back, close, reassign, and tickets."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, List, Optional

from bot.handoff import Handoff, HandoffStore, collected_slots, handoff_summary
from bot.handoff.summary import citizen_question
from bot.personal_data import mask_deep
from bot.rasa_client import RasaClient
from bot.ticket_client import TicketClient, TicketError
from console.desk import local_iso, local_time, ticket_draft
from console.transcript import turns

logger = logging.getLogger(__name__)

GREETING = "您好，我是人工客服{name}，很高兴为您服务。请问有什么可以帮您？"
FAREWELL = "本次人工服务已结束，感谢您的耐心。之后如有需要，智能客服会继续为您服务。"
HANDED_BACK = "人工客服已结束服务，智能客服继续为您服务。"
NOBODY_CAME = "很抱歉，人工客服现在无法接入您的会话，排队已取消。智能客服继续为您服务；如需反映问题，可以直接说“我要投诉”留下诉求，或拨打12345。"
QUEUE_NEXT = "排队更新：下一位就是您，人工客服马上为您服务。"
QUEUE_AHEAD = "排队更新：您前面还有{ahead}位市民，请稍候。"
TICKET_FILED = "已为您登记工单，工单号：{number}。您可以随时发送“查询工单 {number}”查看办理进度。"
# Summary entries an agent reads; bookkeeping such as picked_by_agent is not shown.
SUMMARY_KEYS = ("question", "topic", "category", "description", "channel", "time")
TICKET_FIELDS = ("category", "description", "district", "address", "occurred_at", "name", "phone")


class ConsoleError(Exception):
    """A refused console operation: `status` is the HTTP status, the message is shown to the agent."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def list_item(
    record: Handoff, display_names: Dict[str, str], now: float, timezone: str = "Asia/Shanghai"
) -> Dict[str, Any]:
    """A queue or active-list row; personal data masked; times in the hotline's time zone."""
    summary = mask_deep(record.summary)
    return {
        "question": summary.get("question") or summary.get("description") or summary.get("last_message") or "",
        "queued_clock": local_time(record.queued_at, timezone),
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

    def __init__(
        self, store: HandoffStore, rasa: RasaClient, tickets: TicketClient, timezone: str = "Asia/Shanghai"
    ) -> None:
        self.store, self.rasa, self.tickets, self.timezone = store, rasa, tickets, timezone

    async def notice(self, conversation_id: str, text: str, **metadata: Any) -> None:
        """A message from the hotline (not from the bot or an agent) with `handoff` state for the widget."""
        await self.rasa.append(conversation_id, {"event": "bot", "text": text, "metadata": metadata}, True)

    async def tell_queue_positions(self) -> None:
        """Tells every waiting citizen their new place after someone left the queue."""
        for ahead, record in enumerate(await self.store.waiting()):
            text = QUEUE_NEXT if ahead == 0 else QUEUE_AHEAD.format(ahead=ahead)
            try:
                await self.notice(record.id, text, handoff="queued", ahead=ahead)
            except Exception:  # one unreachable conversation must not stop the others' updates
                logger.exception("could not tell %s its place in the queue", record.id)

    def _summary(self, record: Optional[Handoff], question: str) -> Dict[str, Any]:
        summary = dict(record.summary) if record else {}
        summary["question"] = question or summary.get("description") or summary.get("last_message")
        summary["time"] = local_iso(summary.get("time"), self.timezone)
        return {key: summary.get(key) for key in SUMMARY_KEYS if summary.get(key)}

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
        slots = collected_slots(tracker.get("slots"))
        question = citizen_question(events, slots)
        data = {
            "id": conversation_id,
            "mine": mine,
            "status": record.status if record else "bot",
            "agent": record.agent if record else None,
            "question": question,
            "summary": self._summary(record, question),
            "transcript": turns(events, self.timezone),
            "slots": slots,
            "draft": ticket_draft(events, slots, record.summary if record else {}),
            "suggestions": suggestions(question),
            "queued_at": record.queued_at if record else None,
            "taken_at": record.taken_at if record else None,
        }
        data.update(await self._tickets(conversation_id))
        if not mine:
            data = mask_deep(data)
        return data

    async def transcript(self, conversation_id: str, agent: str) -> Dict[str, Any]:
        """Only the transcript (for live updates), masked unless `agent` holds the conversation."""
        tracker = await self.rasa.tracker(conversation_id)
        events = tracker.get("events") or []
        question = citizen_question(events, collected_slots(tracker.get("slots")))
        data = {
            "transcript": turns(events, self.timezone),
            "count": len(events),
            "question": question,
            "suggestions": suggestions(question),
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
        await self.tell_queue_positions()

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
        await self.rasa.append(
            conversation_id,
            {
                "event": "bot",
                "text": GREETING.format(name=display_name),
                "metadata": {"agent": display_name, "handoff": "taken"},
            },
            True,
        )

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
        await self.notice(conversation_id, HANDED_BACK, handoff="released")
        await self.rasa.hand_back(conversation_id)
        await self.store.finish(conversation_id, agent, "handed_back")

    async def close(
        self, conversation_id: str, agent: str, supervisor: bool, display_names: Optional[Dict[str, str]] = None
    ) -> None:
        """Ends the human service with a farewell signed with the agent's display name (the bot answers
        later messages again). Supervisors may close any conversation; a waiting citizen is told that
        nobody will come, and the others in the queue their new place."""
        record = await self.store.get(conversation_id)
        if record is None or record.status == "closed":
            raise ConsoleError(409, "这个会话没有在人工服务中")
        if not supervisor:
            await self._require_holder(conversation_id, agent)
        if record.status == "active":
            holder = record.agent or agent
            name = (display_names or {}).get(holder, holder)
            await self.rasa.append(
                conversation_id,
                {"event": "bot", "text": FAREWELL, "metadata": {"agent": name, "handoff": "released"}},
                True,
            )
        else:
            await self.notice(conversation_id, NOBODY_CAME, handoff="released")
        await self.rasa.hand_back(conversation_id, trigger=False)
        await self.store.finish(conversation_id, None if supervisor else agent, "closed")
        if record.status == "waiting":
            await self.tell_queue_positions()

    async def announce_ticket(self, conversation_id: str, agent: str, number: str) -> None:
        """Sends the ticket number to the citizen (one key in the console)."""
        await self._require_holder(conversation_id, agent)
        await self.notice(conversation_id, TICKET_FILED.format(number=number), handoff="taken", ticket=number)

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
        if fields.get("department"):
            payload["department"] = fields["department"]
        ticket = await self._ticket_call(self.tickets.create_ticket(payload))
        if ticket.get("number") and fields.get("announce", True):
            await self.notice(
                conversation_id, TICKET_FILED.format(number=ticket["number"]), handoff="taken", ticket=ticket["number"]
            )
        return ticket

    async def update_ticket(
        self, conversation_id: str, agent: str, number: str, fields: Dict[str, Any]
    ) -> Dict[str, Any]:
        """Edits a ticket of this conversation's citizen."""
        await self._require_holder(conversation_id, agent)
        ticket = await self._ticket_call(self.tickets.get_ticket(number))
        if ticket.get("sender_id") != conversation_id:
            raise ConsoleError(403, "这张工单不属于当前会话的市民")
        changes = {key: value for key, value in fields.items() if key in TICKET_FIELDS + ("department",)}
        changes["changed_by"] = agent  # a changed category is stored as this agent's correction
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
