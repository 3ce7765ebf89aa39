"""WeChat's side of the wire: the API (api.weixin.qq.com) and the pushes WeChat's servers send."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto


class FakeWeChatApi:
    """/cgi-bin/stable_token and /cgi-bin/message/custom/send, with real errcodes; each customer-service
    message is acknowledged `ack_seconds` after it arrived."""

    def __init__(self, ack_seconds: float = 0.0) -> None:
        self.ack_seconds = ack_seconds
        self.token_calls: List[Dict[str, Any]] = []
        self.sent: List[Dict[str, Any]] = []  # accepted customer-service messages, with "at" and "acked_at"
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
        record = {**body, "at": time.monotonic()}
        self.sent.append(record)
        await asyncio.sleep(self.ack_seconds)
        record["acked_at"] = time.monotonic()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def expire_token(self) -> None:
        """What WeChat does after 2 h (or a forced refresh elsewhere): the current token stops working."""
        self.valid_token = f"ACCESS_TOKEN_{next(self._tokens)}"

    def texts_to(self, openid: str) -> List[str]:
        return [m["text"]["content"] for m in self.sent if m["touser"] == openid]


def text_push(openid: str, content: str, msg_id: int) -> str:
    """A text message push, as WeChat sends it."""
    return (
        f"<xml><ToUserName><![CDATA[gh_bianmin]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


class WeChatPusher:
    """Posts pushes the way WeChat's servers do: signed query string, optional safe-mode (AES) envelope."""

    def __init__(self, url: str, token: str, appid: str = "", aes_key: str = "") -> None:
        self.url, self.token = url, token
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    def signature(self, *parts: str) -> str:
        return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()

    def signed_query(self, timestamp: Optional[int] = None) -> Dict[str, str]:
        stamp, nonce = str(int(time.time()) if timestamp is None else timestamp), uuid.uuid4().hex[:10]
        return {"timestamp": stamp, "nonce": nonce, "signature": self.signature(self.token, stamp, nonce)}

    def request(
        self, plaintext: str, aes: bool = False, as_json: bool = False, timestamp: Optional[int] = None
    ) -> Tuple[Dict[str, str], str]:
        """Query and body of a push carrying `plaintext` (XML or JSON)."""
        query = self.signed_query(timestamp)
        if not aes:
            return query, plaintext
        envelope = xmltodict.parse(self.crypto.encrypt_message(plaintext, query["nonce"], query["timestamp"]))["xml"]
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        if as_json:
            return query, json.dumps({"ToUserName": "gh_bianmin", "Encrypt": envelope["Encrypt"]})
        return query, (
            f"<xml><ToUserName><![CDATA[gh_bianmin]]></ToUserName>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        )

    async def post(
        self,
        session: aiohttp.ClientSession,
        plaintext: str,
        aes: bool = False,
        as_json: bool = False,
        query: Optional[Dict[str, str]] = None,
    ) -> Tuple[int, str, float]:
        """Sends one push; returns (status, body, seconds until answered)."""
        made_query, body = self.request(plaintext, aes, as_json)
        started = time.monotonic()
        async with session.post(self.url, params=query or made_query, data=body.encode("utf-8")) as response:
            return response.status, await response.text(), time.monotonic() - started

    def open_reply(self, body: str) -> str:
        """The plaintext of an encrypted passive reply (checks its signature like WeChat does)."""
        envelope = xmltodict.parse(body)["xml"]
        return self.crypto.decrypt_message(body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
