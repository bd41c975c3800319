"""Async Open311 GeoReport v2 client (aiohttp).

Cities point ``JIESU_OPEN311_URL``/``JIESU_OPEN311_API_KEY`` at their own
backend; by default this talks to the embedded desk.  Only the calls the
hotline needs: create a request, read one, and the desk's status extension.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp

from hotline.config import Config
from tickets.errors import BackendRejected, BackendUnavailable

__all__ = ["Open311Client", "Open311Connection", "configured_client"]


class Open311Client:
    """One backend; share the ``aiohttp.ClientSession`` across calls."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession,
        api_key: str = "",
        jurisdiction_id: str = "",
        timeout_s: float = 5.0,
    ):
        self.base = base_url.rstrip("/")
        self.session = session
        self.api_key = api_key
        self.jurisdiction_id = jurisdiction_id
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    def _params(self, staff: bool) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.jurisdiction_id:
            params["jurisdiction_id"] = self.jurisdiction_id
        if staff and self.api_key:
            params["api_key"] = self.api_key
        return params

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base}/{path}"
        try:
            async with self.session.request(method, url, timeout=self.timeout, **kwargs) as resp:
                text = await resp.text()
                if resp.status >= 500 or resp.status in (408, 429):
                    raise BackendUnavailable(f"HTTP {resp.status} from {url}")
                if resp.status >= 400:
                    raise BackendRejected(resp.status, text)
                try:
                    return await resp.json(content_type=None)
                except ValueError as exc:
                    raise BackendUnavailable(f"invalid JSON from {url}") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise BackendUnavailable(f"{type(exc).__name__}: {exc} ({url})") from exc

    async def create_request(self, form: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        """POST requests.json; returns the first element of the Open311 answer."""
        data = dict(form)
        data.update(self._params(staff=True))
        data["attribute[idempotency_key]"] = idempotency_key
        body = await self._call(
            "POST", "requests.json", data=data, headers={"Idempotency-Key": idempotency_key}
        )
        if not isinstance(body, list) or not body or "service_request_id" not in body[0]:
            # Some backends answer with a token first; treat it as not yet delivered.
            raise BackendUnavailable(f"no service_request_id in answer: {str(body)[:200]}")
        return dict(body[0])

    async def get_request(self, service_request_id: str, staff: bool = False) -> dict[str, Any]:
        """GET requests/{id}.json; the request as a dict."""
        body = await self._call(
            "GET", f"requests/{service_request_id}.json", params=self._params(staff)
        )
        if not isinstance(body, list) or not body:
            raise BackendRejected(404, str(body))
        return dict(body[0])

    async def list_requests(
        self, *, status: str = "open", service_code: str = "", staff: bool = True, limit: int = 0
    ) -> list[dict[str, Any]]:
        """GET requests.json (``status``, ``service_code``): the tickets as dicts.

        ``limit`` asks for a bigger page (an extension the embedded desk honours; other
        backends ignore it and answer with their default page).
        """
        params = {"status": status, **self._params(staff)}
        if limit:
            params["limit"] = str(limit)
        if service_code:
            params["service_code"] = service_code
        body = await self._call("GET", "requests.json", params=params)
        return [dict(r) for r in body if isinstance(r, dict)] if isinstance(body, list) else []

    async def set_status(
        self,
        service_request_id: str,
        status: str,
        note: str = "",
        attributes: dict[str, str] | None = None,
        actor: str = "jiesu",
    ) -> dict[str, Any]:
        """Desk extension: change a ticket's status (staff key required)."""
        data = {"status": status, "note": note, "actor": actor, **self._params(staff=True)}
        for k, v in (attributes or {}).items():
            data[f"attribute[{k}]"] = v
        body = await self._call("POST", f"requests/{service_request_id}/status.json", data=data)
        return dict(body[0]) if isinstance(body, list) and body else {}

    async def services(self) -> list[dict[str, Any]]:
        body = await self._call("GET", "services.json", params=self._params(staff=False))
        return list(body) if isinstance(body, list) else []


def configured_client(config: Config, session: aiohttp.ClientSession) -> Open311Client:
    """The client of the configured ticket backend (a city's, or the embedded desk), on ``session``."""
    return Open311Client(
        config.effective_open311_url,
        session,
        config.effective_open311_api_key,
        config.open311_jurisdiction,
        config.delivery_timeout_s,
    )


class Open311Connection:
    """An :class:`Open311Client` on an HTTP session of its own, opened on first use.

    The gateway shares its application's session; the action server has none, so
    its ticket service and survey results each hold one of these, and close it
    when the server stops (and a closed one opens again if used afterwards).
    """

    def __init__(self, make_client: Callable[[aiohttp.ClientSession], Open311Client]):
        self._make_client = make_client
        self._session: aiohttp.ClientSession | None = None
        self._client: Open311Client | None = None

    @classmethod
    def for_config(cls, config: Config) -> Open311Connection:
        """A connection to the backend ``config`` names."""
        return cls(lambda session: configured_client(config, session))

    def client(self) -> Open311Client:
        if self._client is None or self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._client = self._make_client(self._session)
        return self._client

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = self._client = None
