"""The `bianmin` command: train, run, status, shell, classify, kb, routing, purge, agents."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from typing import List, Optional

from bot.settings import load


def _train(args: argparse.Namespace) -> int:
    from stack.training import ensure_model

    print(ensure_model(load(), force=args.force))
    return 0


def _run(args: argparse.Namespace) -> int:
    from stack.run import run_forever

    return run_forever(load())


def _status(args: argparse.Namespace) -> int:
    """Each part of the running assistant and the outbox's backlog, from the supervisor's health URL."""
    from stack.status import fetch, render

    url = load().health_url
    report = fetch(url)
    if report is None:
        print(
            f"bianmin: nothing answers at {url}: the assistant is not running (start it with `make run`).",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else render(report))
    return 0 if report["ok"] else 1


def _post_json(url: str, body: dict, token: str = "") -> list:
    headers = {"Content-Type": "application/json"}
    if token:  # the REST channel takes only callers holding the Rasa token (channels/rest.py)
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"[]")


def _shell(args: argparse.Namespace) -> int:
    """Chat with the running assistant through its REST channel; numbers pick buttons."""
    settings = load()
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    sender = f"shell-{uuid.uuid4().hex[:8]}"
    buttons: List[dict] = []
    print("和12345智能客服对话（输入数字选择按钮，Ctrl-D 退出）")
    while True:
        try:
            text = input("您: ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            replies = _post_json(url, {"sender": sender, "message": text}, settings.rasa_token)
        except (urllib.error.URLError, OSError):
            print(f"bianmin: the assistant does not answer at {url}: start it first with `make run`.", file=sys.stderr)
            return 1
        buttons = []
        for reply in replies:
            if reply.get("text"):
                print(f"客服: {reply['text']}")
            for button in reply.get("buttons") or []:
                buttons.append(button)
                print(f"   {len(buttons)}. {button['title']}")


def _classify(args: argparse.Namespace) -> int:
    from bot.routing.classify_cli import main as classify_main

    return classify_main(sys.stdin, sys.stdout)


def _kb_search(args: argparse.Namespace) -> int:
    from bot.kb import FaqError, KnowledgeBase

    try:
        kb = KnowledgeBase.from_dir(load().faq_dir)
    except FaqError as error:
        print(f"bianmin: invalid knowledge base: {error}", file=sys.stderr)
        return 1
    hits = kb.search(args.query, k=args.k, channel=args.channel)
    print(f"decision: {kb.decide(hits)}")
    for hit in hits:
        print(f"{hit.score:.3f}  {hit.entry.id}  {hit.entry.questions[0]}")
        if args.answers:
            print("       " + hit.entry.answer.strip().replace("\n", "\n       "))
    return 0


def _ticket_training_rows() -> list:
    """Tickets whose category dispatchers corrected or confirmed, as routing training rows."""
    from bot.routing.history import HistoryRow
    from tickets.store import TicketStore

    store = TicketStore(load().database_url)
    try:
        return [HistoryRow("", text, category, source) for text, category, source in store.training_rows()]
    finally:
        store.dispose()


def _routing(args: argparse.Namespace) -> int:
    from bot.routing.learn_cli import main as learn_main

    return learn_main(args.rest, load().var_dir / "routing", _ticket_training_rows)


def _purge(args: argparse.Namespace) -> int:
    from stack.purge import main as purge_main

    return purge_main(args.days, load())


def _agents(args: argparse.Namespace) -> int:
    from console.cli import main as console_main

    return console_main(args.rest)


def parser() -> argparse.ArgumentParser:
    """The command line of `bianmin`."""
    root = argparse.ArgumentParser(prog="bianmin", description="Bianmin hotline assistant")
    commands = root.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if the model is up to date")
    train.set_defaults(func=_train)
    commands.add_parser("run", help="run the whole assistant").set_defaults(func=_run)
    status = commands.add_parser(
        "status", help="each part of the running assistant: up or down, since when, restarts; the outbox"
    )
    status.add_argument("--json", action="store_true", help="print the health URL's JSON")
    status.set_defaults(func=_status)
    commands.add_parser("shell", help="chat with the running assistant in the terminal").set_defaults(func=_shell)
    commands.add_parser(
        "classify",
        help='JSON lines {"id","title","text"} on stdin -> {"id","category","confidence","subcategory","department"}',
    ).set_defaults(func=_classify)
    kb = commands.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb_command", required=True)
    search = kb.add_parser("search", help="search the knowledge base as the assistant does")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=3)
    search.add_argument("--channel", default=None)
    search.add_argument("--answers", action="store_true", help="print the answers too")
    search.set_defaults(func=_kb_search)
    routing = commands.add_parser(
        "routing", help="routing tools: `bianmin routing learn --history FILE...` (see --help)"
    )
    routing.add_argument("routing_command", choices=["learn"])
    routing.add_argument("rest", nargs=argparse.REMAINDER)
    routing.set_defaults(func=_routing)
    purge = commands.add_parser(
        "purge", help="delete personal data older than BIANMIN_RETENTION_DAYS (docs/security.md)"
    )
    purge.add_argument("--days", type=int, default=None, help="retention in days (default: BIANMIN_RETENTION_DAYS)")
    purge.set_defaults(func=_purge)
    agents = commands.add_parser("agents", help="manage agent-console accounts (see `bianmin agents --help`)")
    agents.add_argument("rest", nargs=argparse.REMAINDER)
    agents.set_defaults(func=_agents)
    return root


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the `bianmin` console script."""
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
