"""Fuzzing every channel parser with hypothesis (issue 15): REST, socket.io, WeChat XML and JSON (Official
Account and mini-program), Telegram. Whatever arrives, the answer is never a 5xx and never shows a stack
trace; the server keeps answering a normal message afterwards.

The channels run in one Sanic app on a background event loop (with the fake WeChat and Telegram APIs);
hypothesis drives it from the test thread. Examples per test: BIANMIN_FUZZ_EXAMPLES (default 60).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlparse, urlunparse

import pytest
import redis
import socketio
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.settings import load
from channels.guard import Limits
from channels.miniprogram import MiniProgramInput
from channels.rest import TokenRestInput
from channels.socketio import WebChatSocketInput
from channels.telegram import TelegramInput
from channels.wechat import WeChatInput
from fakes.bot import FakeBot
from fakes.servers import aiohttp_server, rasa_like_server
from fakes.telegram import FakeTelegramApi
from fakes.wechat import FakeWeChatApi, WeChatPusher
from tests.channels.conftest import CHANNEL_PORT, TELEGRAM_API_PORT, TELEGRAM_TOKEN, WECHAT_API_PORT

BASE = f"http://127.0.0.1:{CHANNEL_PORT}"
EXAMPLES = int(os.environ.get("BIANMIN_FUZZ_EXAMPLES", "60"))
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
TRACE_MARKERS = ("Traceback", 'File "/', "Exception", "Error:")
LIMITS = Limits(per_conversation=10_000, per_ip=10_000)  # fuzzing is not throttled

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
texts = st.text(max_size=300) | st.sampled_from(
    ["/EXTERNAL_handback", '/rate{"ticket_rating":"不满意"}', "/", "1", "２", "]]>", "<xml>", "{", "\x00"]
)


class Server:
    """All channels on one Sanic app in a background loop; `call(coroutine)` runs a coroutine there."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.bot = FakeBot(latency=lambda text: 0.0)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop: asyncio.Event = None  # type: ignore[assignment]
        self.thread = threading.Thread(target=self.run, daemon=True)

    async def _serve(self) -> None:
        self.stop = asyncio.Event()
        s = self.settings
        wechat, telegram = FakeWeChatApi(), FakeTelegramApi(TELEGRAM_TOKEN)
        channels = [
            TokenRestInput(s, LIMITS),
            WebChatSocketInput(redis_url=s.redis_url, limits=LIMITS),
            WeChatInput(s, limits=LIMITS),
            MiniProgramInput(s, limits=LIMITS),
            TelegramInput(s, LIMITS),
        ]
        async with aiohttp_server(wechat.app, WECHAT_API_PORT), aiohttp_server(telegram.app, TELEGRAM_API_PORT):
            async with rasa_like_server(channels, self.bot, CHANNEL_PORT):
                self.ready.set()
                await self.stop.wait()

    def run(self) -> None:
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            self.ready.set()  # a server that could not start fails the fixture at once

    def call(self, coroutine, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@pytest.fixture(scope="module")
def server(redis_url):
    url = urlunparse(urlparse(redis_url)._replace(path="/11"))
    redis.Redis.from_url(url).flushdb()
    api = f"http://127.0.0.1:{WECHAT_API_PORT}"
    settings = dataclasses.replace(
        load(),
        redis_url=url,
        wechat_token="oa-token",
        wechat_appid="wx_oa_app",
        wechat_secret="oa-secret",
        wechat_api_url=api,
        miniprogram_token="mp-token",
        miniprogram_appid="wx_mp_app",
        miniprogram_secret="mp-secret",
        miniprogram_api_url=api,
        telegram_token=TELEGRAM_TOKEN,
        telegram_secret="tg-secret",
        telegram_api_url=f"http://127.0.0.1:{TELEGRAM_API_PORT}/bot",
    )
    running = Server(settings)
    running.thread.start()
    assert running.ready.wait(30) and running.thread.is_alive()
    yield running
    running.loop.call_soon_threadsafe(running.stop.set)
    running.thread.join(30)
    redis.Redis.from_url(url).flushdb()


def post(path: str, body: bytes, headers=None, query=None):
    """(status, body text) of a POST; a 5xx or a stack trace fails the test."""
    url = BASE + path + (("?" + urlencode(query)) if query else "")
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", "replace")
    assert status < 500, (status, text[:500])
    assert not any(marker in text for marker in TRACE_MARKERS), text[:500]
    return status, text


def still_answers(server: Server) -> None:
    status, text = post(
        "/webhooks/rest/webhook",
        json.dumps({"sender": "probe", "message": "你好"}).encode(),
        {"Authorization": f"Bearer {server.settings.rasa_token}", "Content-Type": "application/json"},
    )
    assert status == 200 and json.loads(text)[0]["text"] == "收到：你好"


@FUZZ
@given(
    body=st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries(
            {"sender": st.text(max_size=120) | json_values, "message": texts | json_values},
            optional={"metadata": json_values},
        ).map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=300),
    )
)
def test_rest_parser(server, body):
    headers = {"Authorization": f"Bearer {server.settings.rasa_token}", "Content-Type": "application/json"}
    status, _ = post("/webhooks/rest/webhook", body, headers)
    assert status in (200, 400, 413)


def test_rest_still_answers_after_fuzzing(server):
    still_answers(server)


def _xml(fields) -> str:
    return "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>"


wechat_fields = st.fixed_dictionaries(
    {"ToUserName": st.just("gh_bianmin"), "FromUserName": st.text(min_size=1, max_size=40)},
    optional={
        "CreateTime": st.integers(min_value=0, max_value=2**40).map(str),
        "MsgType": st.sampled_from(["text", "voice", "location", "image", "event", "link", "video", "x"]),
        "Content": texts,
        "MsgId": st.integers(min_value=0, max_value=2**62).map(str),
        "Event": st.sampled_from(["subscribe", "CLICK", "VIEW", "SCAN", "user_enter_tempsession", "?"]),
        "EventKey": texts,
        "Recognition": texts,
        "Location_X": st.text(max_size=10),
        "Location_Y": st.text(max_size=10),
        "Scale": st.text(max_size=5),
        "Label": texts,
    },
)


@FUZZ
@given(
    fields=wechat_fields,
    raw=st.none() | st.binary(max_size=200),
    as_json=st.booleans(),
    mode=st.sampled_from(["oa", "mp"]),
)
def test_wechat_parsers(server, fields, raw, as_json, mode):
    """Signed pushes carrying anything: XML and JSON, fields of any type and content, arbitrary bytes."""
    fields = {**fields, "FromUserName": fields["FromUserName"].replace("]]>", "")}
    plaintext = (
        json.dumps(fields, ensure_ascii=False)
        if as_json
        else _xml({k: str(v).replace("]]>", "") for k, v in fields.items()})
    )
    token = "oa-token" if mode == "oa" else "mp-token"
    path = "/webhooks/wechat/webhook" if mode == "oa" else "/webhooks/miniprogram/webhook"
    pusher = WeChatPusher(BASE + path, token)
    query, body = pusher.request(plaintext)
    status, _ = post(path, raw if raw is not None else body.encode("utf-8"), query=query)
    assert status in (200, 403)


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["timestamp", "nonce", "signature", "encrypt_type", "msg_signature", "echostr"]),
        st.text(max_size=30),
        max_size=6,
    ),
    body=st.binary(max_size=200),
)
def test_wechat_gate_with_any_query(server, query, body):
    status, _ = post("/webhooks/wechat/webhook", body, query=query)
    assert status == 403 or status == 200


telegram_updates = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=-(2**31), max_value=2**62) | json_values},
    optional={
        "message": st.fixed_dictionaries(
            {
                "message_id": st.integers() | json_values,
                "date": st.integers(min_value=0, max_value=2**31),
                "chat": st.fixed_dictionaries(
                    {"id": st.integers(), "type": st.sampled_from(["private", "group", "supergroup", "channel", "x"])}
                )
                | json_values,
            },
            optional={
                "text": texts | json_values,
                "caption": texts,
                "from": st.fixed_dictionaries(
                    {"id": st.integers(), "is_bot": st.booleans(), "first_name": st.text(max_size=20)}
                )
                | json_values,
                "entities": st.lists(
                    st.fixed_dictionaries(
                        {
                            "type": st.sampled_from(["mention", "bot_command", "x"]),
                            "offset": st.integers(),
                            "length": st.integers(),
                        }
                    ),
                    max_size=3,
                )
                | json_values,
            },
        ),
        "edited_message": json_values,
        "callback_query": st.fixed_dictionaries(
            {
                "id": st.text(max_size=10),
                "chat_instance": st.text(max_size=10),
                "from": st.fixed_dictionaries(
                    {"id": st.integers(), "is_bot": st.booleans(), "first_name": st.just("x")}
                ),
            },
            optional={"data": texts},
        )
        | json_values,
    },
)


@FUZZ
@given(
    update=st.one_of(
        telegram_updates.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
    )
)
def test_telegram_parser(server, update):
    headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret", "Content-Type": "application/json"}
    status, _ = post("/webhooks/telegram/webhook", update, headers)
    assert status in (200, 400)


@FUZZ
@given(
    events=st.lists(
        st.tuples(
            st.sampled_from(["session_request", "user_uttered", "bot_uttered", "connect", "x"]),
            json_values
            | st.fixed_dictionaries(
                {},
                optional={
                    "message": texts | json_values,
                    "session_id": st.text(max_size=60) | json_values,
                    "metadata": json_values,
                },
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_socketio_parser(server, events):
    async def play():
        client = socketio.AsyncClient(reconnection=False)
        errors = []
        client.on(
            "bot_uttered",
            lambda message: errors.extend(
                [message] if any(marker in json.dumps(message) for marker in TRACE_MARKERS) else []
            ),
        )
        await client.connect(BASE, socketio_path="/socket.io", transports=["polling"])
        try:
            for name, data in events:
                await client.emit(name, data)
            await asyncio.sleep(0.05)
            assert client.connected
        finally:
            await client.eio.disconnect(abort=True)
        return errors

    assert server.call(play()) == []


@FUZZ
@given(
    body=st.binary(max_size=300),
    query=st.dictionaries(st.sampled_from(["EIO", "transport", "sid", "t"]), st.text(max_size=20), max_size=4),
)
def test_socketio_transport_with_any_body(server, body, query):
    post("/socket.io/", body, {"Content-Type": "text/plain"}, query=query)


def test_everything_still_answers_after_fuzzing(server):
    still_answers(server)
    time.sleep(0.1)
