"""`python -m tickets`: serve the ticket backend on settings.host:settings.tickets_port."""

from __future__ import annotations

import logging

from aiohttp import web

from bot import log_privacy
from bot.settings import load
from tickets.app import create_app


def main() -> None:
    """Run the ticket backend until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log_privacy.private_umask()  # the SQLite database: owner only
    log_privacy.install()
    settings = load()
    web.run_app(create_app(settings), host=settings.host, port=settings.tickets_port, print=None)


if __name__ == "__main__":
    main()
