"""Unit tests for the extraction functions, incl. bad input."""

from __future__ import annotations

from datetime import datetime

import pytest

import nlu

BAD_INPUTS = ["", "   ", "😀😀😀", "hello, my flat is broken", "啊" * 10_000, "１２３４５"]


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_input_never_raises(text: str, now: datetime) -> None:
    assert isinstance(nlu.normalize_text(text), str)
    assert isinstance(nlu.extract_phones(text), list)
    assert isinstance(nlu.extract_ticket_ids(text), list)
    nlu.extract_location(text)
    nlu.extract_time(text, now)
    nlu.extract_person_name(text)
    nlu.detect_emergency(text)
    assert nlu.detect_request_type(text) in nlu.REQUEST_TYPES
    pred = nlu.classify_category(text)
    assert 0.0 <= pred.confidence <= 1.0


def test_normalize() -> None:
    assert nlu.normalize_text("") == ""
    assert nlu.normalize_text("樓下 飯館  很吵！ＡＢＣ１２３") == "楼下饭馆很吵!ABC123"
    assert nlu.normalize_text(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我电话13800138000", ["13800138000"]),
        ("幺三八零零幺三八零零零", ["13800138000"]),
        ("一三八 零零一三 八零零零", ["13800138000"]),
        ("+86 138-0013-8000", ["13800138000"]),
        ("座机010-12345678", ["010-12345678"]),
        ("号码是139 1234 5678或者010 8888 6666", ["13912345678", "010-88886666"]),
        ("花了13800元", []),
        ("我打了12345好几次", []),
    ],
)
def test_phones(text: str, expected: list[str]) -> None:
    assert nlu.extract_phones(text) == expected


def test_tickets(monkeypatch: pytest.MonkeyPatch) -> None:
    assert nlu.extract_ticket_ids("工单号bj 2026 1125 000 123") == ["BJ20261125-000123"]
    assert nlu.extract_ticket_ids("查一下js-7f3k2") == ["JS-7F3K2"]
    monkeypatch.setenv("JIESU_TICKET_PREFIX", "SH")
    assert nlu.extract_ticket_ids("SH20261125-000001 和 BJ20261125-000002") == ["SH20261125-000001"]


@pytest.mark.parametrize(
    ("text", "full", "community"),
    [
        ("朝阳区望京西园四区3号楼2单元501", "朝阳区望京西园四区3号楼2单元501", "望京西园四区"),
        ("望京西园四区", "望京西园四区", "望京西园四区"),
        ("海淀区中关村大街27号", "海淀区中关村大街27号", None),
        ("我家在丰台区那个方庄芳城园一区", "丰台区方庄芳城园一区", "芳城园一区"),
        ("地址不对，是望京西园四区", "望京西园四区", "望京西园四区"),
    ],
)
def test_location_examples(text: str, full: str, community: str | None) -> None:
    loc = nlu.extract_location(text)
    assert loc is not None
    assert loc.full == full
    assert loc.community == community


def test_location_parts() -> None:
    loc = nlu.extract_location("朝阳区望京西园四区3号楼2单元501")
    assert loc == nlu.Location(
        full="朝阳区望京西园四区3号楼2单元501",
        province="北京市",
        city="北京市",
        district="朝阳区",
        street=None,
        community="望京西园四区",
        building="3号楼",
        unit="2单元",
        room="501",
    )
    road = nlu.extract_location("海淀区中关村大街27号")
    assert road is not None
    assert (road.street, road.road, road.house_number, road.room) == (
        "中关村大街",
        "中关村大街",
        "27号",
        None,
    )
    assert nlu.extract_location("楼下饭馆太吵了") is None


def test_time_examples(now: datetime) -> None:
    rec = nlu.extract_time("每天晚上十二点以后楼下施工", now)
    assert rec is not None and rec.kind == "recurring"
    assert rec.iso == "R/2026-11-26T00:00:00+08:00/P1D"
    assert rec.description == "每天 00:00以后"
    point = nlu.extract_time("昨天下午三点停的水", now)
    assert point is not None and point.iso == "2026-11-24T15:00:00+08:00"
    week = nlu.extract_time("上周", now)
    assert week is not None and week.kind == "span"
    assert week.iso == "2026-11-16T00:00:00+08:00/2026-11-22T23:59:59+08:00"
    two = nlu.extract_time("这两天一直停水", now)
    assert two is not None and two.kind == "span" and two.iso.endswith("2026-11-25T14:30:00+08:00")
    since = nlu.extract_time("从上个月开始就没发工资", now)
    assert since is not None and since.iso.startswith("2026-10-01T00:00:00+08:00/")
    assert nlu.extract_time("海淀区中关村大街27号", now) is None


def test_person_name() -> None:
    assert nlu.extract_person_name("我叫王小明，住朝阳区") == "王小明"
    assert nlu.extract_person_name("我姓李") == "李"
    assert nlu.extract_person_name("我是李女士") == "李"
    assert nlu.extract_person_name("我是朝阳区的居民") is None


@pytest.mark.parametrize(
    ("text", "kind", "numbers"),
    [
        ("着火了", "fire", ("119",)),
        ("煤气味很重", "gas", ("119",)),
        ("燃气泄漏", "gas", ("119",)),
        ("有人打人", "violence", ("110",)),
        ("被困电梯里", "trapped", ("119",)),
        ("有人受伤流血", "injury", ("120",)),
        ("房子塌了", "collapse", ("119",)),
        ("水淹到膝盖", "flood", ("119",)),
        ("楼下打起来了有人流血了", "violence", ("110", "120")),
        ("老人晕倒了", "medical", ("120",)),
    ],
)
def test_emergency_detected(text: str, kind: str, numbers: tuple[str, ...]) -> None:
    em = nlu.detect_emergency(text)
    assert em is not None and em.kind == kind and em.numbers == numbers


@pytest.mark.parametrize(
    "text",
    [
        "小区消防通道被占",
        "上次着火的事处理了吗",
        "咨询灭火器年检",
        "没有着火，就是有点烟味",
        "楼下饭馆太吵了",
    ],
)
def test_not_emergency(text: str) -> None:
    assert nlu.detect_emergency(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我要投诉物业", "投诉"),
        ("请问公租房怎么申请", "咨询"),
        ("建议小区增加充电桩", "建议"),
        ("感谢你们上次帮忙", "表扬"),
        ("举报有人违建", "举报"),
        ("帮帮我，工资拖了三个月", "求助"),
        ("楼下太吵了", "投诉"),
    ],
)
def test_request_type(text: str, expected: str) -> None:
    assert nlu.detect_request_type(text) == expected


def test_taxonomy() -> None:
    tax = nlu.load_taxonomy()
    assert tax is nlu.load_taxonomy()
    assert 40 <= len(tax.leaves) <= 70
    other = tax.get("其他")
    assert other is not None and other.gov_class == "其他"
    noise = tax.get("环境保护›噪音扰民")
    assert noise is not None and tax.by_service_code(noise.service_code) == noise
    assert len({leaf.service_code for leaf in tax.leaves}) == len(tax.leaves)
    assert {leaf.urgency for leaf in tax.leaves} <= {"urgent", "normal"}


def test_classify() -> None:
    pred = nlu.classify_category("楼下饭馆每天晚上十二点以后还很吵，根本睡不着")
    assert pred.leaf == "噪音扰民" and pred.gov_class == "环境保护"
    assert len(pred.top3) == 3 and pred.top3[0][0] == pred.leaf
    assert nlu.classify_category("").low_confidence


@pytest.mark.parametrize(
    "text",
    [
        "27号楼有噪音",
        "8号院门口堆垃圾",
        "5号门一直锁着",
        "地铁3号线太挤了",
        "12号楼2单元漏水",
        "十二号楼二单元楼道灯坏了",
        "我住三号院",
        "17号铺面在装修",
        "6号地块在施工",
        "B2层12号车位被占了",
        "3号口的电梯坏了",
        "20号馆门口排大队",
        "45号停电",
        "甲3号门口有垃圾",
        "从5号楼开始就停电",
        "二十七号楼的暖气不热",
        "9号线车厢里太热",
    ],
)
def test_numbered_things_are_not_days(text: str, now: datetime) -> None:
    assert nlu.extract_time(text, now) is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("27号那天停电了", "2026-11-27"),
        ("11月27号停电", "2026-11-27"),
        ("我二十号去办的", "2026-11-20"),
        ("地铁3号线20号起停运", "2026-11-20"),
        ("5号上午十点来修的", "2026-11-05"),
        ("11月3号楼下开始施工", "2026-11-03"),
        ("12号楼2单元15号晚上停的水", "2026-11-15"),
        ("18号房东来收的钱", "2026-11-18"),
    ],
)
def test_days_with_hao_still_read(text: str, day: str, now: datetime) -> None:
    mention = nlu.extract_time(text, now)
    assert mention is not None and mention.kind in ("point", "span"), mention
    assert mention.iso.startswith(day), mention


def test_time_skips_numbered_compound_address(now: datetime) -> None:
    text = "朝阳区青塔一区27号楼昨天晚上八点停水"
    loc = nlu.extract_location(text)
    assert loc is not None and loc.full == "朝阳区青塔一区27号楼"
    mention = nlu.extract_time(text, now)
    assert mention is not None and mention.iso.startswith("2026-11-24T20:00")


def test_time_right_after_a_room_number(now: datetime) -> None:
    """jionlp reads "2单元502，从昨天下午三点" as one mention; the address part is not the time."""
    mention = nlu.extract_time("昌平区天通苑街道阳光东区5号楼2单元502，从昨天下午三点就停水了", now)
    assert mention is not None and mention.text == "从昨天下午三点"
    assert mention.iso.startswith("2026-11-24T15:00")
