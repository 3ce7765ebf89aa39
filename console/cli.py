"""`bianmin agents ...`: manage the console's agent and supervisor accounts."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys
from typing import List, Optional

from redis.exceptions import RedisError

from bot.settings import load
from console.accounts import MIN_PASSWORD, AccountError, Accounts, first_password_file


def _password(given: Optional[str]) -> tuple:
    """(password, generated?) from --password, a terminal prompt, or a random one."""
    if given:
        return given, False
    if sys.stdin.isatty():
        first = getpass.getpass(f"Password (at least {MIN_PASSWORD} characters, empty for a random one): ")
        if not first:
            return secrets.token_urlsafe(12), True
        if getpass.getpass("Repeat the password: ") != first:
            raise AccountError("the two passwords differ")
        return first, False
    return secrets.token_urlsafe(12), True


async def _log_out(name: str) -> None:
    import redis.asyncio as aioredis

    from console.auth import Sessions

    client = aioredis.Redis.from_url(load().redis_url, decode_responses=True, socket_connect_timeout=2)
    try:
        await Sessions(client).delete_agent(name)
    finally:
        await client.close()


def _add(accounts: Accounts, args: argparse.Namespace) -> int:
    password, generated = _password(args.password)
    agent = accounts.add(args.name, password, supervisor=args.supervisor, display_name=args.display_name)
    role = "supervisor" if agent.supervisor else "agent"
    print(f"added {role} {agent.name}" + (f" with password {password}" if generated else ""))
    return 0


def _passwd(accounts: Accounts, args: argparse.Namespace) -> int:
    password, generated = _password(args.password)
    accounts.set_password(args.name, password)
    if args.name == "admin":
        first_password_file(load().var_dir).unlink(missing_ok=True)
    try:  # sessions made with the old password end anyway (console.auth checks it); this ends them at once
        asyncio.run(_log_out(args.name))
    except (OSError, RedisError):
        print("warning: Redis unreachable; the agent's open sessions end at their next request", file=sys.stderr)
    print(f"password of {args.name} changed" + (f" to {password}" if generated else ""))
    return 0


def _list(accounts: Accounts, args: argparse.Namespace) -> int:
    for agent in accounts.list():
        print(f"{agent.name:20} {'supervisor' if agent.supervisor else 'agent':11} {agent.display_name}")
    return 0


def _remove(accounts: Accounts, args: argparse.Namespace) -> int:
    if not accounts.remove(args.name):
        raise AccountError(f"no account named {args.name!r}")
    try:
        asyncio.run(_log_out(args.name))
    except (OSError, RedisError):
        print("warning: Redis unreachable; the agent's open sessions end when they expire", file=sys.stderr)
    print(f"removed {args.name}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line of `bianmin agents`."""
    root = argparse.ArgumentParser(prog="bianmin agents", description="agent-console accounts")
    commands = root.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account (a random password is printed if none is given)")
    add.add_argument("name")
    add.add_argument("--supervisor", action="store_true", help="may see every conversation and reassign")
    add.add_argument("--password", help="the password (avoid: it stays in the shell history)")
    add.add_argument("--display-name", help="name shown to citizens, e.g. 小王")
    add.set_defaults(func=_add)
    passwd = commands.add_parser("passwd", help="change an account's password")
    passwd.add_argument("name")
    passwd.add_argument("--password")
    passwd.set_defaults(func=_passwd)
    commands.add_parser("list", help="list accounts").set_defaults(func=_list)
    remove = commands.add_parser("remove", help="delete an account and end its sessions")
    remove.add_argument("name")
    remove.set_defaults(func=_remove)
    return root


def main(argv: List[str]) -> int:
    """Runs `bianmin agents` with `argv` (the words after "agents"); returns the exit code."""
    args = parser().parse_args(argv)
    accounts = Accounts(load().database_url)
    try:
        return args.func(accounts, args)
    except AccountError as error:
        print(f"bianmin agents: {error}", file=sys.stderr)
        return 1
    finally:
        accounts.dispose()
