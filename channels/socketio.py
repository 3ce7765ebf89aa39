"""The socket.io channel the web chat page and the widget talk to, under Rasa's name "socketio" (so
`output_channel=latest` still finds it). Compared with Rasa's SocketIOInput:

- **Sessions are issued by the server.** `session_request` with a token this hotline signed
  (channels.identity.WebSessions) rejoins that session; anything else (none, made up, someone else's id
  without its signature) gets a new one. The conversation is `web:<random>`; a socket's messages always
  go to the session it was confirmed, whatever `session_id` they carry, so a socket can only join the
  session it was issued.
- Every message passes channels.guard (rates per session and per IP, sizes, payloads only from buttons
  offered, nothing dropped); the buttons this output shows are recorded for it.
- Rasa's output dropped a bot message's metadata and could not send `custom`: this output adds
  `metadata` (agent, handoff), so the widget can show an agent's reply as such.
- With python-socketio >= 5.10 (the lock has 5.18) `enter_room` is a coroutine Rasa 3.6 never awaited.
- With `redis_manager` (set by channels.registry) the servers share rooms through Redis, so an agent's
  reply sent through one Rasa server reaches a citizen connected to another.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Dict, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot.redis_client import async_redis
from bot.settings import load
from channels.guard import Guard, Limits, OfferedPayloads, OnNewMessage, client_ip
from channels.identity import WebSessions
from channels.tasks import BackgroundTasks

logger = logging.getLogger(__name__)

MESSAGE_METADATA = ("agent", "handoff")  # bot-message metadata keys forwarded to the widget
MAX_PACKET_BYTES = 512 * 1024  # socket.io packets above this are refused by the transport itself


class WebChatSocketOutput(SocketIOOutput):
    """SocketIOOutput that forwards `agent`/`handoff` metadata, sends `custom` as {"custom": ...} and
    records the buttons it shows."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, offered: Optional[OfferedPayloads] = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.offered = offered
        self._metadata: Dict[str, Any] = {}

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self._metadata = {key: message[key] for key in MESSAGE_METADATA if message.get(key)}
        if self.offered is not None:
            await self.offered.remember_message(recipient_id, message)
        await super().send_response(recipient_id, message)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if self._metadata and isinstance(response, dict):
            response = {**response, "metadata": self._metadata}
        await super()._send_message(socket_id, response)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class WebChatSocketInput(InputChannel):
    """socket.io with server-issued, signed sessions (see the module docstring)."""

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: Optional[str] = None,
        socketio_path: str = "/socket.io",
        redis_url: Optional[str] = None,
        redis_manager: bool = False,
        limits: Optional[Limits] = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.namespace = namespace
        self.socketio_path = socketio_path
        self.redis_url = redis_url or load().redis_url
        self.redis_manager = redis_manager
        self.redis = async_redis(self.redis_url)
        self.sessions = WebSessions(self.redis)
        self.guard = Guard(self.redis, limits)
        self.tasks = BackgroundTasks(self.name())
        self.sio: Optional[AsyncServer] = None

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("socketio_path", "/socket.io"),
            redis_manager=bool(credentials.get("redis_manager")),
        )

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return None
        return WebChatSocketOutput(self.sio, self.bot_message_evt, self.guard.offered)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        manager = AsyncRedisManager(self.redis_url) if self.redis_manager else None
        # cors_allowed_origins=[]: socket.io leaves CORS to Sanic's (Rasa's --cors), as Rasa's channel does
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=[], client_manager=manager, max_http_buffer_size=MAX_PACKET_BYTES
        )
        hook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        self.guard.attach(hook)
        namespace = self.namespace

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> bool:
            request = environ.get("sanic.request")
            peer = getattr(request, "ip", None) or environ.get("REMOTE_ADDR")
            await sio.save_session(
                sid, {"ip": client_ip(peer, environ.get("HTTP_X_FORWARDED_FOR"))}, namespace=namespace
            )
            return True

        async def confirm(sid: str, token: Any) -> str:
            """Joins the socket to the session of `token` if we signed it, else to a new one."""
            conversation = await self.sessions.conversation(token)
            if conversation is None:
                token = await self.sessions.issue()
                conversation = await self.sessions.conversation(token)
            session = await sio.get_session(sid, namespace=namespace)
            earlier = session.get("conversation")
            if earlier and earlier != conversation:
                await _awaited(sio.leave_room(sid, earlier, namespace=namespace))
            await _awaited(sio.enter_room(sid, conversation, namespace=namespace))
            await sio.save_session(sid, {**session, "conversation": conversation, "token": token}, namespace=namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=namespace)
            return str(conversation)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            await confirm(sid, data.get("session_id") if isinstance(data, dict) else None)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {"message": data}
            session = await sio.get_session(sid, namespace=namespace)
            conversation = session.get("conversation") or await confirm(sid, data.get("session_id"))
            text = data.get("message")
            metadata = data.get("metadata")
            output = WebChatSocketOutput(sio, self.bot_message_evt, self.guard.offered)
            if not isinstance(text, str) or (metadata is not None and not isinstance(metadata, dict)):
                await Guard.answer(UserMessage("", output, conversation), "抱歉，这条消息的格式不对，没能收到。")
                return
            message = UserMessage(text, output, conversation, input_channel=self.name(), metadata=metadata)
            # a turn of its own, so that a slow turn does not hold up this socket's other events
            self.tasks.spawn(self.guard.handle(message, on_new_message, ip=session.get("ip")))

        return hook


async def _awaited(result: Any) -> None:
    if inspect.isawaitable(result):
        await result
