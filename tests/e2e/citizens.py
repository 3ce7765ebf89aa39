"""Citizens that talk to the running stack: over socket.io, as the web widget does."""

from __future__ import annotations

import asyncio
import time

import socketio


class SocketCitizen:
    """A citizen on Rasa's socket.io channel, as the web widget talks to it."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.token = ""  # the signed session token the server issues (channels.identity.WebSessions)
        self.session_id = ""  # the conversation id: "web:<random part of the token>"
        self.received: asyncio.Queue = asyncio.Queue()
        self.client.on("bot_uttered", self._on_bot)

    async def _on_bot(self, data) -> None:
        await self.received.put((time.monotonic(), data))

    async def connect(self, rasa_url: str) -> None:
        await self.client.connect(
            rasa_url, socketio_path="/socket.io", transports=["polling"]
        )  # engineio 4.15 websocket client needs aiohttp>=3.10
        confirmed: asyncio.Queue = asyncio.Queue()
        self.client.on("session_confirm", confirmed.put)
        await self.client.emit("session_request", {})
        self.token = await asyncio.wait_for(confirmed.get(), 10)
        self.session_id = "web:" + self.token.split(".")[0]

    async def says(self, text: str) -> float:
        sent = time.monotonic()
        await self.client.emit("user_uttered", {"message": text, "session_id": self.token})
        return sent

    async def hears(self, fragment: str, timeout: float = 20.0):
        """Waits for a bot message containing `fragment`; returns (arrival time, message)."""
        deadline = time.monotonic() + timeout
        while True:
            at, data = await asyncio.wait_for(self.received.get(), max(0.1, deadline - time.monotonic()))
            if fragment in (data.get("text") or ""):
                return at, data

    def drain(self) -> list:
        items = []
        while not self.received.empty():
            items.append(self.received.get_nowait()[1])
        return items
