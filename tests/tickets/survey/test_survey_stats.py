"""Scripted run: 100 resolved tickets with known answers → the reported rates match."""

from __future__ import annotations

import json
import random
from datetime import datetime

import pytest

from bot.cli import main as cli
from hotline.timezone import DEFAULT_TIMEZONE, zone
from tickets.survey.stats import compute_stats, format_stats
from tickets.survey.store import NewSurvey, SurveyAnswers, SurveyJob, SurveyStore

TZ = zone(DEFAULT_TIMEZONE)
CATEGORIES = ("路灯", "噪音", "供暖")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def scripted(store: SurveyStore) -> dict[str, dict[str, int]]:
    """100 tickets resolved on 11-24/11-25: 80 answered, 10 unanswered, 5 failed, 5 opted out."""
    rng = random.Random(6)
    expected = {c: dict(surveyed=0, answered=0, contacted=0, solved=0, happy=0) for c in (*CATEGORIES, "all")}  # fmt: skip
    for i in range(100):
        cat = CATEGORIES[i % 3]
        day = "2026-11-24" if i < 50 else "2026-11-25"
        tid = f"BJ20261120-{i:06d}"
        new = NewSurvey(tid, f"web:s{i}", "web", f"web:s{i}", cat, "问题", at(f"{day} 09:00"))
        store.schedule(new, due_at=at(f"{day} 11:00"), now=at(f"{day} 10:00"))
        job = store.claim(tid, at(f"{day} 11:00"), 60)
        assert job is not None
        fate = "answered" if i < 80 else ("sent" if i < 90 else ("failed" if i < 95 else "opt"))
        if fate == "failed":
            store.mark_failed(job, "no answer")
        else:
            store.mark_sent(job, at(f"{day} 11:00"))
        if fate == "opt":
            store.opt_out(f"web:s{i}", at(f"{day} 12:00"))
        for key in (cat, "all"):
            expected[key]["surveyed"] += 1
        if fate != "answered":
            continue
        answers = SurveyAnswers(
            contacted=rng.choice(["yes", "yes", "no"]),
            resolved=rng.choice(["yes", "yes", "yes", "no"]),
            satisfaction=rng.choice(["满意", "满意", "基本满意", "不满意"]),
        )
        store.record_answers(tid, answers, at(f"{day} 11:05"))
        for key in (cat, "all"):
            e = expected[key]
            e["answered"] += 1
            e["contacted"] += answers.contacted == "yes"
            e["solved"] += answers.resolved == "yes"
            e["happy"] += answers.satisfaction != "不满意"
    # A cancelled (reopened) and a still-scheduled job are not counted.
    store.schedule(NewSurvey("BJX-1", "web:x", "web", "web:x", "路灯"), at("2026-11-25 11:00"), at("2026-11-25 10:00"))  # fmt: skip
    store.schedule(NewSurvey("BJX-2", "web:y", "web", "web:y", "路灯"), at("2026-11-25 11:00"), at("2026-11-25 10:00"))  # fmt: skip
    store.cancel("BJX-2", "reopened")
    return expected


def check(rates: dict[str, object], e: dict[str, int]) -> None:
    assert rates["surveyed"] == e["surveyed"] and rates["answered"] == e["answered"]
    assert rates["answer_rate"] == round(e["answered"] / e["surveyed"], 4)
    assert rates["response_rate"] == round(e["contacted"] / e["answered"], 4)
    assert rates["resolution_rate"] == round(e["solved"] / e["answered"], 4)
    assert rates["satisfaction_rate"] == round(e["happy"] / e["answered"], 4)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, dict[str, int]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('stats') / 'jiesu.db'}"
    store = SurveyStore(url)
    expected = scripted(store)
    store.close()
    return url, expected


def test_stats_match_the_script(db: tuple[str, dict[str, dict[str, int]]]) -> None:
    url, expected = db
    store = SurveyStore(url)
    jobs: list[SurveyJob] = store.jobs()
    store.close()
    stats = compute_stats(jobs).as_dict()
    check(stats["overall"], expected["all"])
    assert stats["overall"]["answer_rate"] == 0.8
    for cat in CATEGORIES:
        check(stats["by_category"][cat], expected[cat])
    assert "全部" in format_stats(compute_stats(jobs))


def test_cli_stats_with_date_range(
    db: tuple[str, dict[str, dict[str, int]]], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    url, expected = db
    monkeypatch.setenv("JIESU_DB_URL", url)
    assert cli.main(["survey", "stats", "--json"]) == 0
    check(json.loads(capsys.readouterr().out)["overall"], expected["all"])
    assert (
        cli.main(["survey", "stats", "--from", "2026-11-25", "--to", "2026-11-25", "--json"]) == 0
    )
    day2 = json.loads(capsys.readouterr().out)["overall"]
    assert day2["surveyed"] == 50  # tickets 50–99 (resolved 11-25)
    assert cli.main(["survey", "stats"]) == 0
    assert "满意率" in capsys.readouterr().out
