"""JIESU_TIMEZONE is read in one place and steers ticket ids, deadlines and calling hours."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from actions.ticket_service import TicketService
from desk.store import DeskStore, NewTicket
from hotline.config import load_config
from hotline.timezone import DEFAULT_TIMEZONE, TimezoneError, zone
from tickets.outbox import Outbox
from tickets.survey.settings import SurveySettings

BERLIN = {"JIESU_TIMEZONE": "Europe/Berlin"}
# 2026-11-25 21:30 in Berlin (UTC+1) is already 2026-11-26 04:30 in Beijing.
LATE_EVENING_BERLIN = datetime(2026, 11, 25, 20, 30, tzinfo=timezone.utc).timestamp()


def test_default_is_beijing_time() -> None:
    cfg = load_config({})
    assert cfg.timezone == DEFAULT_TIMEZONE
    assert datetime(2026, 11, 25, 12, tzinfo=cfg.tz).utcoffset() == timedelta(hours=8)


def test_unknown_zone_is_refused_by_name() -> None:
    with pytest.raises(TimezoneError, match="JIESU_TIMEZONE"):
        zone("Mars/Olympus_Mons")


def test_ticket_id_uses_the_hotline_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    berlin, beijing = load_config(BERLIN), load_config({})
    monkeypatch.setattr(time, "time", lambda: LATE_EVENING_BERLIN)
    new = NewTicket(service_code="noise", description="楼下烧烤店太吵")
    for cfg, day in ((berlin, "20261125"), (beijing, "20261126")):
        store = DeskStore(f"sqlite:///{tmp_path / (cfg.timezone.replace('/', '_') + '.db')}",
                          cfg.ticket_prefix, cfg.tz)  # fmt: skip
        ticket, _ = store.create(new)
        assert ticket.service_request_id.startswith(f"BJ{day}-"), ticket.service_request_id
        store.close()
        outbox = Outbox(f"sqlite:///{tmp_path / 'o.db'}", tz=cfg.tz)
        assert outbox._new_reference(LATE_EVENING_BERLIN)[2:10] == day
        outbox.close()


def test_deadline_is_in_the_hotline_zone(tmp_path: Path) -> None:
    cfg = load_config({**BERLIN, "JIESU_DATA_DIR": str(tmp_path)})
    service = TicketService(cfg)
    try:
        deadline = service.deadline_for("urgent")
    finally:
        service.outbox.close()
    assert deadline.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # CET / CEST
    now = datetime.now(timezone.utc)
    assert timedelta(hours=1, minutes=59) < deadline - now <= timedelta(hours=2, seconds=5)


def test_calling_hours_follow_the_zone() -> None:
    berlin = SurveySettings.from_env({**BERLIN, "JIESU_SURVEY_HOURS": "08:00-21:00"}).hours
    beijing = SurveySettings.from_env({"JIESU_SURVEY_HOURS": "08:00-21:00"}).hours
    assert not berlin.is_open(LATE_EVENING_BERLIN)  # 21:30 in Berlin: too late to call
    assert not beijing.is_open(LATE_EVENING_BERLIN)  # 04:30 in Beijing: too early
    afternoon_berlin = datetime(2026, 11, 26, 14, 0, tzinfo=timezone.utc).timestamp()
    assert berlin.is_open(afternoon_berlin)  # 15:00 in Berlin
    assert not beijing.is_open(afternoon_berlin)  # 22:00 in Beijing
    assert (
        berlin.next_open(LATE_EVENING_BERLIN)
        == datetime(2026, 11, 26, 7, 0, tzinfo=timezone.utc).timestamp()
    )


def test_process_zone_reaches_the_nlu_and_the_actions() -> None:
    """A process started with JIESU_TIMEZONE reads relative times in that zone."""
    code = (
        "from datetime import datetime;"
        "from hotline.timezone import hotline_now;"
        "from nlu import extract_time;"
        "now = hotline_now();"
        "m = extract_time('昨天晚上', now);"
        "print('RESULT', now.utcoffset().total_seconds(), m.iso if m else '')"
    )
    env = {"PATH": "/usr/bin:/bin", **BERLIN, "PYTHONPATH": str(Path(__file__).parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    _, offset, iso = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][-1].split()
    assert float(offset) in (3600.0, 7200.0)
    assert iso.endswith(("+01:00", "+02:00")) or "+01:00/" in iso or "+02:00/" in iso, iso
