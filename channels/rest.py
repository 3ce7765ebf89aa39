"""The REST channel for trusted integrations (`bianmin shell`, a hotline's own app server), at
/webhooks/rest/webhook. Replaces Rasa's `rest` under the same name.

Rasa's REST channel let anyone pick any conversation (`sender`) and so act as any citizen of any channel
(issue 15). This one needs the Rasa token (`Authorization: Bearer $BIANMIN_RASA_TOKEN`, or `?token=`), and
its conversations are namespaced `rest:<sender>`, so even a token holder cannot reach a WeChat, Telegram or
web-chat conversation. Citizens' browsers use the web chat (socket.io), which issues signed sessions.

Body: `{"sender": "...", "message": "...", "metadata": {...}}` → the bot's messages as a JSON list (every
message gets at least one answer: a refused or failed one says why, see channels.guard).
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any, Dict, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.redis_client import async_redis
from bot.settings import Settings, load
from channels.bodies import json_object
from channels.guard import Guard, Limits, OfferedPayloads, OnNewMessage
from channels.identity import REST, conversation_of
from channels.tasks import BackgroundTasks

MAX_BODY_BYTES = 1024 * 1024  # larger bodies are refused (413) before they are read as JSON
MAX_SENDER_CHARS = 100


def _error(status: int, error: str) -> HTTPResponse:
    return response.json({"error": error}, status=status)


class RecordingCollector(CollectingOutputChannel):
    """Rasa's collecting output, which also records the buttons it offered (for channels.guard)."""

    def __init__(self, offered: OfferedPayloads) -> None:
        super().__init__()
        self.offered = offered

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        await self.offered.remember_message(recipient_id, message)
        await super().send_response(recipient_id, message)


class TokenRestInput(InputChannel):
    """REST for integrations holding the Rasa token; conversations `rest:<sender>`."""

    def __init__(self, settings: Settings, limits: Optional[Limits] = None) -> None:
        self.token = settings.rasa_token
        self.redis = async_redis(settings.redis_url)
        self.guard = Guard(self.redis, limits)
        self.tasks = BackgroundTasks(self.name())

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(load())

    def authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        given = header[len("Bearer ") :] if header.startswith("Bearer ") else request.args.get("token", "")
        return bool(self.token) and hmac.compare_digest(str(given).encode(), self.token.encode())

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint("bianmin_rest_webhook", __name__)
        self.guard.attach(hook)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authorised(request):
                return _error(401, "REST 渠道需要令牌（Authorization: Bearer <BIANMIN_RASA_TOKEN>）")
            if len(request.body or b"") > MAX_BODY_BYTES:
                return _error(413, f"请求体超过 {MAX_BODY_BYTES} 字节")
            body = json_object(request.body)
            if body is None:
                return _error(400, "请求体必须是 JSON 对象")
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
                return _error(400, f"sender 必须是 1 到 {MAX_SENDER_CHARS} 个字符的字符串")
            if not isinstance(text, str):
                return _error(400, "message 必须是字符串")
            if metadata is not None and not isinstance(metadata, dict):
                return _error(400, "metadata 必须是 JSON 对象")
            collector = RecordingCollector(self.guard.offered)
            message = UserMessage(
                text, collector, conversation_of(REST, sender.strip()), input_channel=self.name(), metadata=metadata
            )
            too_long = self.guard.too_long(message)
            if too_long is not None:  # answered at once: no task, no Redis, the model never sees it
                await self.guard.answer(message, too_long)
                return response.json(collector.messages)
            # its own task: a client that hangs up must not cut the turn short (Sanic cancels the handler)
            await asyncio.shield(self.tasks.spawn(self.guard.handle(message, on_new_message)))
            return response.json(collector.messages)

        @hook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.redis.close()

        return hook
