"""Which WeChat pushes are let in: signed with our token (msg_signature over the encrypted envelope in safe
mode), stamped within a few minutes of now, and, on an account with an EncodingAESKey, encrypted (unless
plaintext pushes are accepted for the migration period). Also decrypts safe-mode bodies and encrypts
passive replies."""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, Mapping, Optional
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from channels.wechat_api import WeChatAccount

MAX_CLOCK_SKEW = 300  # seconds a push's timestamp may differ from now (older ones are replays)


class ForbiddenPush(Exception):
    """The push is not signed by WeChat with our token, is stale, or is not in the account's mode."""


class PushGate:
    """Checks signatures and timestamps of WeChat pushes, decrypts safe-mode bodies, encrypts replies."""

    def __init__(self, account: WeChatAccount, clock: Callable[[], float] = time.time) -> None:
        self.account = account
        self.clock = clock
        self.crypto = WeChatCrypto(account.token, account.aes_key, account.appid) if account.aes_key else None

    def verify_url(self, args: Mapping[str, Any]) -> Optional[str]:
        """The `echostr` to answer WeChat's URL check with, or None when the signature is wrong or stale."""
        try:
            self._check_fresh(args)
            check_signature(
                self.account.token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
            )
        except (ForbiddenPush, InvalidSignatureException):
            return None
        return args.get("echostr", "")

    def open(self, args: Mapping[str, Any], body: bytes) -> str:
        """The plaintext (XML or JSON) of a push; raises ForbiddenPush unless WeChat sent it just now."""
        self._check_fresh(args)
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        try:
            if args.get("encrypt_type") != "aes":
                if self.crypto is not None and not self.account.accept_plaintext:
                    raise ForbiddenPush("plaintext push to a safe-mode account")
                check_signature(self.account.token, args.get("signature", ""), timestamp, nonce)
                return body.decode("utf-8")
            if self.crypto is None:
                raise ForbiddenPush("encrypted push but no AES key is configured")
            envelope = parse_fields(body.decode("utf-8"))
            return self.crypto.decrypt_message(envelope, args.get("msg_signature", ""), timestamp, nonce)
        except (InvalidSignatureException, InvalidAppIdException, KeyError, ValueError, ExpatError) as error:
            raise ForbiddenPush(repr(error)) from error

    def seal(self, reply: str, args: Mapping[str, Any]) -> str:
        """The passive reply as WeChat expects it in the push's mode (encrypted in safe mode)."""
        if reply == "success" or args.get("encrypt_type") != "aes" or self.crypto is None:
            return reply
        return self.crypto.encrypt_message(reply, args.get("nonce", ""), args.get("timestamp"))

    def _check_fresh(self, args: Mapping[str, Any]) -> None:
        try:
            stamp = int(str(args.get("timestamp", "")))
        except ValueError:
            raise ForbiddenPush("no timestamp") from None
        if abs(self.clock() - stamp) > MAX_CLOCK_SKEW:
            raise ForbiddenPush(f"timestamp {stamp} is more than {MAX_CLOCK_SKEW} s from now")


def parse_fields(plaintext: str) -> Dict[str, Any]:
    """The fields of a WeChat push body, JSON or XML."""
    text = plaintext.strip()
    if text.startswith("{"):
        data = json.loads(text)
    else:
        data = xmltodict.parse(text).get("xml")
    if not isinstance(data, dict):
        raise ValueError("not a WeChat push")
    return data
