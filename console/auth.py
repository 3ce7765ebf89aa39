"""Console sessions (server-side, in Redis, so every console process knows them), login limits, CSRF
tokens and the middleware that guards every page and API.

A session in Redis is only accepted when it is exactly what this module writes: the right fields and
types, signed with the console's secret (HMAC-SHA256 over the session and its key), and made with the
account's current password (a fingerprint of the password hash), so a changed password ends every
older session. Logins are limited per IP address and per account and address (bot/rate_limits.py),
checked before the password hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional, Tuple

import redis.asyncio as aioredis
from aiohttp import web

from bot.rate_limits import Limit, Limiter, key_part, wait_words
from bot.settings import Settings, kept_secret
from bot.threads import in_thread
from console.accounts import NAME, Accounts, Agent

logger = logging.getLogger(__name__)

COOKIE = "bianmin_console"
LOGIN_CSRF_COOKIE = "bianmin_login_csrf"
SESSION_TTL = 12 * 3600
_PREFIX = "bianmin:console:"
PUBLIC = ("/login", "/health")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# logins: per IP address at most LOGIN_PER_IP attempts in LOGIN_WINDOW (a correct password gives its
# attempt back); per account and address LOGIN_FREE attempts, then 2, 4, 8 ... up to 15 minutes between
# attempts. The real user, from another address, is never slowed down by someone guessing.
LOGIN_PER_IP, LOGIN_FREE, LOGIN_WINDOW = 30, 5, 15 * 60
# per account, from addresses that never logged in to it: ACCOUNT_FREE attempts, then a doubling wait (a
# guesser with many addresses); addresses the account logged in from in KNOWN_FOR are not slowed down
ACCOUNT_FREE, KNOWN_FOR = 50, 30 * 24 * 3600
MAX_PASSWORD = 1024
PASSWORD_CHECK_CACHE = 2.0  # seconds a password fingerprint is trusted before the database is asked again
WRONG_LOGIN = "用户名或密码错误。"


@dataclass(frozen=True)
class Session:
    """A logged-in agent."""

    name: str
    display_name: str
    supervisor: bool
    csrf: str
    password: str = ""  # fingerprint of the password hash the session was made with
    created_at: float = 0.0


_SESSION_TYPES: Dict[str, Any] = {
    "name": str,
    "display_name": str,
    "supervisor": bool,
    "csrf": str,
    "password": str,
    "created_at": float,
}


def _key(token: str) -> str:
    # only a hash of the cookie is stored, so a Redis dump holds no usable session
    return _PREFIX + "session:" + hashlib.sha256(token.encode()).hexdigest()


def password_fingerprint(stored_hash: Optional[str]) -> str:
    """A short fingerprint of an account's password hash (changes whenever the password does)."""
    return hashlib.sha256((stored_hash or "").encode()).hexdigest()[:32]


def session_secret(settings: Settings) -> bytes:
    """BIANMIN_CONSOLE_SECRET, else a random key kept (mode 600) in var_dir/console-secret."""
    if settings.console_secret:
        return settings.console_secret.encode()
    return kept_secret(Path(settings.var_dir) / "console-secret").encode()


def _parse(raw: Any) -> Optional[Tuple[Dict[str, Any], str]]:
    """(session fields, signature) of a stored value when it has exactly the written shape, else None."""
    if not isinstance(raw, str) or len(raw) > 4096:
        return None
    try:
        stored = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(stored, dict) or set(stored) != {"session", "sig"} or not isinstance(stored["sig"], str):
        return None
    fields = stored["session"]
    if not isinstance(fields, dict) or set(fields) != set(_SESSION_TYPES):
        return None
    for name, kind in _SESSION_TYPES.items():
        value = fields[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = fields[name] = float(value)
        if not isinstance(value, kind) or (kind is str and len(value) > 256):
            return None
    if not NAME.fullmatch(fields["name"]):
        return None
    return fields, stored["sig"]


class Sessions:
    """Server-side sessions in Redis; `secret` signs them, `accounts` tells the current password."""

    def __init__(
        self,
        client: aioredis.Redis,
        secret: bytes = b"",
        accounts: Optional[Accounts] = None,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self.redis = client
        self.trusted_proxies = frozenset(trusted_proxies)
        self.secret = secret or b"bianmin-console-unconfigured"
        self.accounts = accounts
        self.limiter = Limiter(client)
        self._fingerprints: Dict[str, Tuple[str, float]] = {}

    def _sign(self, key: str, fields: Dict[str, Any]) -> str:
        message = key + "\n" + json.dumps(fields, sort_keys=True, ensure_ascii=False)
        return hmac.new(self.secret, message.encode(), hashlib.sha256).hexdigest()

    async def _current_fingerprint(self, name: str) -> Optional[str]:
        """The fingerprint of `name`'s password now (None: no such account); cached a moment."""
        if self.accounts is None:
            return None
        cached = self._fingerprints.get(name)
        if cached and time.monotonic() - cached[1] < PASSWORD_CHECK_CACHE:
            return cached[0]
        stored = await in_thread(self.accounts.stored_hash, name)
        fingerprint = password_fingerprint(stored) if stored else ""
        self._fingerprints[name] = (fingerprint, time.monotonic())
        return fingerprint

    async def create(self, agent: Agent) -> str:
        """A new session for `agent`; returns the cookie value."""
        token = secrets.token_urlsafe(32)
        fingerprint = await self._current_fingerprint(agent.name) or ""
        session = Session(
            agent.name, agent.display_name, agent.supervisor, secrets.token_urlsafe(24), fingerprint, time.time()
        )
        fields = asdict(session)
        value = json.dumps({"session": fields, "sig": self._sign(_key(token), fields)}, ensure_ascii=False)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(_key(token), value, ex=SESSION_TTL)
            pipe.sadd(_PREFIX + "agent-sessions:" + agent.name, _key(token))
            pipe.expire(_PREFIX + "agent-sessions:" + agent.name, SESSION_TTL)
            await pipe.execute()
        return token

    async def load(self, token: Optional[str]) -> Optional[Session]:
        """The session of a cookie value, or None (also for anything this console did not write, and for
        a session made before the account's password changed or the account was removed)."""
        if not token or len(token) > 128:
            return None
        key = _key(token)
        parsed = _parse(await self.redis.get(key))
        if parsed is None:
            return None
        fields, signature = parsed
        if not hmac.compare_digest(signature, self._sign(key, fields)):
            logger.warning("a console session in Redis has a wrong signature; refused")
            return None
        session = Session(**fields)
        if self.accounts is not None and await self._current_fingerprint(session.name) != session.password:
            await self.redis.delete(key)
            return None
        return session

    async def delete(self, token: Optional[str]) -> None:
        """Logs a session out."""
        if token:
            await self.redis.delete(_key(token))

    async def delete_agent(self, name: str) -> None:
        """Logs out every session of an agent (account removed, password changed)."""
        keys = await self.redis.smembers(_PREFIX + "agent-sessions:" + name)
        if keys:
            await self.redis.delete(*keys)
        await self.redis.delete(_PREFIX + "agent-sessions:" + name)
        self._fingerprints.pop(name, None)

    async def log_in(self, name: str, password: str, ip: str) -> Tuple[Optional[Agent], str, int]:
        """(agent, "", 200) for a right name and password; else (None, message, 401 or 429).

        A name that cannot be an account (too long, odd characters) is refused before Redis or the
        password hash are touched; the attempt limits are checked and counted before the hash."""
        if self.accounts is None:
            raise RuntimeError("Sessions needs the accounts to log in")
        if not isinstance(name, str) or not NAME.fullmatch(name) or len(password or "") > MAX_PASSWORD:
            return None, WRONG_LOGIN, 401
        limits = (
            Limit("login-ip", ip, LOGIN_PER_IP, LOGIN_WINDOW),
            Limit("login-pair", f"{name}|{ip}", LOGIN_FREE, LOGIN_WINDOW, backoff=True, max_wait=LOGIN_WINDOW),
        )
        known_key = _PREFIX + "known-addresses:" + name
        known = bool(await self.redis.sismember(known_key, key_part(ip)))
        account = () if known else (Limit("login-account", name, ACCOUNT_FREE, LOGIN_WINDOW, True, LOGIN_WINDOW),)
        wait = await self.limiter.attempt(*limits, *account)
        if wait:
            return None, f"尝试次数过多，请{wait_words(wait)}后再试。", 429
        agent = await in_thread(self.accounts.authenticate, name, password)
        if agent is None:
            return None, WRONG_LOGIN, 401
        await self.limiter.succeeded(*limits)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(known_key, key_part(ip))
            pipe.expire(known_key, KNOWN_FOR)
            await pipe.execute()
        return agent, "", 200


SESSIONS = web.AppKey("sessions", Sessions)


def client_ip(request: web.Request) -> str:
    """The client's address: the TCP peer, or behind a trusted reverse proxy (BIANMIN_TRUSTED_PROXIES)
    the right-most X-Forwarded-For address that is not one of them."""
    remote = request.remote or ""
    sessions = request.app.get(SESSIONS)
    trusted = sessions.trusted_proxies if sessions is not None else frozenset()
    if remote in trusted:
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in trusted:
                return hop[:64]
    return remote


def same_token(given: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time comparison of CSRF tokens; empty never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


async def _csrf_from(request: web.Request) -> Optional[str]:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        token = (await request.post()).get("csrf")
        return token if isinstance(token, str) else None
    return None


def _is_public(path: str) -> bool:
    return path in PUBLIC or path.startswith("/static/")


@web.middleware
async def auth_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    """Every page needs a session (else redirect to /login), every API too (else 401), and every
    state-changing request the session's CSRF token (else 403)."""
    session = await request.app[SESSIONS].load(request.cookies.get(COOKIE))
    request["session"] = session
    if _is_public(request.path):
        return await handler(request)
    if session is None:
        if request.path.startswith("/api/"):
            return web.json_response({"error": "请先登录"}, status=401)
        raise web.HTTPFound("/login")
    if request.method not in SAFE_METHODS and not same_token(await _csrf_from(request), session.csrf):
        return web.json_response({"error": "CSRF token missing or wrong; reload the page"}, status=403)
    return await handler(request)
