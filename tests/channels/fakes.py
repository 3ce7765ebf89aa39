"""Fake upstream servers speaking the real wire formats (WeChat API, Telegram Bot API), a fake Rasa bot,
and a Sanic app that mounts input channels the way Rasa does. Used by tests/channels and bench/wechat."""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Tuple

import aiohttp
import xmltodict
from aiohttp import web
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic
from wechatpy.crypto import WeChatCrypto

GREETING = "您好，这里是12345便民服务热线。"
MENU = [{"title": "咨询问题", "payload": "/ask_question"}, {"title": "投诉建议", "payload": "/file_complaint"}]


@asynccontextmanager
async def aiohttp_server(app: web.Application, port: int) -> AsyncIterator[str]:
    """Runs `app` on 127.0.0.1:`port`; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class FakeWeChatApi:
    """api.weixin.qq.com: /cgi-bin/stable_token and /cgi-bin/message/custom/send, with real errcodes."""

    def __init__(self) -> None:
        self.token_calls: List[Dict[str, Any]] = []
        self.sent: List[Dict[str, Any]] = []  # accepted customer-service messages
        self.rejected: List[Dict[str, Any]] = []
        self._tokens = itertools.count(1)
        self.valid_token = ""
        self.app = web.Application()
        self.app.router.add_post("/cgi-bin/stable_token", self.stable_token)
        self.app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)

    async def stable_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.token_calls.append(body)
        if body.get("grant_type") != "client_credential" or not body.get("secret"):
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        if not self.valid_token:
            self.valid_token = f"ACCESS_TOKEN_{next(self._tokens)}"
        return web.json_response({"access_token": self.valid_token, "expires_in": 7200})

    async def custom_send(self, request: web.Request) -> web.Response:
        body = await request.json()
        if request.query.get("access_token") != self.valid_token:
            self.rejected.append(body)
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        if len(body.get("text", {}).get("content", "").encode("utf-8")) > 2048:
            return web.json_response({"errcode": 45002, "errmsg": "content size out of limit"})
        self.sent.append({**body, "at": time.monotonic()})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def expire_token(self) -> None:
        """What WeChat does after 2 h (or a forced refresh elsewhere): the current token stops working."""
        self.valid_token = f"ACCESS_TOKEN_{next(self._tokens)}"

    def texts_to(self, openid: str) -> List[str]:
        return [m["text"]["content"] for m in self.sent if m["touser"] == openid]


class FakeTelegramApi:
    """api.telegram.org/bot<token>/<method>: getMe, sendMessage, answerCallbackQuery."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self._message_ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self.method)

    async def method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        name = request.match_info["method"]
        params = await _params(request)
        self.calls.append((name, params))
        if name == "getMe":
            result: Any = {"id": 777, "is_bot": True, "first_name": "便民", "username": "bianmin_bot",
                           "can_join_groups": False, "can_read_all_group_messages": False,
                           "supports_inline_queries": False}
        elif name == "sendMessage":
            result = {"message_id": next(self._message_ids), "date": int(time.time()),
                      "chat": {"id": int(params["chat_id"]), "type": "private"}, "text": params.get("text", "")}
            if params.get("reply_markup"):
                result["reply_markup"] = params["reply_markup"]
        elif name == "answerCallbackQuery":
            result = True
        else:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.json_response({"ok": True, "result": result})

    def sent(self, method: str) -> List[Dict[str, Any]]:
        return [params for name, params in self.calls if name == method]


async def _params(request: web.Request) -> Dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    form = await request.post()
    params: Dict[str, Any] = {}
    for key, value in form.items():
        try:
            params[key] = json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value
        except ValueError:
            params[key] = value
    return params


@dataclass
class FakeBot:
    """Plays Rasa's `on_new_message`: echoes, shows buttons for "按钮", takes `slow_seconds` for "slow"."""

    slow_seconds: float = 6.0
    latency: Callable[[str], float] = lambda text: 0.0
    received: List[UserMessage] = field(default_factory=list)

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        text = message.text or ""
        await asyncio.sleep(self.slow_seconds if text == "slow" else self.latency(text))
        out, sender = message.output_channel, message.sender_id
        if text == "/greet":
            await out.send_response(sender, {"text": GREETING, "buttons": [dict(b) for b in MENU]})
        elif text == "按钮":
            await out.send_response(sender, {"text": "请选择：", "buttons": [dict(b) for b in MENU]})
        elif text == "两条":
            await out.send_response(sender, {"text": "第一条"})
            await out.send_response(sender, {"text": "第二条"})
        elif text == "长按钮":
            payload = "/inform" + json.dumps({"address": "幸福路" * 20}, ensure_ascii=False)
            await out.send_response(sender, {"text": "地址对吗？", "buttons": [{"title": "对", "payload": payload}]})
        elif text == "slow":
            await out.send_response(sender, {"text": "让您久等了，这是查询结果。"})
        else:
            await out.send_response(sender, {"text": f"收到：{text}"})

    def texts(self) -> List[str]:
        return [m.text or "" for m in self.received]


@asynccontextmanager
async def rasa_like_server(channels: List[InputChannel], on_new_message: Any, port: int) -> AsyncIterator[str]:
    """A Sanic app with the channels' blueprints under /webhooks/<name>, as `rasa run` mounts them."""
    Sanic.test_mode = True  # lets several apps start in one process (Sanic re-compiles methods otherwise)
    app = Sanic(f"bianmin_test_{uuid.uuid4().hex[:8]}", configure_logging=False)
    for channel in channels:
        app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.url_prefix()}")
    app.ctx.input_channels = channels
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> "asyncio.Future[bool]":
    """Resolves True as soon as `predicate()` holds, False after `timeout` seconds."""

    async def poll() -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            await asyncio.sleep(0.05)
        return predicate()

    return asyncio.ensure_future(poll())



def text_push(openid: str, content: str, msg_id: int) -> str:
    """A text message push, as WeChat sends it."""
    return (f"<xml><ToUserName><![CDATA[gh_bianmin]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


class WeChatPusher:
    """Posts pushes the way WeChat's servers do: signed query string, optional safe-mode (AES) envelope."""

    def __init__(self, url: str, token: str, appid: str = "", aes_key: str = "") -> None:
        self.url, self.token = url, token
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    def signature(self, *parts: str) -> str:
        return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()

    def signed_query(self) -> Dict[str, str]:
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        return {"timestamp": timestamp, "nonce": nonce, "signature": self.signature(self.token, timestamp, nonce)}

    def request(self, plaintext: str, aes: bool = False, as_json: bool = False) -> Tuple[Dict[str, str], str]:
        """Query and body of a push carrying `plaintext` (XML or JSON)."""
        query = self.signed_query()
        if not aes:
            return query, plaintext
        envelope = xmltodict.parse(self.crypto.encrypt_message(plaintext, query["nonce"], query["timestamp"]))["xml"]
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        if as_json:
            return query, json.dumps({"ToUserName": "gh_bianmin", "Encrypt": envelope["Encrypt"]})
        return query, f"<xml><ToUserName><![CDATA[gh_bianmin]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"

    async def post(self, session: aiohttp.ClientSession, plaintext: str, aes: bool = False, as_json: bool = False,
                   query: Optional[Dict[str, str]] = None) -> Tuple[int, str, float]:
        """Sends one push; returns (status, body, seconds until answered)."""
        made_query, body = self.request(plaintext, aes, as_json)
        started = time.monotonic()
        async with session.post(self.url, params=query or made_query, data=body.encode("utf-8")) as response:
            return response.status, await response.text(), time.monotonic() - started

    def open_reply(self, body: str) -> str:
        """The plaintext of an encrypted passive reply (checks its signature like WeChat does)."""
        envelope = xmltodict.parse(body)["xml"]
        return self.crypto.decrypt_message(body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
