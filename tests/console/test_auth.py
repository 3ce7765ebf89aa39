"""Login, sessions, CSRF and password storage of the console."""

from __future__ import annotations

import asyncio
import re

import pytest

from console import cli
from console.accounts import Accounts, first_login_hint, remember_first_password, verify_password

PASSWORD = "correct horse 42"
PAGES = ["/", "/conversations/abc"]
APIS = [
    ("GET", "/api/queue"),
    ("GET", "/api/stream"),
    ("GET", "/api/conversations/abc"),
    ("POST", "/api/conversations/abc/take"),
    ("POST", "/api/conversations/abc/reply"),
    ("POST", "/api/conversations/abc/handback"),
    ("POST", "/api/conversations/abc/close"),
    ("POST", "/api/conversations/abc/reassign"),
    ("POST", "/api/conversations/abc/tickets"),
    ("POST", "/api/conversations/abc/tickets/BM261122K7M4Q9XZ"),
    ("POST", "/api/pickup"),
]


async def test_health_is_public(console):
    assert (await console.get("/health")).status == 200


@pytest.mark.parametrize("path", PAGES)
async def test_pages_redirect_to_login(console, path):
    response = await console.get(path, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/login"


@pytest.mark.parametrize("method,path", APIS)
async def test_api_needs_a_session(console, method, path):
    response = await console.request(method, path, json={})
    assert response.status == 401


async def test_wrong_password_is_refused(console):
    page = await (await console.get("/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = await console.post(
        "/login", data={"csrf": csrf, "name": "wang", "password": "wrong one!"}, allow_redirects=False
    )
    assert response.status == 401 and "用户名或密码错误" in await response.text()
    assert (await console.get("/api/queue")).status == 401


async def test_login_without_csrf_is_refused(console):
    response = await console.post("/login", data={"name": "wang", "password": PASSWORD}, allow_redirects=False)
    assert response.status == 403
    assert (await console.get("/api/queue")).status == 401


async def test_too_many_wrong_passwords_lock_the_name(console, login_as):
    page = await (await console.get("/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    for _ in range(10):
        await console.post(
            "/login", data={"csrf": csrf, "name": "li", "password": "guess guess"}, allow_redirects=False
        )
    response = await console.post(
        "/login", data={"csrf": csrf, "name": "li", "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 429


async def test_state_changes_need_the_csrf_token(console, login_as, queued, rasa):
    token = await login_as(console, "wang")
    await queued("c-csrf")
    assert (await console.post("/api/conversations/c-csrf/take")).status == 403
    assert (await console.post("/api/conversations/c-csrf/take", headers={"X-CSRF-Token": "forged"})).status == 403
    assert rasa.appended == []
    assert (await console.post("/api/conversations/c-csrf/take", headers={"X-CSRF-Token": token})).status == 200


async def test_logout_ends_the_session(console, login_as):
    token = await login_as(console, "wang")
    assert (await console.get("/api/queue")).status == 200
    response = await console.post("/logout", data={"csrf": token}, allow_redirects=False)
    assert response.status == 302
    assert (await console.get("/api/queue")).status == 401


async def test_logout_without_csrf_is_refused(console, login_as):
    await login_as(console, "wang")
    assert (await console.post("/logout", data={}, allow_redirects=False)).status == 403
    assert (await console.get("/api/queue")).status == 200


def test_passwords_are_stored_hashed(accounts):
    stored = accounts.stored_hash("wang")
    assert PASSWORD not in stored and stored.startswith("scrypt$")
    assert verify_password(PASSWORD, stored) and not verify_password("correct horse 43", stored)
    accounts.add("zhao", PASSWORD)
    assert accounts.stored_hash("zhao") != stored  # salted
    assert accounts.authenticate("wang", PASSWORD).display_name == "小王"
    assert accounts.authenticate("wang", "nope nope") is None and accounts.authenticate("nobody", PASSWORD) is None


def test_first_admin_is_created_once_with_a_hint(settings):
    accounts = Accounts(settings.database_url)
    password = accounts.ensure_first_admin()
    assert password and accounts.authenticate("admin", password).supervisor
    assert accounts.ensure_first_admin() is None
    remember_first_password(settings.var_dir, password)
    assert first_login_hint(accounts, settings.var_dir) == f"admin / {password}"
    accounts.set_password("admin", "a brand new one")
    assert first_login_hint(accounts, settings.var_dir) is None
    accounts.dispose()


def test_cli_adds_lists_and_removes_agents(env_settings, capsys):
    assert cli.main(["add", "zhang", "--supervisor", "--password", "long enough pw", "--display-name", "小张"]) == 0
    assert cli.main(["add", "zhang", "--password", "long enough pw"]) == 1
    assert cli.main(["add", "x", "--password", "short"]) == 1
    assert cli.main(["add", "sun"]) == 0  # no terminal: a random password is printed
    output = capsys.readouterr().out
    assert re.search(r"added agent sun with password \S{12,}", output)
    assert cli.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "zhang" in listing and "supervisor" in listing and "sun" in listing
    assert cli.main(["remove", "sun"]) == 0 and cli.main(["remove", "sun"]) == 1
    accounts = Accounts(env_settings.database_url)
    assert [agent.name for agent in accounts.list()] == ["zhang"]
    accounts.dispose()


async def test_removed_agent_is_logged_out(console, login_as, env_settings):
    await login_as(console, "li")
    assert (await console.get("/api/queue")).status == 200
    assert await asyncio.to_thread(cli.main, ["remove", "li"]) == 0
    assert (await console.get("/api/queue")).status == 401
