"""The one client of the ticket backend's REST API (used by the actions, the outbox and the console).

Every call has a timeout. Connection errors, timeouts and 5xx answers are retried a few times with
backoff, then raise TicketBackendUnavailable; 404 raises TicketNotFound and other 4xx TicketRejected
with the server's message. Creating is idempotent on `client_ref`, so it is retried like a read; a
status change is only retried when the connection could not even be opened.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional
from urllib.parse import quote

import aiohttp

from bot.settings import Settings, load

logger = logging.getLogger(__name__)


class TicketError(Exception):
    """Base of the ticket client's errors."""


class TicketBackendUnavailable(TicketError):
    """The backend did not answer usefully (down, too slow, 5xx) even after retrying."""


class TicketRejected(TicketError):
    """The backend refused the request (4xx); `message` is its explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.message = status, message


class TicketNotFound(TicketRejected):
    """No ticket has this number (404)."""


class _Retry(Exception):
    """An answer worth trying again (5xx, unreadable body)."""


class TicketClient:
    """Async client of one ticket backend; cheap to create, holds no open connection between calls."""

    def __init__(
        self, base_url: str, token: str, timeout: float = 3.0, attempts: int = 3, backoff: float = 0.25
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 2.0))
        self.attempts = max(1, attempts)
        self.backoff = backoff

    @classmethod
    def from_settings(cls, settings: Optional[Settings] = None) -> "TicketClient":
        """A client of settings.tickets_url with settings.tickets_token."""
        settings = settings or load()
        return cls(settings.tickets_url, settings.tickets_token)

    async def create_ticket(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        """Opens a ticket (or returns the one already opened for payload['client_ref'])."""
        return await self._request("POST", "/tickets", json=payload)

    async def get_ticket(self, number: str) -> Dict[str, Any]:
        """The ticket with its history; TicketNotFound if there is none."""
        return await self._request("GET", f"/tickets/{quote(number, safe='')}")

    async def list_tickets(self, **filters: Any) -> Dict[str, Any]:
        """{"tickets": [...], "total", "limit", "offset"}; filters: phone, sender_id, status, limit, offset."""
        params = {key: str(value) for key, value in filters.items() if value is not None}
        return await self._request("GET", "/tickets", params=params)

    async def update_ticket(self, number: str, fields: Dict[str, Any]) -> Dict[str, Any]:
        """Edits the given editable fields and returns the ticket."""
        return await self._request("PATCH", f"/tickets/{quote(number, safe='')}", json=fields)

    async def correction_rates(self, days: int = 30) -> Dict[str, Any]:
        """{"days", "categories": [{"category", "tickets", "corrected", "rate"}]}: dispatchers' corrections."""
        return await self._request("GET", "/corrections", params={"days": str(days)})

    async def set_status(self, number: str, status: str, note: Optional[str] = None) -> Dict[str, Any]:
        """Moves the ticket forward to `status` (TicketRejected with status 409 if it cannot)."""
        body = {"status": status, "note": note}
        return await self._request("POST", f"/tickets/{quote(number, safe='')}/status", json=body, idempotent=False)

    async def rate(self, number: str, rating: str, comment: Optional[str] = None) -> Dict[str, Any]:
        """Records the citizen's 好差评 (满意 / 基本满意 / 不满意) of a finished ticket."""
        body = {"rating": rating, "comment": comment}
        return await self._request("POST", f"/tickets/{quote(number, safe='')}/rating", json=body)

    async def _request(self, method: str, path: str, idempotent: bool = True, **kwargs: Any) -> Dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = self.base_url + path
        problem = "no attempt"
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                async with aiohttp.ClientSession(timeout=self.timeout) as session:
                    async with session.request(method, url, headers=headers, **kwargs) as response:
                        return await self._answer(response)
            except aiohttp.ClientConnectorError as error:
                problem = f"cannot connect: {error.os_error or error}"
            except (aiohttp.ClientError, asyncio.TimeoutError, _Retry) as error:
                problem = str(error) or type(error).__name__
                if not idempotent:
                    break
            logger.warning(
                "ticket backend %s %s failed (attempt %d/%d): %s", method, path, attempt + 1, self.attempts, problem
            )
        raise TicketBackendUnavailable(f"{method} {path}: {problem}")

    @staticmethod
    async def _answer(response: aiohttp.ClientResponse) -> Dict[str, Any]:
        """The JSON of a 2xx answer; raises the matching error otherwise."""
        if response.status >= 500:
            raise _Retry(f"HTTP {response.status}")
        try:
            data = await response.json(content_type=None)
        except ValueError:
            data = None
        if 200 <= response.status < 300:
            if not isinstance(data, dict):
                raise _Retry(f"HTTP {response.status} without a JSON object")
            return data
        message = data.get("error") if isinstance(data, dict) and data.get("error") else response.reason or ""
        if response.status == 404:
            raise TicketNotFound(404, str(message))
        raise TicketRejected(response.status, str(message))
