"""Console sessions (server-side, in Redis, so every console process knows them), CSRF tokens and the
middleware that guards every page and API."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from typing import Awaitable, Callable, Optional

import redis.asyncio as aioredis
from aiohttp import web

from console.accounts import Agent

COOKIE = "bianmin_console"
LOGIN_CSRF_COOKIE = "bianmin_login_csrf"
SESSION_TTL = 12 * 3600
_PREFIX = "bianmin:console:"
PUBLIC = ("/login", "/health")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_FAILURES, FAILURE_WINDOW = 10, 15 * 60


@dataclass(frozen=True)
class Session:
    """A logged-in agent."""

    name: str
    display_name: str
    supervisor: bool
    csrf: str


def _key(token: str) -> str:
    # only a hash of the cookie is stored, so a Redis dump holds no usable session
    return _PREFIX + "session:" + hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """Server-side sessions in Redis."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client

    async def create(self, agent: Agent) -> str:
        """A new session for `agent`; returns the cookie value."""
        token = secrets.token_urlsafe(32)
        session = Session(agent.name, agent.display_name, agent.supervisor, secrets.token_urlsafe(24))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(_key(token), json.dumps(asdict(session)), ex=SESSION_TTL)
            pipe.sadd(_PREFIX + "agent-sessions:" + agent.name, _key(token))
            pipe.expire(_PREFIX + "agent-sessions:" + agent.name, SESSION_TTL)
            await pipe.execute()
        return token

    async def load(self, token: Optional[str]) -> Optional[Session]:
        """The session of a cookie value, or None."""
        if not token:
            return None
        raw = await self.redis.get(_key(token))
        return Session(**json.loads(raw)) if raw else None

    async def delete(self, token: Optional[str]) -> None:
        """Logs a session out."""
        if token:
            await self.redis.delete(_key(token))

    async def delete_agent(self, name: str) -> None:
        """Logs out every session of an agent (when the account is removed)."""
        keys = await self.redis.smembers(_PREFIX + "agent-sessions:" + name)
        if keys:
            await self.redis.delete(*keys)
        await self.redis.delete(_PREFIX + "agent-sessions:" + name)

    async def too_many_failures(self, name: str) -> bool:
        """True after MAX_FAILURES wrong passwords for `name` within FAILURE_WINDOW."""
        return int(await self.redis.get(_PREFIX + "failures:" + name) or 0) >= MAX_FAILURES

    async def record_failure(self, name: str) -> None:
        """Counts a wrong password."""
        key = _PREFIX + "failures:" + name
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, FAILURE_WINDOW)
            await pipe.execute()


SESSIONS = web.AppKey("sessions", Sessions)


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
