"""`python -m stack.rasa_server run …`: Rasa's own command line (`python -m rasa …`, same arguments), with
the log privacy of every Bianmin process (bot/log_privacy.py): no secrets, masked phone and ID numbers,
no citizen's full text in the Rasa server's log, whatever level and handlers Rasa configures later."""

from __future__ import annotations

from bot import log_privacy


def main() -> None:
    log_privacy.private_umask()
    log_privacy.mask_every_record()  # before Rasa sets up its handlers (and structlog, which logs through them)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
