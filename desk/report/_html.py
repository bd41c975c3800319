"""The report as HTML: one self-contained fragment, used by ``jiesu report`` and the console.

Every value is escaped (:mod:`markupsafe`); only the markup written here is trusted.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from markupsafe import Markup

from desk.report._charts import CHART_TITLES
from desk.report._figures import Report
from tickets.survey.stats import Rates

__all__ = ["data_uri", "report_document", "report_fragment"]

_PERIOD_NAMES = {"day": "日报（日筛查）", "week": "周报（周派单）", "month": "月报（月统计）"}
_STYLE = """
body{font-family:"Noto Sans CJK SC",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 8px}
th{background:#f3f3f3}td.n{text-align:right}img{max-width:100%;display:block;margin:.5em 0}
"""


def data_uri(png: bytes) -> str:
    """An inline ``data:`` URL for a PNG (the console embeds charts this way)."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _rates_row(name: str, r: Rates) -> Markup:
    d = r.as_dict()
    return Markup(
        "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>"
        "<td class=n>{}</td><td class=n>{}</td></tr>"
    ).format(
        name,
        r.surveyed,
        r.answered,
        _pct(d["response_rate"]),
        _pct(d["resolution_rate"]),
        _pct(d["satisfaction_rate"]),
    )


def _rates_table(title: str, groups: Mapping[str, Rates]) -> Markup:
    rows = Markup("").join(_rates_row(name, r) for name, r in groups.items())
    return Markup(
        "<h3>{}</h3><table><tr><th></th><th>回访</th><th>完成</th><th>响应率</th>"
        "<th>解决率</th><th>满意率</th></tr>{}</table>"
    ).format(title, rows)


def _img(charts: Mapping[str, str], name: str) -> Markup:
    return Markup('<img src="{}" alt="{}">').format(charts[name], CHART_TITLES[name])


def report_fragment(report: Report, charts: Mapping[str, str]) -> Markup:
    """The report body; ``charts`` maps chart names to image URLs (files or data URIs)."""
    w = report.window
    change = report.new_tickets - report.previous_tickets
    topics = Markup("").join(
        Markup(
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td>"
            "<td class=n>{:+d}</td></tr>"
        ).format(t.label, t.category, t.size, t.current, t.growth)
        for t in report.topics
    )
    overdue = Markup("").join(
        Markup(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=n>{:.1f}</td></tr>"
        ).format(o.service_request_id, o.category, o.agency, o.status, o.hours_overdue)
        for o in report.overdue
    )
    return Markup(
        "<h1>{title}</h1><p>{span}（上期自 {prev}）</p>"
        "<p>本期新件 <b>{new}</b>，上期 {old}，变化 {change:+d}。超期未办 <b>{late}</b> 件。"
        "本期办结 {resolved} 件，其中超时 {resolved_late} 件（按时率 {on_time}）。</p>"
        "<h2>类别与区</h2>{heat}{bars}"
        "<h2>上升话题</h2>{topics_img}<table><tr><th>最典型的诉求</th><th>类别</th>"
        "<th>总数</th><th>本期</th><th>增长</th></tr>{topics}</table>"
        "<h2>三率</h2>{overall}{agency_img}{by_agency}{channel_img}{by_channel}"
        "<h2>超期未办（对照承诺时限）</h2>{overdue_img}<table><tr><th>工单</th><th>类别</th>"
        "<th>承办单位</th><th>状态</th><th>超期小时</th></tr>{overdue}</table>"
    ).format(
        title=_PERIOD_NAMES[str(w.period)],
        span=w.title,
        prev=w.label(w.prev_start),
        new=report.new_tickets,
        old=report.previous_tickets,
        change=change,
        late=report.overdue_count,
        resolved=report.resolved,
        resolved_late=report.resolved_late,
        on_time=_pct(report.on_time_rate),
        heat=_img(charts, "category_district"),
        bars=_img(charts, "new_vs_previous"),
        topics_img=_img(charts, "rising_topics"),
        topics=topics,
        overall=_rates_table("全部", {"全部": report.rates_overall}),
        agency_img=_img(charts, "rates_agency"),
        by_agency=_rates_table("按承办单位", report.rates_by_agency),
        channel_img=_img(charts, "rates_channel"),
        by_channel=_rates_table("按渠道", report.rates_by_channel),
        overdue_img=_img(charts, "overdue_agency"),
        overdue=overdue,
    )


def report_document(report: Report, charts: Mapping[str, str]) -> str:
    """A whole HTML page around :func:`report_fragment`."""
    return str(
        Markup(
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{}</title>'
            "<style>{}</style></head><body>{}</body></html>"
        ).format(
            _PERIOD_NAMES[str(report.window.period)],
            Markup(_STYLE),
            report_fragment(report, charts),
        )
    )
