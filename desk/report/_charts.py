"""The report's charts as PNG bytes (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from desk.report._figures import Report

__all__ = ["CHART_TITLES", "render_charts"]

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "WenQuanYi Zen Hei",
    "SimHei",
    "AR PL UMing CN",
)
MAX_ROWS = 15
MAX_COLS = 12
CHART_TITLES = {
    "category_district": "类别 × 区（本期）",
    "new_vs_previous": "本期与上期（按类别）",
    "rising_topics": "上升话题（本期比上期多的件数）",
    "rates_agency": "三率（按承办单位）",
    "rates_channel": "三率（按渠道）",
    "overdue_agency": "超期（按承办单位）：未办 / 超时办结",
}


@lru_cache(maxsize=1)
def _pyplot() -> Any:
    """matplotlib on the Agg backend with a CJK font, loaded on the first chart only.

    The gateway imports the report package for the console; matplotlib costs seconds
    and memory, so it is imported here, not at module level.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    chosen = [n for n in CJK_FONTS if n in names]
    plt.rcParams["font.sans-serif"] = [*chosen, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def _empty(title: str) -> bytes:
    fig, ax = _pyplot().subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, f"{title}：无数据", ha="center", va="center")
    return _png(fig)


def _heatmap(report: Report) -> bytes:
    grid = report.by_category_district
    if not grid:
        return _empty(CHART_TITLES["category_district"])
    rows = list(grid)[:MAX_ROWS]
    totals: dict[str, int] = {}
    for cat in rows:
        for d, n in grid[cat].items():
            totals[d] = totals.get(d, 0) + n
    cols = sorted(totals, key=lambda d: (-totals[d], d))[:MAX_COLS]
    data = np.array([[grid[r].get(c, 0) for c in cols] for r in rows])
    fig, ax = _pyplot().subplots(figsize=(1.0 + 0.6 * len(cols), 0.9 + 0.35 * len(rows)))
    ax.imshow(data, cmap="Oranges", aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for (i, j), n in np.ndenumerate(data):
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize=7)
    ax.set_title(CHART_TITLES["category_district"])
    return _png(fig)


def _bars(pairs: dict[str, tuple[int, int]], title: str, labels: tuple[str, str]) -> bytes:
    if not pairs:
        return _empty(title)
    names = list(pairs)[:MAX_ROWS][::-1]
    y = np.arange(len(names))
    fig, ax = _pyplot().subplots(figsize=(7, 0.9 + 0.32 * len(names)))
    ax.barh(y + 0.2, [pairs[n][0] for n in names], 0.4, label=labels[0], color="#d9534f")
    ax.barh(y - 0.2, [pairs[n][1] for n in names], 0.4, label=labels[1], color="#bbbbbb")
    ax.set_yticks(y, names)
    ax.legend(loc="lower right")
    ax.set_title(title)
    return _png(fig)


def _rates(groups: dict[str, Any], title: str) -> bytes:
    rows = [(k, v.as_dict()) for k, v in groups.items() if v.answered][:MAX_ROWS]
    if not rows:
        return _empty(title)
    y = np.arange(len(rows))
    fig, ax = _pyplot().subplots(figsize=(7, 1.0 + 0.45 * len(rows)))
    for offset, key, name, color in (
        (0.27, "response_rate", "响应率", "#5bc0de"),
        (0.0, "resolution_rate", "解决率", "#5cb85c"),
        (-0.27, "satisfaction_rate", "满意率", "#f0ad4e"),
    ):
        ax.barh(y + offset, [100 * (d[key] or 0) for _, d in rows], 0.27, label=name, color=color)
    ax.set_yticks(y, [k for k, _ in rows])
    ax.set_xlim(0, 100)
    ax.set_xlabel("%")
    ax.legend(loc="lower right", fontsize=7)
    ax.set_title(title)
    return _png(fig)


def render_charts(report: Report) -> dict[str, bytes]:
    """PNG bytes of every chart, keyed as in :data:`CHART_TITLES`."""
    topics = {t.label[:24]: (t.current, t.previous) for t in report.topics}
    units = list(report.overdue_by_agency)
    units += [k for k in report.resolved_by_agency if k not in report.overdue_by_agency]
    overdue = {
        k: (report.overdue_by_agency.get(k, 0), report.resolved_by_agency.get(k, (0, 0))[1])
        for k in units
    }
    return {
        "category_district": _heatmap(report),
        "new_vs_previous": _bars(
            report.by_category, CHART_TITLES["new_vs_previous"], ("本期", "上期")
        ),
        "rising_topics": _bars(topics, CHART_TITLES["rising_topics"], ("本期", "上期")),
        "rates_agency": _rates(report.rates_by_agency, CHART_TITLES["rates_agency"]),
        "rates_channel": _rates(report.rates_by_channel, CHART_TITLES["rates_channel"]),
        "overdue_agency": _bars(overdue, CHART_TITLES["overdue_agency"], ("超期未办", "超时办结")),
    }
