"""Six tickets and four survey jobs whose report figures are known by hand."""

from __future__ import annotations

from datetime import datetime

from desk.store import DeskStore, NewTicket, history_table, tickets_table
from hotline.timezone import zone
from tickets.survey.store import NewSurvey, SurveyAnswers, SurveyStore

TZ = zone("Asia/Shanghai")
END = datetime(2026, 11, 20, 12, 0, tzinfo=TZ).timestamp()
DAY = 86_400.0
DRAIN = "北京城市排水集团"

# (category, district, channel, agency, days before END, text)
TICKETS = [
    ("排水与井盖", "朝阳区", "web", DRAIN, 1, "望京西园四区小区门口的井盖丢了，晚上很危险"),
    ("排水与井盖", "朝阳区", "web", DRAIN, 2, "望京西园四区门口井盖丢了，晚上走路很危险"),
    ("排水与井盖", "朝阳区", "telegram", DRAIN, 3, "望京西园四区小区门口井盖没了，很危险"),
    ("排水与井盖", "朝阳区", "phone", DRAIN, 9, "望京西园四区小区门口的井盖丢了，很危险"),
    ("噪音扰民", "海淀区", "phone", "生态环境局", 0.5, "楼下饭馆每天晚上十二点以后还很<b>吵</b>"),
    ("路灯照明", "海淀区", "web", "路灯管理", 10, "清河路上的路灯一直不亮"),
]
# ticket index → (channel, contacted, resolved, satisfaction); resolved 1 day before END
ANSWERS = {
    0: ("web", "yes", "yes", "满意"),
    1: ("web", "yes", "no", "不满意"),
    2: ("telegram", "no", "yes", "基本满意"),
}


def fill(desk: DeskStore, survey: SurveyStore) -> list[str]:
    """Store the tickets (and survey jobs); returns their ids in ``TICKETS`` order."""
    ids = []
    for category, district, channel, agency, days, text in TICKETS:
        ticket, _ = desk.create(
            NewTicket(
                service_code="X",
                service_name=category,
                agency_responsible=agency,
                description=text,
                address_string=district,
                phone="13800138000",
                attributes={"category": category, "address_district": district, "channel": channel},
            )
        )
        requested = END - days * DAY
        with desk.engine.begin() as conn:
            conn.execute(
                tickets_table.update()
                .where(tickets_table.c.service_request_id == ticket.service_request_id)
                .values(requested_at=requested, expected_at=requested + 24 * 3600)
            )
        ids.append(ticket.service_request_id)

    for i in (0, 1, 2):
        desk.set_status(ids[i], "resolved", "已处理")
    # …all three a day before END: 0 and 1 by their deadline, 2 a day late.
    with desk.engine.begin() as conn:
        conn.execute(
            history_table.update().where(history_table.c.status == "resolved").values(at=END - DAY)
        )
    # Overdue: index 3 (requested 9 days ago) and 5 (10 days ago); 4 is within 24 h.
    for i, (channel, contacted, solved, satisfaction) in ANSWERS.items():
        new = NewSurvey(ids[i], f"{channel}:u{i}", channel, f"{channel}:u{i}", TICKETS[i][0])
        survey.schedule(new, due_at=END - DAY, now=END - DAY)
        survey.record_answers(
            ids[i], SurveyAnswers(contacted, solved, satisfaction), END - DAY + 60
        )
    # A job resolved outside the week does not count.
    old = NewSurvey(ids[5], "web:old", "web", "web:old", "路灯照明")
    survey.schedule(old, due_at=END - 10 * DAY, now=END - 10 * DAY)
    survey.record_answers(ids[5], SurveyAnswers("no", "no", "不满意"), END - 10 * DAY)
    return ids
