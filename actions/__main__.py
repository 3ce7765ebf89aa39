"""`python -m actions`: the rasa-sdk action server, plus the outbox loop that re-delivers complaints
kept while the ticket backend was down."""

from __future__ import annotations

import logging

from rasa_sdk.endpoint import create_app

from actions.outbox import run_outbox_loop
from bot import log_privacy
from bot.settings import load


def warm_up() -> None:
    """Loads the knowledge base, jieba and the routing model before serving, so the first citizen
    does not wait for them (the health check answers only after this)."""
    from bot.kb import shared as knowledge_base
    from bot.routing import shared as router

    knowledge_base().search("暖气不热怎么办")
    router().classify("小区暖气不热")


def main() -> None:
    """Serve the actions in this package on settings.actions_port."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log_privacy.private_umask()  # the outbox and anything else written: owner only
    log_privacy.install()  # no secrets, no citizens' full texts in the log
    settings = load()
    warm_up()
    app = create_app("actions")

    @app.after_server_start
    async def start_outbox(app, _loop) -> None:
        app.add_task(run_outbox_loop())

    app.run(settings.host, settings.actions_port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
