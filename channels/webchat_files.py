"""The web chat: a Chinese chat page, the embeddable widget script and a demo page, at /webhooks/webchat/.

The widget talks to the socket.io channel (channels.socketio); this "channel" only serves files: Rasa
mounts input channels' blueprints, so that is how the files get onto the Rasa server's port.
Embed it on any page with one tag: <script src="https://<rasa>/webhooks/webchat/widget.js"></script>
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

STATIC = Path(__file__).resolve().parent / "static"
FILES = {  # route → (file, content type)
    "/": ("chat.html", "text/html; charset=utf-8"),
    "/demo": ("demo.html", "text/html; charset=utf-8"),
    "/widget.js": ("widget.js", "application/javascript; charset=utf-8"),
    "/socket.io.min.js": ("socket.io.min.js", "application/javascript; charset=utf-8"),
}


class WebChatFiles(InputChannel):
    """Serves the chat page, widget.js, the demo page and the socket.io client the widget loads."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        files = Blueprint("bianmin_webchat", __name__)

        def serve(name: str, content_type: str) -> Callable[[Request], Awaitable[HTTPResponse]]:
            async def handler(_: Request) -> HTTPResponse:
                return response.raw(
                    (STATIC / name).read_bytes(), content_type=content_type, headers={"Cache-Control": "no-cache"}
                )

            handler.__name__ = f"serve_{name.replace('.', '_')}"
            return handler

        for route, (name, content_type) in FILES.items():
            files.add_route(serve(name, content_type), route, methods=["GET"])
        return files
