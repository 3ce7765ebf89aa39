"""`python -m console`: serve the agent console on settings.host:settings.console_port."""

from __future__ import annotations

import logging

from aiohttp import web

from bot import log_privacy
from bot.settings import load
from console.accounts import Accounts, remember_first_password
from console.app import create_app


def main() -> None:
    """Create the first supervisor account if there is none, then serve the console."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log_privacy.private_umask()
    log_privacy.install()
    settings = load()
    accounts = Accounts(settings.database_url)
    password = accounts.ensure_first_admin()
    if password:
        path = remember_first_password(settings.var_dir, password)
        # this output goes to var/logs/console.log: the password itself only to the owner-only file
        print(
            f"Agent console: no account existed, created supervisor 'admin'; its password is in {path} "
            "(readable by this user only) until it is changed with `bianmin agents passwd admin`",
            flush=True,
        )
    web.run_app(
        create_app(settings, accounts), host=settings.host, port=settings.console_port, access_log=None, print=None
    )


if __name__ == "__main__":
    main()
