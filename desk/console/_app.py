"""The staff console's routes under ``/desk/`` (the gateway mounts them).

Sign-in with the desk key (``POST /desk/login``, field ``api_key``) gives an HttpOnly,
SameSite=Strict session cookie; every other page redirects to the sign-in page without
it, and every POST carries the session's CSRF token.  Ten wrong keys from one address in
15 minutes stop sign-in from there for the rest of the window.  Status changes go through
:meth:`desk.api.DeskApi.change_status`, the path of ``jiesu desk resolve``, so the
satisfaction callback follows exactly as it does there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlparse

from aiohttp import web
from markupsafe import Markup
from sqlalchemy.engine import Engine

from desk.api import DeskApi
from desk.console import _views as views
from desk.console._listing import TicketFilter, list_tickets
from desk.console._reporters import MergeSplit, StoreMergeSplit, reporters_of
from desk.console._sessions import Session, SessionStore, keys_match
from desk.console._transcript import read_transcript
from desk.coreporters import ReporterNotFound
from desk.store import InvalidTransition, Ticket, TicketNotFound, next_statuses
from tickets.db import make_engine
from tickets.survey.store import SurveyStore

__all__ = ["COOKIE", "Console", "PREFIX"]

log = logging.getLogger("jiesu.desk.console")
PREFIX = "/desk"
COOKIE = "jiesu_desk"
REPORT_CACHE_S = 60.0
# Wrong keys from one address within the window before sign-in is refused there (429).
LOGIN_FAILURES = 10
LOGIN_WINDOW_S = 900.0
STATIC_DIR = Path(__file__).parent / "static"
_NOTICES = {
    "status": "状态已更新",
    "merged": "已合并",
    "split": "已拆分",
}
_ERRORS = {
    "transition": "这个状态变更不允许",
    "csrf": "表单已过期，请重试",
    "merge": "合并失败：找不到要并入的工单",
    "unwired": "合并/拆分还没有接入工单库",
    "note": "请写明处理说明",
}
# Same-origin everything; charts are inline data: images; no framing.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
Handler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": _CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )


def _safe_next(raw: str) -> str:
    """Only a console path may follow the sign-in (no open redirect)."""
    parsed = urlparse(raw)
    if raw.startswith(f"{PREFIX}/") and not parsed.netloc and not raw.startswith("//"):
        return raw
    return f"{PREFIX}/tickets"


class Console:
    """The console; ``ctx`` opens its databases, ``routes()`` are added to the app."""

    def __init__(
        self,
        desk_api: DeskApi,
        *,
        survey_url: str,
        tracker_url: str,
        data_dir: Path,
        merge_split: MergeSplit | None = None,  # default: the desk store's
    ):
        self.desk_api = desk_api
        self.survey_url = survey_url
        self.tracker_url = tracker_url
        self.data_dir = data_dir.resolve()
        self.merge_split = merge_split or StoreMergeSplit(desk_api)
        self.sessions: SessionStore | None = None
        self.survey: SurveyStore | None = None
        self.tracker: Engine | None = None
        self._reports: dict[str, tuple[float, Markup, dict[str, Any]]] = {}
        self._report_lock = asyncio.Lock()
        self._failures: dict[str, list[float]] = {}

    # -- wiring ------------------------------------------------------------------
    async def ctx(self, _app: web.Application) -> AsyncIterator[None]:
        """``cleanup_ctx``: after the desk store is open (it holds the sessions)."""
        store = self.desk_api.store
        self.sessions = await asyncio.to_thread(SessionStore, store.engine)
        self.survey = await asyncio.to_thread(SurveyStore, self.survey_url)
        self.tracker = make_engine(self.tracker_url) if self.tracker_url else None
        yield
        self.survey.close()
        if self.tracker is not None:
            self.tracker.dispose()

    def routes(self) -> list[web.AbstractRouteDef]:
        p = PREFIX
        return [
            web.get(p, self.root),
            web.get(f"{p}/", self.root),
            web.get(f"{p}/login", self.login_form),
            web.post(f"{p}/login", self.login),
            web.post(f"{p}/logout", self._staff(self.logout)),
            web.get(f"{p}/tickets", self._staff(self.tickets)),
            web.get(f"{p}/tickets/{{srid}}", self._staff(self.ticket)),
            web.post(f"{p}/tickets/{{srid}}/status", self._staff(self.status)),
            web.post(f"{p}/tickets/{{srid}}/merge", self._staff(self.merge)),
            web.post(f"{p}/tickets/{{srid}}/split", self._staff(self.split)),
            web.get(f"{p}/tickets/{{srid}}/attachments/{{n:\\d+}}", self._staff(self.attachment)),
            web.get(f"{p}/reports", self._staff(self.reports)),
            web.get(f"{p}/reports.json", self._staff(self.reports_json)),
            web.static(f"{p}/static", STATIC_DIR),
        ]

    # -- sessions ----------------------------------------------------------------
    async def _session(self, request: web.Request) -> Session | None:
        token = request.cookies.get(COOKIE, "")
        if not token or self.sessions is None:
            return None
        return await asyncio.to_thread(self.sessions.get, token)

    def _staff(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Signed-in staff only; a POST must also carry the session's CSRF token."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            session = await self._session(request)
            if session is None:
                if request.method != "GET":
                    return _html(views.login_page("请先登录"), status=403)
                raise web.HTTPFound(f"{PREFIX}/login?" + urlencode({"next": request.path_qs}))
            if request.method == "POST":
                form = await request.post()
                if not session.csrf_ok(str(form.get("csrf", ""))):
                    return _html(
                        views.page(
                            "表单已过期", Markup("<p>表单已过期，请返回重试。</p>"), session.csrf
                        ),
                        403,
                    )
            return await handler(request, session)

        return wrapped

    async def root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{PREFIX}/tickets")

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        return _html(views.login_page(next_url=_safe_next(request.query.get("next", ""))))

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        next_url = _safe_next(str(form.get("next", "")))
        remote = request.remote or ""
        now = time.monotonic()
        recent = [t for t in self._failures.get(remote, []) if now - t < LOGIN_WINDOW_S]
        if len(recent) >= LOGIN_FAILURES:
            return _html(views.login_page("尝试次数过多，请稍后再试", next_url), status=429)
        if not keys_match(str(form.get("api_key", "")), self.desk_api.api_key):
            self._failures[remote] = [*recent, now]
            log.warning("console sign-in with a wrong key from %s", remote)
            return _html(views.login_page("密钥不对", next_url), status=403)
        self._failures.pop(remote, None)
        assert self.sessions is not None
        session = await asyncio.to_thread(self.sessions.create)
        resp = web.HTTPFound(next_url)
        resp.set_cookie(
            COOKIE,
            session.token,
            path=PREFIX,
            max_age=int(self.sessions.ttl_s),
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
        raise resp

    async def logout(self, request: web.Request, session: Session) -> web.StreamResponse:
        assert self.sessions is not None
        await asyncio.to_thread(self.sessions.delete, session.token)
        resp = web.HTTPFound(f"{PREFIX}/login")
        resp.del_cookie(COOKIE, path=PREFIX)
        raise resp

    # -- tickets -----------------------------------------------------------------
    def _categories(self) -> list[str]:
        return sorted({str(s.get("service_name", "")) for s in self.desk_api.services} - {""})

    async def tickets(self, request: web.Request, session: Session) -> web.StreamResponse:
        f = TicketFilter.from_query(request.query)
        now = time.time()
        listing = await asyncio.to_thread(list_tickets, self.desk_api.store.engine, f, now)
        return _html(
            views.ticket_list(
                listing, f, self._categories(), now, self.desk_api.store.tz, session.csrf
            )
        )

    def _attachment_urls(self, ticket: Ticket) -> list[str]:
        urls = [ticket.media_url or "", *str(ticket.attributes.get("attachments", "")).split("\n")]
        seen: list[str] = []
        for u in (u.strip() for u in urls):
            if u and u not in seen and u.split(":", 1)[0] in ("file", "http", "https"):
                seen.append(u)
        return seen

    def _load_ticket_page(self, srid: str) -> dict[str, Any]:
        ticket = self.desk_api.store.get(srid)
        assert self.survey is not None
        return {
            "ticket": ticket,
            "turns": read_transcript(
                self.tracker, str(ticket.attributes.get("conversation_id", ""))
            ),
            "survey": self.survey.find(ticket.service_request_id),
        }

    async def ticket(self, request: web.Request, session: Session) -> web.StreamResponse:
        try:
            data = await asyncio.to_thread(self._load_ticket_page, request.match_info["srid"])
        except TicketNotFound:
            return _html(views.page("找不到", Markup("<p>没有这个工单。</p>"), session.csrf), 404)
        ticket: Ticket = data["ticket"]
        urls = self._attachment_urls(ticket)
        return _html(
            views.ticket_page(
                ticket,
                transitions=next_statuses(ticket.status),
                turns=data["turns"],
                survey=data["survey"],
                reporters=reporters_of(ticket),
                attachments=[(i, u, u.startswith("file:")) for i, u in enumerate(urls)],
                can_merge=self.merge_split is not None,
                message=_NOTICES.get(request.query.get("done", ""), ""),
                error=_ERRORS.get(request.query.get("error", ""), ""),
                now=time.time(),
                tz=self.desk_api.store.tz,
                csrf=session.csrf,
            )
        )

    def _back(self, srid: str, **query: str) -> web.HTTPFound:
        return web.HTTPFound(f"{PREFIX}/tickets/{srid}?" + urlencode(query))

    async def status(self, request: web.Request, session: Session) -> web.StreamResponse:
        srid = request.match_info["srid"]
        form = await request.post()
        note = str(form.get("note", "")).strip()[:2000]
        if not note:
            raise self._back(srid, error="note")
        try:
            ticket = await self.desk_api.change_status(
                srid, str(form.get("status", "")), note, "console"
            )
        except TicketNotFound:
            raise web.HTTPNotFound() from None
        except InvalidTransition:
            raise self._back(srid, error="transition") from None
        raise self._back(ticket.service_request_id, done="status")

    async def merge(self, request: web.Request, session: Session) -> web.StreamResponse:
        srid = request.match_info["srid"]
        if self.merge_split is None:
            return _html(
                views.page("未接入", Markup("<p>合并/拆分还没有接入工单库。</p>"), session.csrf),
                501,
            )
        into = str((await request.post()).get("into", "")).strip()
        try:
            ticket = await asyncio.to_thread(self.merge_split.merge, srid, into, "console")
        except TicketNotFound:
            raise self._back(srid, error="merge") from None
        raise self._back(ticket.service_request_id, done="merged")

    async def split(self, request: web.Request, session: Session) -> web.StreamResponse:
        srid = request.match_info["srid"]
        if self.merge_split is None:
            return _html(
                views.page("未接入", Markup("<p>合并/拆分还没有接入工单库。</p>"), session.csrf),
                501,
            )
        try:
            reporter_id = int(str((await request.post()).get("reporter", "")))
            ticket = await asyncio.to_thread(self.merge_split.split, srid, reporter_id, "console")
        except (ValueError, ReporterNotFound, TicketNotFound):
            raise web.HTTPBadRequest() from None
        raise self._back(ticket.service_request_id, done="split")

    async def attachment(self, request: web.Request, session: Session) -> web.StreamResponse:
        try:
            ticket = await asyncio.to_thread(self.desk_api.store.get, request.match_info["srid"])
        except TicketNotFound:
            raise web.HTTPNotFound() from None
        urls = self._attachment_urls(ticket)
        n = int(request.match_info["n"])
        if n >= len(urls) or not urls[n].startswith("file:"):
            raise web.HTTPNotFound()
        path = await asyncio.to_thread(self._stored_file, urls[n])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Disposition": "attachment"})

    def _stored_file(self, url: str) -> Path | None:
        """The file behind a ``file:`` URL, only if the gateway stored it (under the data dir)."""
        path = Path(unquote(urlparse(url).path)).resolve()
        if not path.is_relative_to(self.data_dir) or not path.is_file():
            return None
        return path

    # -- reports -----------------------------------------------------------------
    async def _report(self, period_raw: str) -> tuple[Markup, dict[str, Any]]:
        from desk.report import Period, data_uri, make_report, render_charts, report_fragment

        period = Period(period_raw) if period_raw in ("day", "week", "month") else Period.WEEK
        async with self._report_lock:
            cached = self._reports.get(str(period))
            if cached and time.monotonic() - cached[0] < REPORT_CACHE_S:
                return cached[1], cached[2]

            def build() -> tuple[Markup, dict[str, Any]]:
                store = self.desk_api.store
                report = make_report(store.engine, self.survey, period, store.tz)
                charts = {k: data_uri(v) for k, v in render_charts(report).items()}
                return report_fragment(report, charts), report.as_dict()

            fragment, figures = await asyncio.to_thread(build)
            self._reports[str(period)] = (time.monotonic(), fragment, figures)
            return fragment, figures

    async def reports(self, request: web.Request, session: Session) -> web.StreamResponse:
        period = request.query.get("period", "week")
        fragment, _ = await self._report(period)
        return _html(
            views.report_page(
                fragment, period if period in ("day", "week", "month") else "week", session.csrf
            )
        )

    async def reports_json(self, request: web.Request, session: Session) -> web.StreamResponse:
        _, figures = await self._report(request.query.get("period", "week"))
        return web.Response(
            text=json.dumps(figures, ensure_ascii=False), content_type="application/json"
        )
