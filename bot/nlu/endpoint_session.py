"""Rasa's calls to its endpoints (above all the action server) over kept-alive connections.

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp `ClientSession`, and so a new TCP connection, for
every call and closes it after the answer: for the action endpoint, once or twice a turn. Each connect is
one more wait on the Rasa server's one event loop, which under load costs a round of every other
conversation's work (bench/dialogue/LOAD.md). Here each event loop keeps one session per endpoint
configuration (its headers and basic auth, what Rasa's own session is made of), whose connections are
kept alive between calls; the request itself is Rasa's, unchanged: same URL, parameters, headers, timeout,
the JSON answer (None when the answer is not JSON), `ClientResponseError` for a status of 400 or more, and
aiohttp's own errors when the endpoint cannot be reached.

An idle connection is closed after KEEPALIVE seconds, well before the servers Rasa calls close theirs (the
action server keeps an idle connection 75 s, actions/__main__.py; haproxy 120 s), so Rasa never writes a
call to a connection the other side is closing. The number of connections is not limited, as before.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import ssl
import weakref
from typing import Any, Dict, Optional, Text, Tuple

import aiohttp
from aiohttp.client_exceptions import ContentTypeError
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.shared.exceptions import FileNotFoundException
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url

KEEPALIVE = 10.0  # seconds an idle connection is kept (aiohttp's default is 15)

_original_request = EndpointConfig.request
_SessionKey = Tuple[Tuple[Tuple[str, str], ...], Tuple[Tuple[str, str], ...]]
# per event loop (a test or a worker may run several, one after the other): the kept sessions
_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[_SessionKey, aiohttp.ClientSession]]" = (
    weakref.WeakKeyDictionary()
)


def _key(config: EndpointConfig) -> _SessionKey:
    headers = tuple(sorted((str(name), str(value)) for name, value in config.headers.items()))
    auth = tuple(sorted((str(name), str(value)) for name, value in config.basic_auth.items()))
    return headers, auth


def session_for(config: EndpointConfig) -> aiohttp.ClientSession:
    """The kept session for `config` on the running event loop (made as Rasa's `config.session()` is, plus
    kept-alive connections)."""
    loop = asyncio.get_running_loop()
    kept = _sessions.setdefault(loop, {})
    key = _key(config)
    session = kept.get(key)
    if session is None or session.closed:
        auth = None
        if config.basic_auth:
            auth = aiohttp.BasicAuth(config.basic_auth["username"], config.basic_auth["password"])
        session = aiohttp.ClientSession(
            headers=config.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE),
        )
        kept[key] = session
    return session


async def request(
    self: EndpointConfig,
    method: Text = "post",
    subpath: Optional[Text] = None,
    content_type: Optional[Text] = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Optional[Any]:
    """Rasa's `EndpointConfig.request`, on the kept session of this configuration."""
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs["headers"])
        del kwargs["headers"]
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)  # type: ignore[arg-type]
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    async with session_for(self).request(
        method,
        url,
        headers=headers,
        params=self.combine_parameters(kwargs),
        compress=compress,
        ssl=sslcontext,
        **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(response.status, response.reason, await response.content.read())
        try:
            return await response.json()
        except ContentTypeError:
            return None


async def close_sessions() -> None:
    """Closes the kept sessions of the running event loop."""
    kept = _sessions.pop(asyncio.get_running_loop(), {})
    for session in kept.values():
        await session.close()


def _forget_at_exit() -> None:
    """At exit, whatever loop ran them is stopped: the sessions are marked closed without a loop, so that
    aiohttp does not log "Unclosed client session" for each while the interpreter shuts down."""
    for kept in list(_sessions.values()):
        for session in kept.values():
            connector = session.connector
            session.detach()
            if connector is not None:
                connector._close()  # closes its transports at once (what `await connector.close()` does)
    _sessions.clear()


def install() -> None:
    """Patches EndpointConfig.request (idempotent)."""
    if EndpointConfig.request is not request:
        EndpointConfig.request = request  # type: ignore[method-assign]
        atexit.register(_forget_at_exit)
