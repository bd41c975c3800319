"""Synthetic desk tickets and survey answers for benchmarks and tests.

Texts are built from the taxonomy's own keywords, places from a fixed list of Beijing
districts and made-up compounds — no resident's words.  A few *hotspots* (the same
problem at the same place, reported many times in the last days) give the report's rising
topics something to find.  Rows are written in bulk (one transaction per table), so
10,000 tickets take seconds on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, tzinfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from desk.store import history_table, tickets_table
from nlu import load_taxonomy
from tickets.survey.store import jobs_table

__all__ = ["DISTRICTS", "HOTSPOTS", "SyntheticSummary", "generate"]

DISTRICTS = (
    "东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "门头沟区", "房山区",
    "通州区", "顺义区", "昌平区", "大兴区", "怀柔区", "平谷区", "密云区", "延庆区",
)  # fmt: skip
_COMPOUND_HEADS = ("望京", "天通", "回龙", "方庄", "双井", "清河", "亦庄", "梨园", "永顺", "旧宫")
_COMPOUND_TAILS = ("西园", "家园", "北里", "新村", "小区", "花园")
_PHRASES = (
    "{kw}的问题一直没人管",
    "最近{kw}很严重，希望尽快处理",
    "反映{kw}，已经好几天了",
    "{kw}影响居民正常生活",
    "请相关部门看看{kw}的情况",
)
HOTSPOTS = (
    (
        "排水与井盖",
        "朝阳区",
        "望京西园四区",
        "小区门口的井盖丢了，晚上路过很危险，已经有人差点掉下去",
    ),
    ("路灯照明", "海淀区", "清河小区", "南门外一排路灯都不亮，晚上黑灯瞎火的"),
    ("供暖", "丰台区", "方庄北里", "暖气不热，屋里室温只有十四度"),
)
_HOTSPOT_VARIANTS = (
    "",
    "，请尽快处理",
    "，麻烦派人来看看",
    "，希望今天能解决",
    "，已经第二次反映了",
)
_CHANNELS = ("web", "telegram", "phone")
_SATISFACTION = ("满意", "基本满意", "不满意")


@dataclass(frozen=True)
class SyntheticSummary:
    tickets: int
    hotspot_tickets: int
    survey_jobs: int


def generate(
    desk: Engine,
    survey: Engine | None,
    n: int,
    *,
    now: float,
    tz: tzinfo,
    days: int = 60,
    seed: int = 14,
    prefix: str = "BJ",
    hotspot_share: float = 0.03,
) -> SyntheticSummary:
    """Write ``n`` tickets requested over the last ``days`` days (and their surveys)."""
    rng = random.Random(seed)
    leaves = [leaf for leaf in load_taxonomy().leaves if leaf.keywords]
    with desk.connect() as conn:
        first_id = int(conn.execute(sa.select(sa.func.max(tickets_table.c.id))).scalar() or 0) + 1
    tickets, history, jobs = [], [], []
    hotspot_count = 0
    for k in range(n):
        row_id = first_id + k
        hot = rng.random() < hotspot_share
        if hot:
            name, district, place, text = rng.choice(HOTSPOTS)
            leaf = next(lf for lf in leaves if lf.name == name)
            requested = now - rng.uniform(0, 6) * 86_400  # a burst in the last days
            description = f"{place}{text}{rng.choice(_HOTSPOT_VARIANTS)}"
            hotspot_count += 1
        else:
            leaf = rng.choice(leaves)
            district = rng.choice(DISTRICTS)
            place = rng.choice(_COMPOUND_HEADS) + rng.choice(_COMPOUND_TAILS)
            place += f"{rng.randint(1, 12)}号楼"
            kws = rng.sample(leaf.keywords, min(2, len(leaf.keywords)))
            description = f"{district}{place}" + "，".join(
                rng.choice(_PHRASES).format(kw=kw) for kw in kws
            )
            requested = now - rng.uniform(0, days) * 86_400
        hours = 2 if leaf.urgency == "urgent" else 24
        expected = requested + hours * 3600
        age_h = (now - requested) / 3600
        resolved_at: float | None = None
        status = "open"
        if age_h > 1 and rng.random() < min(0.95, age_h / 48):
            resolved_at = requested + rng.uniform(0.5, min(age_h, hours * 2.0)) * 3600
            status = "resolved" if rng.random() < 0.7 else "closed"
        elif rng.random() < 0.3:
            status = "in_progress"
        channel = rng.choice(_CHANNELS)
        srid = f"{prefix}{datetime.fromtimestamp(requested, tz):%Y%m%d}-{row_id:06d}"
        attributes = {
            "category": leaf.name,
            "channel": channel,
            "conversation_id": f"{channel}:synthetic-{row_id}",
            "address_district": district,
            "urgency": leaf.urgency,
            "request_type": "投诉",
        }
        tickets.append(
            {
                "id": row_id,
                "service_request_id": srid,
                "status": status,
                "service_code": leaf.service_code,
                "service_name": leaf.name,
                "agency_responsible": leaf.department,
                "description": description,
                "address_string": f"{district}{place}",
                "phone": f"138{rng.randint(0, 99_999_999):08d}",
                "first_name": "先生",
                "last_name": rng.choice("王李张刘陈杨赵黄周吴"),
                "attributes": json.dumps(attributes, ensure_ascii=False),
                "requested_at": requested,
                "updated_at": resolved_at or requested,
                "expected_at": expected,
            }
        )
        history.append(
            {
                "ticket_id": row_id,
                "status": "open",
                "note": "受理",
                "actor": "synthetic",
                "at": requested,
            }
        )
        if status == "in_progress":
            history.append(
                {"ticket_id": row_id, "status": status, "note": "已派单", "actor": "synthetic",
                 "at": requested + 600}
            )  # fmt: skip
        if resolved_at is not None:
            history.append(
                {"ticket_id": row_id, "status": status, "note": "已处理", "actor": "synthetic",
                 "at": resolved_at}
            )  # fmt: skip
            if rng.random() < 0.8:
                jobs.append(
                    _job(rng, srid, channel, leaf.name, description, requested, resolved_at)
                )
    with desk.begin() as conn:
        conn.execute(tickets_table.insert(), tickets)
        conn.execute(history_table.insert(), history)
    if survey is not None and jobs:
        with survey.begin() as conn:
            conn.execute(jobs_table.insert(), jobs)
    return SyntheticSummary(n, hotspot_count, len(jobs) if survey is not None else 0)


def _job(
    rng: random.Random,
    srid: str,
    channel: str,
    category: str,
    summary: str,
    submitted: float,
    resolved: float,
) -> dict[str, object]:
    answered = rng.random() < 0.75
    row: dict[str, object] = {
        "ticket_id": srid,
        "sender_id": f"{channel}:synthetic-{srid}",
        "channel": channel,
        "channel_user": f"{channel}:synthetic-{srid}",
        "category": category,
        "summary": summary[:80],
        "submitted_at": submitted,
        "resolved_at": resolved,
        "status": "answered" if answered else "unanswered",
        "attempts": 1,
        "due_at": resolved + 3600,
        "sent_at": resolved + 3600,
        "answered_at": None,
        "contacted": None,
        "resolved": None,
        "satisfaction": None,
    }
    if answered:
        row.update(
            answered_at=resolved + 4000,
            contacted="yes" if rng.random() < 0.9 else "no",
            resolved="yes" if rng.random() < 0.8 else "no",
            satisfaction=rng.choices(_SATISFACTION, weights=(6, 3, 1))[0],
        )
    return row
