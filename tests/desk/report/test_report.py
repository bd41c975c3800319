"""Report figures from known tickets, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import main as jiesu
from desk.report import Period, make_report, write_report
from desk.store import DeskStore
from tests.auxil.postgres import fresh_database
from tests.desk.report.known_tickets import DRAIN, END, TZ, fill
from tickets.survey.store import SurveyStore


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[DeskStore, SurveyStore]]:
    if request.param == "sqlite":
        desk_url, outbox_url = f"sqlite:///{tmp_path / 'desk.db'}", f"sqlite:///{tmp_path / 'j.db'}"
        desk, survey = DeskStore(desk_url, tz=TZ), SurveyStore(outbox_url)
        yield desk, survey
    else:
        with fresh_database() as url:
            desk, survey = DeskStore(url, tz=TZ), SurveyStore(url)
            yield desk, survey
            desk.close()
            survey.close()
            return
    desk.close()
    survey.close()


def test_week_figures_are_the_known_ones(stores: tuple[DeskStore, SurveyStore]) -> None:
    desk, survey = stores
    ids = fill(desk, survey)
    figures = make_report(desk.engine, survey, Period.WEEK, TZ, END).as_dict()

    assert figures["new_tickets"] == 4 and figures["previous_tickets"] == 2
    assert figures["by_category_district"] == {
        "排水与井盖": {"朝阳区": 3},
        "噪音扰民": {"海淀区": 1},
    }
    assert figures["by_category"]["排水与井盖"] == {"current": 3, "previous": 1}
    assert figures["by_category"]["路灯照明"] == {"current": 0, "previous": 1}
    assert figures["by_channel"]["web"] == {"current": 2, "previous": 1}

    (topic,) = figures["rising_topics"]
    assert topic["category"] == "排水与井盖"
    assert (topic["size"], topic["current"], topic["previous"], topic["growth"]) == (4, 3, 1, 2)
    assert sorted(topic["ticket_ids"]) == sorted(ids[:4])
    # The medoid: the wording closest to all four — the first one without 晚上, which
    # also ends like the third ("…，很危险") — not the first or the most recent report.
    assert topic["label"] == "望京西园四区小区门口的井盖丢了，很危险"

    rates = figures["rates"]
    assert rates["overall"]["answered"] == 3
    drain = rates["by_agency"][DRAIN]
    assert drain["answered"] == 3
    assert drain["response_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert drain["resolution_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert drain["satisfaction_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert set(rates["by_agency"]) == {DRAIN}  # the old job is outside the week
    web, tg = rates["by_channel"]["web"], rates["by_channel"]["telegram"]
    assert (web["response_rate"], web["resolution_rate"], web["satisfaction_rate"]) == (
        1.0,
        0.5,
        0.5,
    )
    assert (tg["response_rate"], tg["resolution_rate"], tg["satisfaction_rate"]) == (0.0, 1.0, 1.0)

    overdue = figures["overdue"]
    assert overdue["count"] == 2
    assert [o["service_request_id"] for o in overdue["oldest"]] == [ids[5], ids[3]]
    assert overdue["oldest"][0]["hours_overdue"] == pytest.approx(10 * 24 - 24, abs=0.1)
    assert overdue["by_agency"] == {"路灯管理": 1, DRAIN: 1}
    resolved = figures["resolved"]
    assert (resolved["count"], resolved["late"]) == (3, 1)
    assert resolved["on_time_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert resolved["by_agency"] == {DRAIN: {"resolved": 3, "late": 1}}


def test_day_period_sees_only_the_last_day(stores: tuple[DeskStore, SurveyStore]) -> None:
    desk, survey = stores
    fill(desk, survey)
    figures = make_report(desk.engine, survey, Period.DAY, TZ, END).as_dict()
    # The noise complaint (12 h old) and the 井盖 report exactly 24 h old: a period is
    # [start, end), so its first instant belongs to it.
    assert figures["new_tickets"] == 2
    assert figures["previous_tickets"] == 1  # the 井盖 report 2 days old
    assert figures["rising_topics"] == []  # 井盖: one this day, one the day before


def test_html_report_escapes_and_has_its_charts(tmp_path: Path) -> None:
    desk = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}", tz=TZ)
    survey = SurveyStore(f"sqlite:///{tmp_path / 'j.db'}")
    fill(desk, survey)
    files = write_report(make_report(desk.engine, survey, Period.WEEK, TZ, END), tmp_path / "out")
    html = files.html.read_text("utf-8")
    assert "很&lt;b&gt;吵&lt;/b&gt;" not in html  # the noise ticket is not a topic…
    assert "<b>吵</b>" not in html  # …and no description is ever raw HTML
    assert "望京西园四区小区门口的井盖丢了" in html and "周报" in html
    assert len(files.charts) == 6
    for chart in files.charts:
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f'src="{chart.name}"' in html
    assert json.loads(files.json.read_text("utf-8"))["new_tickets"] == 4


def test_cli_json_and_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("JIESU_DATA_DIR", str(tmp_path))
    for name in ("JIESU_OPEN311_URL", "JIESU_DESK_DB_URL", "JIESU_DB_URL"):
        monkeypatch.delenv(name, raising=False)
    desk = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}", tz=TZ)
    survey = SurveyStore(f"sqlite:///{tmp_path / 'jiesu.db'}")
    fill(desk, survey)
    desk.close()
    survey.close()
    assert jiesu(["report", "--period", "week", "--json", "--end", "2026-11-20T12:00"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["new_tickets"] == 4 and figures["rates"]["overall"]["answered"] == 3
    out = tmp_path / "rep"
    assert (
        jiesu(["report", "--period", "month", "--out", str(out), "--end", "2026-11-20T12:00"]) == 0
    )
    assert capsys.readouterr().out.strip() == str(out / "report-month.html")
    assert json.loads((out / "report-month.json").read_text("utf-8"))["new_tickets"] == 6


def test_the_synthetic_hotspots_are_the_top_rising_topics(tmp_path: Path) -> None:
    """Three problems reported again and again in the last days, among 2,000 other tickets."""
    import time

    from desk.synthetic import HOTSPOTS, generate

    desk = DeskStore(f"sqlite:///{tmp_path / 'desk.db'}", tz=TZ)
    now = time.time()
    summary = generate(desk.engine, None, 2000, now=now, tz=TZ, hotspot_share=0.03)
    report = make_report(desk.engine, None, Period.WEEK, TZ, now)
    by_place = {
        place: {t.service_request_id for t in desk.list(limit=5000) if text in t.description}
        for _, _, place, text in HOTSPOTS
    }
    assert sum(len(ids) for ids in by_place.values()) == summary.hotspot_tickets > 30
    top = report.topics[:3]
    assert {frozenset(t.ticket_ids) for t in top} == {frozenset(ids) for ids in by_place.values()}
    assert all(t.previous == 0 and t.growth == t.size for t in top)
    # Each label is one of that hotspot's own reports.
    assert all(any(text in t.label for *_, text in HOTSPOTS) for t in top)
    assert all(t.growth < top[-1].growth for t in report.topics[3:])
