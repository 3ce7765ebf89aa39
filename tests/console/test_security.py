"""Issue 15: login limits that never lock the real user out, no user-name timing, bounded input, sessions
that end with a password change, only sessions the console wrote, the audit log, JSON bodies."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re

import pytest
import redis

from console import accounts as accounts_module
from console import cli
from console.audit import AUDIT
from console.auth import LOGIN_FREE, LOGIN_PER_IP, SESSIONS, _key

PASSWORD = "correct horse 42"


async def _csrf(client) -> str:
    page = await (await client.get("/login")).text()
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


async def _post_login(client, csrf: str, name: str, password: str):
    return await client.post("/login", data={"csrf": csrf, "name": name, "password": password}, allow_redirects=False)


async def test_a_guesser_on_another_address_never_locks_the_real_user_out(console):
    sessions = console.server.app[SESSIONS]
    for _ in range(30):
        await sessions.log_in("li", "guess guess", "203.0.113.9")
    agent, refusal, status = await sessions.log_in("li", "guess guess", "203.0.113.9")
    assert agent is None and status == 429 and "尝试次数过多" in refusal
    agent, refusal, status = await sessions.log_in("li", PASSWORD, "198.51.100.7")
    assert agent is not None and agent.name == "li" and status == 200


async def test_one_address_is_limited_across_accounts(console):
    sessions = console.server.app[SESSIONS]
    statuses = [(await sessions.log_in(f"user{n}", "guess guess", "203.0.113.10"))[2] for n in range(LOGIN_PER_IP)]
    assert set(statuses) == {401}
    assert (await sessions.log_in("wang", PASSWORD, "203.0.113.10"))[2] == 429
    assert (await sessions.log_in("wang", PASSWORD, "203.0.113.11"))[2] == 200


async def test_a_right_password_gives_the_attempts_back(console):
    sessions = console.server.app[SESSIONS]
    for _ in range(LOGIN_FREE - 1):
        assert (await sessions.log_in("wang", "guess guess", "203.0.113.12"))[2] == 401
    assert (await sessions.log_in("wang", PASSWORD, "203.0.113.12"))[2] == 200
    for _ in range(LOGIN_FREE - 1):
        assert (await sessions.log_in("wang", "guess guess", "203.0.113.12"))[2] == 401


async def test_parallel_guesses_are_not_all_checked(console, accounts, monkeypatch):
    checked = []
    real = accounts.authenticate

    def counting(name, password):
        checked.append(name)
        return real(name, password)

    monkeypatch.setattr(accounts, "authenticate", counting)
    csrf = await _csrf(console)
    responses = await asyncio.gather(*(_post_login(console, csrf, "boss", f"guess {n}") for n in range(100)))
    statuses = [response.status for response in responses]
    assert len(checked) <= LOGIN_FREE + 1, len(checked)
    assert statuses.count(429) >= 100 - LOGIN_FREE - 1 and 500 not in statuses


def test_unknown_names_cost_the_same_password_work(accounts, monkeypatch):
    accounts.authenticate("nobody", "warm up the dummy hash")
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(accounts_module.hashlib, "scrypt", counting)
    assert accounts.authenticate("wang", "wrong password") is None
    known = len(calls)
    assert accounts.authenticate("nobody-at-all", "wrong password") is None
    assert len(calls) - known == known == 1


async def test_a_huge_user_name_is_refused_before_redis(console, settings):
    client = redis.Redis.from_url(settings.redis_url)
    try:
        csrf = await _csrf(console)
        before = set(client.keys("*"))
        response = await _post_login(console, csrf, "x" * 200_000, "whatever1")
        assert response.status == 401
        new_keys = set(client.keys("*")) - before
        assert all(len(key) < 200 for key in new_keys) and not any(b"xxxx" in key for key in new_keys)
    finally:
        client.close()


async def test_a_changed_password_ends_old_sessions(console, accounts, login_as):
    await login_as(console, "wang")
    assert (await console.get("/api/queue")).status == 200
    accounts.set_password("wang", "a brand new one")
    await asyncio.sleep(2.1)  # the password check is cached two seconds
    assert (await console.get("/api/queue")).status == 401


def test_agents_passwd_ends_sessions_at_once(settings, env_settings, accounts, monkeypatch):
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        client.sadd("bianmin:console:agent-sessions:li", "bianmin:console:session:abc")
        client.set("bianmin:console:session:abc", "{}")
        monkeypatch.setattr("sys.stdin.isatty", lambda: False)
        assert cli.main(["passwd", "li", "--password", "another password"]) == 0
        assert client.get("bianmin:console:session:abc") is None
    finally:
        client.close()


async def test_only_sessions_the_console_wrote_are_accepted(console, settings, login_as):
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        # a session object as the old console wrote it (no signature), planted by anyone who can write Redis
        forged = {"name": "boss", "display_name": "班长", "supervisor": True, "csrf": "x"}
        client.set(_key("planted-token"), json.dumps(forged), ex=600)
        console.session.cookie_jar.update_cookies({"bianmin_console": "planted-token"})
        assert (await console.get("/api/queue")).status == 401
        # a real session, edited in Redis to make the agent a supervisor
        console.session.cookie_jar.clear()
        await login_as(console, "wang")
        token = next(c.value for c in console.session.cookie_jar if c.key == "bianmin_console")
        stored = json.loads(client.get(_key(token)))
        stored["session"]["supervisor"] = True
        client.set(_key(token), json.dumps(stored), ex=600)
        assert (await console.get("/api/queue")).status == 401
        for junk in ("[]", "null", '{"session": {}, "sig": ""}', "x" * 10_000):
            client.set(_key(token), junk, ex=600)
            assert (await console.get("/api/queue")).status == 401
    finally:
        client.close()


async def test_the_audit_log_says_who_read_or_changed_what(console, login_as, queued, rasa):
    csrf = await _csrf(console)
    await _post_login(console, csrf, "wang", "wrong password")
    token = await login_as(console, "wang")
    await queued("c-audit", last_message="电话13812345678")
    rasa.citizen_says("c-audit", "电话13812345678")
    await console.post("/api/conversations/c-audit/take", headers={"X-CSRF-Token": token})
    await console.get("/api/conversations/c-audit")
    await console.post("/api/conversations/c-audit/reply", headers={"X-CSRF-Token": token}, json={"text": "您好"})
    await console.get("/api/queue")
    rows = list(reversed(console.server.app[AUDIT].recent()))
    seen = [(row["agent"], row["action"], row["target"], row["status"]) for row in rows]
    assert (None, "login", "/login", 401) in seen and (None, "login", "/login", 302) in seen
    assert ("wang", "change", "/api/conversations/c-audit/take", 200) in seen
    assert ("wang", "read", "/api/conversations/c-audit", 200) in seen
    reply = next(row for row in rows if row["target"].endswith("/reply"))
    assert reply["agent"] == "wang" and reply["detail"] == "fields=text" and "您好" not in json.dumps(rows)
    assert not any(row["target"] == "/api/queue" for row in rows)
    assert all(row["ip"] for row in rows)


@pytest.mark.parametrize(
    "path",
    [
        "/api/pickup",
        "/api/conversations/c-json/reply",
        "/api/conversations/c-json/reassign",
        "/api/conversations/c-json/tickets",
        "/api/conversations/c-json/tickets/BM261122K7M4Q9XZ",
    ],
)
@pytest.mark.parametrize(
    "body",
    ["[1, 2]", '"text"', "3", "null", "{", "[" * 5000 + "]" * 5000],
    ids=["array", "string", "number", "null", "broken", "deep"],
)
async def test_json_bodies_that_are_not_objects_give_400(console, login_as, path, body):
    token = await login_as(console, "boss")
    response = await console.post(
        path, data=body.encode(), headers={"X-CSRF-Token": token, "Content-Type": "application/json"}
    )
    assert response.status == 400, (path, body, response.status)
    assert "Traceback" not in await response.text()


def test_the_client_address_behind_a_trusted_proxy():
    from unittest import mock

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from console.auth import Sessions, client_ip

    app = web.Application()
    app[SESSIONS] = Sessions(mock.MagicMock(), b"k", None, ["10.0.0.2"])

    def request(peer: str, forwarded: str = ""):
        transport = mock.Mock()
        transport.get_extra_info.side_effect = lambda name, default=None: (
            (peer, 5555) if name == "peername" else default
        )
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return make_mocked_request("POST", "/login", headers=headers, app=app, transport=transport)

    assert client_ip(request("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
    assert client_ip(request("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.2")) == "198.51.100.7"  # spoofed first hop
    assert client_ip(request("203.0.113.5", "198.51.100.7")) == "203.0.113.5"  # not a trusted proxy: ignored


async def test_guessing_from_many_addresses_slows_new_addresses_only(console):
    from console.auth import ACCOUNT_FREE

    sessions = console.server.app[SESSIONS]
    assert (await sessions.log_in("boss", PASSWORD, "192.0.2.1"))[2] == 200  # the real user's usual address
    for n in range(ACCOUNT_FREE - 1):  # the real user's first log-in (a new address then) counted too
        assert (await sessions.log_in("boss", "guess guess", f"198.18.{n // 250}.{n % 250}"))[2] == 401
    assert (await sessions.log_in("boss", "guess guess", "198.19.0.1"))[2] == 429  # yet another address
    assert (await sessions.log_in("boss", PASSWORD, "192.0.2.1"))[2] == 200  # the known address: at once
