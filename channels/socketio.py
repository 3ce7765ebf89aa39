"""Rasa's socket.io channel, fixed for the web widget. It keeps the name "socketio" (so
`output_channel=latest` still finds it) and changes two things:

- Rasa's SocketIOOutput drops a bot message's metadata and cannot send `custom` payloads, so the widget
  could not tell an agent's reply from the bot's: this output adds `metadata` (agent, handoff).
- With python-socketio >= 5.10 (the lock has 5.18) `AsyncServer.enter_room` is a coroutine that Rasa 3.6
  never awaits, so with session persistence no reply ever reached the browser: session_request is
  re-registered here and awaits it.
"""
from __future__ import annotations

import inspect
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

MESSAGE_METADATA = ("agent", "handoff")  # bot-message metadata keys forwarded to the widget


class WebChatSocketOutput(SocketIOOutput):
    """SocketIOOutput that forwards `agent`/`handoff` metadata and sends `custom` as {"custom": ...}."""

    _metadata: Dict[str, Any] = {}

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self._metadata = {key: message[key] for key in MESSAGE_METADATA if message.get(key)}
        await super().send_response(recipient_id, message)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if self._metadata and isinstance(response, dict):
            response = {**response, "metadata": self._metadata}
        await super()._send_message(socket_id, response)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class WebChatSocketInput(SocketIOInput):
    """Rasa's socket.io input whose replies go through :class:`WebChatSocketOutput`."""

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return super().get_output_channel()
        return WebChatSocketOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_metadata_output(message: UserMessage) -> Any:
            message.output_channel = self.get_output_channel()
            return await on_new_message(message)

        hook = super().blueprint(with_metadata_output)
        sio = self.sio

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Optional[Dict[str, Any]]) -> None:
            session_id = (data or {}).get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return hook
