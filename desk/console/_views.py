"""Server-rendered pages of the console.  Every value is escaped (:mod:`markupsafe`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from desk.console._listing import ListPage, TicketFilter
from desk.console._reporters import Reporter
from desk.console._transcript import Turn
from desk.report._data import DONE_STATUSES
from desk.store import STATUSES, Ticket
from tickets.survey.store import SurveyJob

__all__ = ["STATUS_NAMES", "login_page", "page", "report_page", "ticket_list", "ticket_page"]

_LAYOUT = Template((Path(__file__).parent / "templates" / "layout.html").read_text("utf-8"))
STATUS_NAMES = {
    "open": "待处理",
    "in_progress": "处理中",
    "resolved": "已解决",
    "closed": "已关闭",
    "reopened": "重新打开",
}
CHANNEL_NAMES = {"web": "网页", "telegram": "Telegram", "phone": "电话", "cli": "终端"}


def _time(ts: float | None, tz: tzinfo) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


def _csrf(token: str) -> Markup:
    return Markup('<input type="hidden" name="csrf" value="{}">').format(token)


def page(title: str, body: Markup, csrf: str | None = None) -> str:
    """A whole page: the layout around ``body``; the navigation only when signed in."""
    nav = Markup("")
    if csrf is not None:
        nav = Markup(
            '<a href="/desk/tickets">工单</a><a href="/desk/tickets?overdue=1">超期</a>'
            '<a href="/desk/reports?period=day">日报</a><a href="/desk/reports?period=week">周报</a>'
            '<a href="/desk/reports?period=month">月报</a>'
            '<form method="post" action="/desk/logout">{}<button>退出</button></form>'
        ).format(_csrf(csrf))
    return _LAYOUT.substitute(title=escape(title), nav=nav, body=body)


def login_page(error: str = "", next_url: str = "/desk/tickets") -> str:
    body = Markup(
        '<h1>工作人员登录</h1>{}<form method="post" action="/desk/login">'
        '<input type="hidden" name="next" value="{}">'
        '<label>工单台密钥 <input type="password" name="api_key" autocomplete="current-password" '
        "autofocus required></label> <button>登录</button></form>"
    ).format(Markup('<p class="error">{}</p>').format(error) if error else "", next_url)
    return page("登录", body)


def _select(name: str, label: str, current: str, options: Sequence[tuple[str, str]]) -> Markup:
    opts = Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(
            value, Markup(" selected") if value == current else "", text
        )
        for value, text in [("", "全部"), *options]
    )
    return Markup('<label>{} <select name="{}">{}</select></label>').format(label, name, opts)


def ticket_list(
    listing: ListPage,
    f: TicketFilter,
    categories: Sequence[str],
    now: float,
    tz: tzinfo,
    csrf: str,
) -> str:
    filters = Markup(
        '<form class="filters" method="get" action="/desk/tickets">{}{}{}'
        '<label>区 <input name="district" value="{}" placeholder="如 朝阳区" size="8"></label>'
        '<label><span>超期</span><input type="checkbox" name="overdue" value="1"{}></label>'
        '<button id="apply">筛选</button> <a href="/desk/tickets">清除</a></form>'
    ).format(
        _select("status", "状态", f.status, [(s, STATUS_NAMES[s]) for s in STATUSES]),
        _select("category", "类别", f.category, [(c, c) for c in categories]),
        _select("channel", "渠道", f.channel, list(CHANNEL_NAMES.items())),
        f.district,
        Markup(" checked") if f.overdue else "",
    )
    rows = Markup("").join(
        Markup(
            '<tr><td><a href="/desk/tickets/{id}">{id}</a></td><td>{status}</td><td>{cat}</td>'
            "<td>{district}</td><td>{channel}</td><td>{desc}</td><td>{at}</td>"
            '<td class="{cls}">{due}</td></tr>'
        ).format(
            id=t.service_request_id,
            status=STATUS_NAMES.get(t.status, t.status),
            cat=t.category,
            district=t.district,
            channel=CHANNEL_NAMES.get(t.channel, t.channel),
            desc=t.description[:40],
            at=_time(t.requested_at, tz),
            cls="overdue" if _late(t.status, t.expected_at, now) else "",
            due=_time(t.expected_at, tz),
        )
        for t in listing.tickets
    )
    pager = Markup(" ").join(
        Markup('<a href="/desk/tickets?{}">{}</a>').format(urlencode(f.query(page=p)), text)
        for p, text in ((listing.page - 1, "上一页"), (listing.page + 1, "下一页"))
        if 1 <= p <= listing.pages
    )
    body = Markup(
        "<h1>工单</h1>{}<p>共 <b id=total>{}</b> 件，第 {} / {} 页</p>"
        "<table><tr><th>工单号</th><th>状态</th><th>类别</th><th>区</th><th>渠道</th>"
        "<th>诉求</th><th>受理时间</th><th>承诺时限</th></tr>{}</table>"
        '<p class="pager">{}</p>'
    ).format(filters, listing.total, listing.page, listing.pages, rows, pager)
    return page("工单", body, csrf)


def _late(status: str, expected_at: float | None, now: float) -> bool:
    return status not in DONE_STATUSES and expected_at is not None and expected_at < now


def _attachments(ticket: Ticket, links: Sequence[tuple[int, str, bool]]) -> Markup:
    if not links:
        return Markup('<p class="muted">无附件</p>')
    items = Markup("").join(
        Markup('<li><a href="{}" target="_blank" rel="noopener noreferrer">{}</a></li>').format(
            f"/desk/tickets/{ticket.service_request_id}/attachments/{i}" if local else url,
            url.rsplit("/", 1)[-1] or url,
        )
        for i, url, local in links
    )
    return Markup("<ul>{}</ul>").format(items)


def _transcript(turns: list[Turn] | None, tz: tzinfo) -> Markup:
    if turns is None:
        return Markup('<p class="muted">对话记录不可读（没有会话号或读不到对话库）</p>')
    if not turns:
        return Markup('<p class="muted">对话库里没有这次会话</p>')
    return Markup("").join(
        Markup('<div class="turn {}"><small>{} {}</small>{}</div>').format(
            t.who, "居民" if t.who == "resident" else "助手", _time(t.at, tz), t.text
        )
        for t in turns
    )


def _survey(job: SurveyJob | None) -> Markup:
    if job is None:
        return Markup('<p class="muted">没有回访任务</p>')
    a = job.answers
    return Markup(
        "<table><tr><th>回访状态</th><td>{}</td></tr><tr><th>联系过您吗（响应）</th><td>{}</td></tr>"
        "<tr><th>问题解决了吗</th><td>{}</td></tr><tr><th>满意度</th><td>{}</td></tr>"
        "<tr><th>原因</th><td>{}</td></tr></table>"
    ).format(
        job.status, a.contacted or "—", a.resolved or "—", a.satisfaction or "—", a.reason or ""
    )


def _reporters(ticket: Ticket, reporters: list[Reporter], csrf: str, can_split: bool) -> Markup:
    rows = Markup("").join(
        Markup(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
        ).format(
            i + 1,
            r.name,
            r.phone,
            CHANNEL_NAMES.get(r.channel, r.channel),
            r.text[:80],
            Markup(
                '<form method="post" action="/desk/tickets/{}/split">{}'
                '<input type="hidden" name="reporter" value="{}"><button{}>拆出</button></form>'
            ).format(
                ticket.service_request_id,
                _csrf(csrf),
                r.reporter_id,
                "" if can_split else Markup(" disabled"),
            )
            if r.reporter_id is not None
            else "",
        )
        for i, r in enumerate(reporters)
    )
    return Markup(
        "<p>共 <b id=reporters>{}</b> 位反映人</p><table><tr><th>#</th><th>姓名</th><th>电话</th>"
        "<th>渠道</th><th>原话</th><th></th></tr>{}</table>"
    ).format(len(reporters), rows)


def ticket_page(
    ticket: Ticket,
    *,
    transitions: Sequence[str],
    turns: list[Turn] | None,
    survey: SurveyJob | None,
    reporters: list[Reporter],
    attachments: Sequence[tuple[int, str, bool]],
    can_merge: bool,
    message: str,
    error: str,
    now: float,
    tz: tzinfo,
    csrf: str,
) -> str:
    srid = ticket.service_request_id
    attrs = ticket.attributes
    facts: list[tuple[str, Any]] = [
        ("状态", STATUS_NAMES.get(ticket.status, ticket.status)),
        ("类别", attrs.get("category") or ticket.service_name),
        ("承办单位", ticket.agency_responsible),
        ("诉求类型", attrs.get("request_type", "")),
        ("地址", ticket.address_string or ""),
        ("区", attrs.get("address_district", "")),
        ("渠道", CHANNEL_NAMES.get(str(attrs.get("channel", "")), attrs.get("channel", ""))),
        ("姓名", f"{ticket.last_name or ''}{ticket.first_name or ''}"),
        ("电话", ticket.phone or ""),
        ("紧急", "是" if attrs.get("urgency") == "urgent" else "否"),
        ("受理时间", _time(ticket.requested_at, tz)),
        ("承诺时限", _time(ticket.expected_at, tz)),
        ("会话号", attrs.get("conversation_id", "")),
    ]
    late = _late(ticket.status, ticket.expected_at, now)
    fact_rows = Markup("").join(
        Markup("<tr><th>{}</th><td>{}</td></tr>").format(k, v) for k, v in facts
    )
    history = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            h.get("at") or "",
            STATUS_NAMES.get(h["status"], h["status"]),
            h.get("note") or "",
            h.get("actor") or "",
        )  # fmt: skip
        for h in ticket.history
    )
    options = Markup("").join(
        Markup('<option value="{}">{}</option>').format(s, STATUS_NAMES[s]) for s in transitions
    )
    status_form = (
        Markup(
            '<form id="status-form" method="post" action="/desk/tickets/{}/status" '
            'data-confirm="确定更改状态？">{}<label>新状态 <select name="status">{}</select></label><br>'
            '<label>说明<br><textarea name="note" rows="3" required></textarea></label><br>'
            "<button>提交</button></form>"
        ).format(srid, _csrf(csrf), options)
        if transitions
        else Markup('<p class="muted">此状态下不能再改</p>')
    )
    merge_form = Markup(
        '<form method="post" action="/desk/tickets/{}/merge">{}<label>并入工单 '
        '<input name="into" placeholder="BJ…" required></label> <button{}>合并</button>{}</form>'
    ).format(
        srid,
        _csrf(csrf),
        "" if can_merge else Markup(" disabled"),
        "" if can_merge else Markup(' <span class="muted">（合并/拆分未接入工单库）</span>'),
    )
    body = Markup(
        '<h1>工单 <span id="srid">{}</span>{}</h1>{}{}<div class="grid"><div>'
        "<section><h2>诉求</h2><p id=description>{}</p><table>{}</table></section>"
        "<section><h2>反映人</h2>{}{}</section>"
        "<section><h2>更改状态</h2>{}</section></div><div>"
        "<section><h2>状态记录</h2><table><tr><th>时间</th><th>状态</th><th>说明</th><th>操作人</th>"
        "</tr>{}</table></section>"
        "<section><h2>对话记录</h2>{}</section>"
        "<section><h2>附件</h2>{}</section>"
        "<section><h2>回访</h2>{}</section></div></div>"
    ).format(
        srid,
        Markup(' <span class="overdue">超期</span>') if late else "",
        Markup('<p class="ok" id="message">{}</p>').format(message) if message else "",
        Markup('<p class="error" id="error">{}</p>').format(error) if error else "",
        ticket.description,
        fact_rows,
        _reporters(ticket, reporters, csrf, can_merge),
        merge_form,
        status_form,
        history,
        _transcript(turns, tz),
        _attachments(ticket, attachments),
        _survey(survey),
    )
    return page(f"工单 {srid}", body, csrf)


def report_page(fragment: Markup, period: str, csrf: str) -> str:
    links = Markup(" · ").join(
        Markup('<a href="/desk/reports?period={}">{}</a>').format(p, n)
        for p, n in (("day", "日报"), ("week", "周报"), ("month", "月报"))
    )
    json_link = Markup('<a href="/desk/reports.json?period={}">JSON</a>').format(period)
    return page("报表", Markup("<p>{} · {}</p>{}").format(links, json_link, fragment), csrf)
