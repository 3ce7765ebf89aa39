"""Issue 15: whatever body or query a client sends, the ticket backend answers with a JSON error naming the
problem, never a 5xx or a stack trace (hypothesis), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Iterator, Tuple

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ticket_backend.conftest import TOKEN, _complaint, test_settings, unused_port
from tickets import fields
from tickets.app import create_app
from tickets.fields import Invalid

FIELD_NAMES = list(fields.CREATABLE) + ["status", "note", "rating", "comment", "id", "number", ""]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=50),
    st.sampled_from(["138 1234 5678", "环境保护", "已办结", "满意", "\x00", "\ud800", "x" * 5000]),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)
bodies = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=8),
    st.builds(lambda overrides: {**_complaint(), **overrides}, st.dictionaries(st.sampled_from(FIELD_NAMES), scalars)),
)
fuzz = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(bodies)
@settings(max_examples=500, deadline=None)
def test_field_checks_accept_or_name_the_problem(body):
    for check in (fields.new_ticket, fields.edits, fields.status_change, fields.rating):
        try:
            check(body)
        except Invalid as error:
            assert str(error)


@contextlib.contextmanager
def backend_in_a_thread(settings_) -> Iterator[str]:
    """The ticket backend on its own event loop in a thread (hypothesis drives it synchronously)."""
    loop = asyncio.new_event_loop()
    port = unused_port()
    runner = web.AppRunner(create_app(settings_), access_log=None)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _call(base: str, method: str, path: str, raw: bytes) -> Tuple[int, bytes]:
    request = urllib.request.Request(
        base + path,
        data=raw if method != "GET" else None,
        method=method,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def live_backend(tmp_path, database_url):
    with backend_in_a_thread(test_settings(tmp_path, database_url, "http://127.0.0.1:9")) as base:
        status, body = _call(base, "POST", "/tickets", json.dumps(_complaint()).encode())
        assert status == 201
        yield base, json.loads(body)["number"]


def _answer_is_clean(status: int, body: bytes) -> None:
    assert status < 500, body
    assert b"Traceback" not in body and b'File "' not in body
    if status >= 400:
        assert "error" in json.loads(body)


raw_bodies = st.one_of(
    bodies.map(lambda body: json.dumps(body).encode()),
    st.binary(max_size=200),
    st.sampled_from([b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000, b"\xff\xfe", b""]),
)


@given(
    method_path=st.sampled_from(["POST /tickets", "PATCH /{n}", "POST /{n}/status", "POST /{n}/rating"]), raw=raw_bodies
)
@fuzz
def test_no_body_gives_a_5xx_or_a_stack_trace(live_backend, method_path, raw):
    base, number = live_backend
    method, path = method_path.split(" ")
    path = path.replace("/{n}", f"/tickets/{number}")
    _answer_is_clean(*_call(base, method, path, raw))


@given(
    query=st.dictionaries(
        st.sampled_from(["phone", "sender_id", "status", "limit", "offset", "x"]), st.text(max_size=30)
    )
)
@fuzz
def test_no_query_gives_a_5xx(live_backend, query):
    base, _ = live_backend
    _answer_is_clean(
        *_call(base, "GET", "/tickets?" + urllib.parse.urlencode(query, encoding="utf-8", errors="surrogatepass"), b"")
    )


@pytest.mark.parametrize("body", [b"[]", b"[1, 2]", b'"text"', b"3", b"null"])
def test_json_arrays_and_scalars_are_400(live_backend, body):
    base, number = live_backend
    for method, path in (("POST", "/tickets"), ("PATCH", f"/tickets/{number}"), ("POST", f"/tickets/{number}/status")):
        status, answer = _call(base, method, path, body)
        assert status == 400 and "JSON object" in json.loads(answer)["error"]


def test_control_characters_are_refused_by_name(live_backend):
    base, _ = live_backend
    status, answer = _call(base, "POST", "/tickets", json.dumps(_complaint(description="油烟\x00很大")).encode())
    assert status == 400 and "description" in json.loads(answer)["error"]
