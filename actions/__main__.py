"""`python -m actions`: the rasa-sdk action server, plus the outbox loop that re-delivers complaints
kept while the ticket backend was down.

Only Rasa may call it: every request but `GET /health` must carry settings.actions_token (Rasa sends it as
`?token=`, endpoints.yml; `Authorization: Bearer` works too), otherwise 403. An action call holds a whole
conversation (names, phones, addresses) and its answer can file tickets in the citizen's name."""

from __future__ import annotations

import hmac
import logging
from typing import Optional

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.outbox import run_outbox_loop
from bot import log_privacy
from bot.settings import load

KEEP_ALIVE_SECONDS = 75  # an idle connection from Rasa is kept this long (Rasa closes its own after 10 s)


def warm_up() -> None:
    """Loads the knowledge base, jieba and the routing model before serving, so the first citizen
    does not wait for them (the health check answers only after this)."""
    from bot.kb import shared as knowledge_base
    from bot.routing import shared as router

    knowledge_base().search("暖气不热怎么办")
    router().classify("小区暖气不热")


def given_token(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[len("Bearer ") :] if header.startswith("Bearer ") else request.args.get("token", "")


def require_token(app: Sanic, token: str) -> None:
    """Refuses (403) every request without `token`, except the health check."""
    if not token:
        raise SystemExit("the action server needs BIANMIN_ACTIONS_TOKEN (or a writable var/ to keep one)")

    @app.middleware("request")
    async def check_token(request: Request) -> Optional[HTTPResponse]:
        if request.path == "/health" or hmac.compare_digest(given_token(request).encode(), token.encode()):
            return None
        return response.json({"error": "forbidden: the action server answers Rasa only"}, status=403)


def main() -> None:
    """Serve the actions in this package on settings.actions_port."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log_privacy.private_umask()  # the outbox and anything else written: owner only
    log_privacy.install()  # no secrets, no citizens' full texts in the log
    settings = load()
    warm_up()
    app = create_app("actions")
    require_token(app, settings.actions_token)
    # Rasa keeps its connection to this server alive between calls (bot/nlu/endpoint_session.py, idle ones
    # closed after 10 s): this side keeps an idle one longer (Sanic's default is 5 s), so that Rasa never
    # writes a call to a connection this server is closing
    app.config.KEEP_ALIVE_TIMEOUT = KEEP_ALIVE_SECONDS

    @app.after_server_start
    async def start_outbox(app, _loop) -> None:
        app.add_task(run_outbox_loop())

    app.run(settings.host, settings.actions_port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
