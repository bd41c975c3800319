"""Open311 GeoReport v2 HTTP API of the embedded desk, mounted at ``/open311/v2/``.

Public calls (``services.json``, ``requests/{id}.json``) never reveal a
resident's phone or name.  Calls that carry the desk key as ``api_key``
(query string or form field, the Open311 way) create tickets and see every
field, and the desk extension ``POST requests/{id}/status.json`` lets staff
move a ticket through its life cycle.

Duplicates: a ``POST requests.json`` carrying ``attribute[duplicate_of]=<id>`` adds the
resident as a co-reporter of that open ticket instead of filing a new one (same
idempotency rules); staff merge and split tickets with ``POST requests/{id}/merge.json``
(``other``: the ticket merged into this one) and ``POST requests/{id}/split.json``
(``reporter_id``).  Every ticket shows its ``reporters`` count; staff see the
``co_reporters``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from desk.coreporters import ReporterNotFound, co_report, merge, split
from desk.store import DeskStore, InvalidTransition, NewTicket, Ticket, TicketNotFound
from hotline.secret_keys import constant_time_equal

__all__ = ["DeskApi", "StatusListener"]

log = logging.getLogger("jiesu.desk")

StatusListener = Callable[[Ticket], Awaitable[None]]
MAX_DESCRIPTION = 20_000
DEFAULT_PAGE, MAX_PAGE = 100, 1000


def _error(status: int, code: int, description: str) -> web.Response:
    """Open311 error shape: a list of {code, description}."""
    return web.json_response([{"code": code, "description": description}], status=status)


async def _form(request: web.Request) -> Any:
    """The request's form fields, or ``None`` when the body is not a form that parses
    (a multipart body without a boundary, broken encodings…)."""
    try:
        return await request.post()
    except (ValueError, AssertionError, UnicodeDecodeError, LookupError) as exc:
        log.info("unreadable form from %s: %s", request.remote, exc)
        return None


def _attributes(form: Any) -> dict[str, str]:
    """Collect Open311 ``attribute[name]`` form fields into a dict."""
    return {
        str(k)[len("attribute[") : -1]: str(v)
        for k, v in form.items()
        if str(k).startswith("attribute[") and str(k).endswith("]")
    }


def _float_or_none(raw: str | None) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return float(raw)  # type: ignore[arg-type]
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps([{"code": 400, "description": f"not a number: {raw!r}"}]),
            content_type="application/json",
        ) from exc


class DeskApi:
    """Routes of the desk; ``services`` is the Open311 service list."""

    def __init__(
        self,
        store: DeskStore,
        api_key: str,
        services: list[dict[str, Any]],
        deadlines_h: dict[str, float],
    ):
        self.store = store
        self.api_key = api_key
        self.services = services
        self._by_code = {s["service_code"]: s for s in services}
        self.deadlines_h = deadlines_h
        self.listeners: list[StatusListener] = []

    def routes(self, prefix: str = "/open311/v2") -> list[web.RouteDef]:
        return [
            web.get(f"{prefix}/services.json", self.list_services),
            web.get(f"{prefix}/requests.json", self.list_requests),
            web.post(f"{prefix}/requests.json", self.post_request),
            web.get(f"{prefix}/requests/{{srid}}.json", self.get_request),
            web.post(f"{prefix}/requests/{{srid}}/status.json", self.post_status),
            web.post(f"{prefix}/requests/{{srid}}/merge.json", self.post_merge),
            web.post(f"{prefix}/requests/{{srid}}/split.json", self.post_split),
        ]

    def _is_staff(self, request: web.Request, form: Any = None) -> bool:
        key = request.query.get("api_key") or (form.get("api_key") if form else None) or ""
        key = key or request.headers.get("X-Api-Key", "")
        return constant_time_equal(key, self.api_key)

    async def list_services(self, request: web.Request) -> web.Response:
        return web.json_response(self.services)

    async def get_request(self, request: web.Request) -> web.Response:
        srid = request.match_info["srid"]
        try:
            ticket = await asyncio.to_thread(self.store.get, srid)
        except TicketNotFound:
            return _error(404, 404, f"no service request {srid}")
        return web.json_response(
            [ticket.to_open311(staff=self._is_staff(request), tz=self.store.tz)]
        )

    async def list_requests(self, request: web.Request) -> web.Response:
        ids = [i for i in request.query.get("service_request_id", "").split(",") if i]
        try:  # desk extension: a bigger page (the duplicate look-up reads every open one)
            limit = min(MAX_PAGE, max(1, int(request.query.get("limit") or DEFAULT_PAGE)))
        except ValueError:
            return _error(400, 400, "limit must be a number")
        tickets = await asyncio.to_thread(
            self.store.list,
            ids=ids or None,
            status=request.query.get("status") or None,
            service_code=request.query.get("service_code") or None,
            limit=limit,
        )
        staff = self._is_staff(request)
        return web.json_response([t.to_open311(staff=staff, tz=self.store.tz) for t in tickets])

    async def post_request(self, request: web.Request) -> web.Response:
        form = await _form(request)
        if form is None:
            return _error(400, 400, "body must be application/x-www-form-urlencoded fields")
        if not self._is_staff(request, form):
            return _error(403, 403, "api_key missing or wrong")
        service_code = str(form.get("service_code") or "")
        description = str(form.get("description") or "").strip()
        if service_code not in self._by_code:
            return _error(400, 400, f"unknown service_code {service_code!r}")
        if not description:
            return _error(400, 400, "description is required")
        attributes = _attributes(form)
        lat = _float_or_none(form.get("lat"))  # type: ignore[arg-type]
        lon = _float_or_none(form.get("long"))  # type: ignore[arg-type]
        address = str(form.get("address_string") or "") or None
        if lat is None and lon is None and address is None:
            return _error(400, 400, "a location is required: address_string or lat/long")
        key = request.headers.get("Idempotency-Key") or attributes.get("idempotency_key") or None
        urgency = attributes.get("urgency", "normal")
        service = self._by_code[service_code]
        new = NewTicket(
            service_code=service_code,
            service_name=str(service.get("service_name", "")),
            agency_responsible=str(service.get("agency", "")),
            description=description[:MAX_DESCRIPTION],
            address_string=address,
            lat=lat,
            long=lon,
            phone=str(form.get("phone") or "") or None,
            first_name=str(form.get("first_name") or "") or None,
            last_name=str(form.get("last_name") or "") or None,
            media_url=str(form.get("media_url") or "") or None,
            attributes=attributes,
            idempotency_key=key,
            expected_in_hours=self.deadlines_h.get(urgency, self.deadlines_h["normal"]),
        )
        duplicate_of = attributes.get("duplicate_of", "").strip()
        if duplicate_of:
            ticket, created = await asyncio.to_thread(co_report, self.store, duplicate_of, new)
            joined = ticket.service_request_id == duplicate_of.upper()
            if created:
                log.info(
                    "report joined to %s (%d reporters)" if joined else "new ticket %s (%d)",
                    ticket.service_request_id,
                    ticket.reporters,
                )
        else:
            ticket, created = await asyncio.to_thread(self.store.create, new)
            joined = False
            if created:
                log.info("ticket %s created (%s)", ticket.service_request_id, service_code)
        body = [
            {
                "service_request_id": ticket.service_request_id,
                "service_notice": "已并入同一问题的工单" if joined else "已受理",
                "account_id": None,
                "expected_datetime": ticket.to_open311(staff=False, tz=self.store.tz)[
                    "expected_datetime"
                ],
            }
        ]
        return web.json_response(body, status=201 if created else 200)

    async def post_status(self, request: web.Request) -> web.Response:
        form = await _form(request)
        if form is None:
            return _error(400, 400, "body must be application/x-www-form-urlencoded fields")
        if not self._is_staff(request, form):
            return _error(403, 403, "api_key missing or wrong")
        srid = request.match_info["srid"]
        status = str(form.get("status") or "")
        note = str(form.get("note") or "") or None
        actor = str(form.get("actor") or "staff")
        attributes = _attributes(form)
        try:
            ticket = await self.change_status(srid, status, note, actor, attributes or None)
        except TicketNotFound:
            return _error(404, 404, f"no service request {srid}")
        except InvalidTransition as exc:
            return _error(409, 409, str(exc))
        return web.json_response([ticket.to_open311(staff=True, tz=self.store.tz)])

    async def post_merge(self, request: web.Request) -> web.Response:
        """Staff: merge ticket ``other`` into ``{srid}``; answers with the merged ticket."""
        form = await request.post()
        if not self._is_staff(request, form):
            return _error(403, 403, "api_key missing or wrong")
        srid, other = request.match_info["srid"], str(form.get("other") or "")
        actor = str(form.get("actor") or "staff")
        try:
            ticket = await asyncio.to_thread(merge, self.store, srid, other, actor)
        except TicketNotFound as exc:
            return _error(404, 404, f"no service request {exc}")
        except InvalidTransition as exc:
            return _error(409, 409, str(exc))
        log.info("ticket %s merged into %s", other, ticket.service_request_id)
        return web.json_response([ticket.to_open311(staff=True, tz=self.store.tz)])

    async def post_split(self, request: web.Request) -> web.Response:
        """Staff: give co-reporter ``reporter_id`` of ``{srid}`` a ticket of their own."""
        form = await request.post()
        if not self._is_staff(request, form):
            return _error(403, 403, "api_key missing or wrong")
        srid = request.match_info["srid"]
        actor = str(form.get("actor") or "staff")
        try:
            reporter_id = int(str(form.get("reporter_id") or ""))
        except ValueError:
            return _error(400, 400, "reporter_id must be a number")
        try:
            ticket = await asyncio.to_thread(split, self.store, srid, reporter_id, actor)
        except TicketNotFound:
            return _error(404, 404, f"no service request {srid}")
        except ReporterNotFound as exc:
            return _error(404, 404, str(exc))
        log.info("co-reporter %d of %s split to %s", reporter_id, srid, ticket.service_request_id)
        return web.json_response([ticket.to_open311(staff=True, tz=self.store.tz)])

    async def change_status(
        self,
        srid: str,
        status: str,
        note: str | None = None,
        actor: str = "staff",
        attributes: dict[str, Any] | None = None,
    ) -> Ticket:
        """Move a ticket and tell the listeners (the satisfaction callback among them).

        The one path of every staff status change: ``POST requests/{id}/status.json``
        (``jiesu desk resolve``) and the console both come through here.

        Raises:
            TicketNotFound: No such ticket.
            InvalidTransition: The change is not allowed from the ticket's status.
        """
        ticket = await asyncio.to_thread(
            self.store.set_status, srid, status, note, actor, attributes
        )
        await self._notify(ticket)
        return ticket

    async def _notify(self, ticket: Ticket) -> None:
        for listener in self.listeners:
            try:
                await listener(ticket)
            except Exception:
                log.exception("status listener failed for %s", ticket.service_request_id)
