"""Time extraction: points, spans and recurring times relative to ``now``."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.timezone import hotline_tz

from ._normalize import normalize_text
from ._types import TimeMention

__all__ = ["extract_time", "find_time"]

logger = logging.getLogger(__name__)

_FMT = "%Y-%m-%d %H:%M:%S"
_CN_NUMS = {
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "几": 3,
    "半": 0.5,
}
_UNIT_DAYS = {
    "天": 1,
    "日": 1,
    "周": 7,
    "个星期": 7,
    "星期": 7,
    "个礼拜": 7,
    "礼拜": 7,
    "个月": 30,
    "月": 30,
    "年": 365,
}
_RECENT = re.compile(
    r"(?:这|近|最近|这么|这段时间|前)(?P<n>[两几一二三四五六七八九十\d]+|半)"
    r"(?P<unit>天|日|周|个星期|星期|个礼拜|个月|年)(?:来|以来|了)?"
)
_RECENT_PLAIN = re.compile(r"最近(?:一段时间|这段时间|一阵子|一阵)?|这段时间|这阵子|近期")
_SINCE = re.compile(r"(?:从|自从|自)(?P<inner>[^，。,.!！?？]{1,10}?)(?:开始|以来|起)")
_SINCE_PLAIN = re.compile(r"(?P<inner>[^，。,.!！?？从自]{2,8}?)(?:以来)")
_DURATION_AFTER = re.compile(r"^(?:多)?(?:了|以来|来|多了)")
_TIME_CHAR = re.compile(r"[年月日号天周点时分秒早晚午夜凌晨昨今明前后星期礼拜去每上下半初底末节宵]")
# day-period or season words alone are habitual descriptions, not a time of the event
_VAGUE = re.compile(
    r"^(?:一)?(?:早上|早晨|上午|中午|下午|傍晚|晚上|夜里|夜间|半夜|深夜|凌晨|白天|夏天|冬天|春天|秋天)$"
)
_HABITUAL = re.compile(r"(?:每天|天天|每晚|每天晚上|每到|一到)[^，。,.!！?？]{0,4}$")
# "27号楼", "8号院", "3号线": a number with 号 that names a place or a thing, not a day
_NUMBERED_THING = re.compile(
    r"(?:楼|院|门|线|单元|室|房(?![租东])|铺|馆|厅|口|地块|车|位|床|机|柜|箱|摊|档|窗|码|栋|"
    r"座|幢|库|仓|棚|厂|店|亭|井|杆|桩|台|闸|桥|站|区|街|巷|胡同|通道|入口|出口)"
)
_DAY_NUMBER = re.compile(r"(?P<before>.?)(?P<n>[\d一二三四五六七八九十两]{1,4})号")
_PAUSES = ",，。、 "
_SPOKEN_PERIOD = {"1D": "每天", "7D": "每周", "1M": "每月", "1Y": "每年", "1H": "每小时"}
_WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    mention: TimeMention


def _as_beijing(now: datetime) -> datetime:
    if now.tzinfo is None:
        return now.replace(tzinfo=hotline_tz())
    return now.astimezone(hotline_tz())


def _iso(dt: datetime) -> str:
    return dt.replace(microsecond=0).isoformat()


def _parse(value: str) -> datetime:
    return datetime.strptime(value, _FMT).replace(tzinfo=hotline_tz())


def _number(raw: str) -> float:
    if raw.isdigit():
        return float(raw)
    if raw in _CN_NUMS:
        return float(_CN_NUMS[raw])
    if raw.startswith("十"):
        return 10 + _CN_NUMS.get(raw[1:], 0) if len(raw) > 1 else 10
    if raw.endswith("十"):
        return _CN_NUMS.get(raw[0], 1) * 10
    if "十" in raw:
        tens, ones = raw.split("十", 1)
        return _CN_NUMS.get(tens, 1) * 10 + _CN_NUMS.get(ones, 0)
    return 3.0


def _span(
    text: str, start: datetime, end: datetime, description: str, pos: tuple[int, int]
) -> _Found:
    return _Found(
        pos[0],
        pos[1],
        TimeMention(text, "span", f"{_iso(start)}/{_iso(end)}", description, pos[0], pos[1]),
    )


def _rule_based(text: str, now: datetime) -> list[_Found]:
    found: list[_Found] = []
    for m in _RECENT.finditer(text):
        days = _number(m.group("n")) * _UNIT_DAYS[m.group("unit")]
        start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
        found.append(
            _span(m.group(0), start, now, f"最近{m.group('n')}{m.group('unit')}", m.span())
        )
    for m in _RECENT_PLAIN.finditer(text):
        if any(f.start <= m.start() < f.end for f in found):
            continue
        start = (now - timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
        found.append(_span(m.group(0), start, now, "最近（约一周）", m.span()))
    for m in _RELATIVE.finditer(text):
        rng = _relative_range(m.group(0), now)
        if rng and not any(f.start <= m.start() < f.end for f in found):
            found.append(_span(m.group(0), rng[0], rng[1], m.group(0), m.span()))
    for pattern in (_SINCE, _SINCE_PLAIN):
        for m in pattern.finditer(text):
            inner = _jio_parse(m.group("inner"), now)
            if inner is None:
                continue
            begin, _ = inner
            if begin > now:
                continue
            found.append(_span(m.group(0), begin, now, f"从{m.group('inner')}起至今", m.span()))
    return found


_RELATIVE = re.compile(
    r"上上个月|上个月|上月|这个月|本月|上上周|上个星期|上星期|上个礼拜|上礼拜|上周|这个星期|这周|本周|"
    r"前年|去年|今年|年初|月初"
)


def _month_start(dt: datetime, back: int) -> datetime:
    year, month = dt.year, dt.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return dt.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _relative_range(word: str, now: datetime) -> tuple[datetime, datetime] | None:
    """Ranges for relative words jionlp does not parse alone ("上个月")."""
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week0 = day0 - timedelta(days=now.weekday())
    second = timedelta(seconds=1)
    if word in ("上个月", "上月"):
        return _month_start(now, 1), _month_start(now, 0) - second
    if word == "上上个月":
        return _month_start(now, 2), _month_start(now, 1) - second
    if word in ("这个月", "本月", "月初"):
        return _month_start(now, 0), now
    if word in ("上周", "上个星期", "上星期", "上个礼拜", "上礼拜"):
        return week0 - timedelta(days=7), week0 - second
    if word == "上上周":
        return week0 - timedelta(days=14), week0 - timedelta(days=7) - second
    if word in ("这周", "本周", "这个星期"):
        return week0, now
    if word in ("今年", "年初"):
        return day0.replace(month=1, day=1), now
    if word in ("去年", "前年"):
        back = 1 if word == "去年" else 2
        start = day0.replace(year=now.year - back, month=1, day=1)
        return start, start.replace(year=start.year + 1) - second
    return None


class _DropJionlpErrors(logging.Filter):
    """Drops the tracebacks jionlp logs on the root logger for strings it cannot parse."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "jionlp" not in record.pathname and "time_parser" not in str(record.msg)[:400]


def _quiet_jionlp() -> None:
    root = logging.getLogger()
    if not any(isinstance(f, _DropJionlpErrors) for f in root.filters):
        root.addFilter(_DropJionlpErrors())


def _jio_parse(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """Parse a short time string to its (start, end) range (rules, then jionlp)."""
    if _RELATIVE.fullmatch(text):
        return _relative_range(text, now)
    _quiet_jionlp()
    try:
        import jionlp

        res = jionlp.parse_time(text, time_base=now.replace(tzinfo=None))
    except Exception:  # jionlp raises ValueError and others on unparsable text
        return None
    times = res.get("time") if isinstance(res, dict) else None
    if res.get("type") not in ("time_point", "time_span") or not isinstance(times, list):
        return None
    if "inf" in times:
        return None
    try:
        return _parse(times[0]), _parse(times[1])
    except (ValueError, TypeError):  # e.g. "10-06-01 00:00:00" for a two-digit year
        return None


def _describe_period(delta: dict[str, Any], start: datetime) -> tuple[str, str]:
    for unit, code in (("year", "Y"), ("month", "M"), ("day", "D"), ("hour", "H")):
        if unit in delta:
            amount = int(delta[unit]) if float(delta[unit]).is_integer() else delta[unit]
            period = f"P{amount}{code}" if code != "H" else f"PT{amount}H"
            key = f"{amount}{code}"
            spoken = _SPOKEN_PERIOD.get(key, f"每{amount}{'年月天小时'['YMDH'.index(code)]}")
            if key == "7D":
                spoken = f"每周{_WEEKDAYS[start.weekday()]}"
            return period, spoken
    return "P1D", "每天"


def _from_jio(item: dict[str, Any], now: datetime) -> TimeMention | None:
    detail = item.get("detail") or {}
    kind = detail.get("type") or item.get("type")
    times = detail.get("time")
    text = item["text"]
    start, end = item["offset"]
    if kind == "time_point" and isinstance(times, list) and "inf" not in times:
        t0, t1 = _parse(times[0]), _parse(times[1])
        if t1 - t0 <= timedelta(days=1):
            return TimeMention(text, "point", _iso(t0), t0.strftime("%Y-%m-%d %H:%M"), start, end)
        return TimeMention(text, "span", f"{_iso(t0)}/{_iso(t1)}", text, start, end)
    if kind == "time_span" and isinstance(times, list):
        left = _iso(_parse(times[0])) if times[0] != "inf" else ".."
        right = _iso(_parse(times[1])) if times[1] != "inf" else ".."
        return TimeMention(text, "span", f"{left}/{right}", text, start, end)
    if kind == "time_period" and isinstance(times, dict):
        point = (times.get("point") or {}).get("time")
        delta = times.get("delta") or {}
        if not isinstance(point, list) or point[0] == "inf":
            return None
        t0 = _parse(point[0])
        period, spoken = _describe_period(delta, t0)
        if point[1] == "inf":
            when = f"{t0:%H:%M}以后"
        else:
            t1 = _parse(point[1])
            when = f"{t0:%H:%M}" if t1 - t0 < timedelta(hours=1) else f"{t0:%H:%M}-{t1:%H:%M}"
        return TimeMention(
            text, "recurring", f"R/{_iso(t0)}/{period}", f"{spoken} {when}", start, end
        )
    return None


def _jio_extract(text: str, now: datetime, masked: list[tuple[int, int]]) -> list[_Found]:
    _quiet_jionlp()
    try:
        import jionlp

        items = jionlp.ner.extract_time(text, time_base=now.replace(tzinfo=None), with_parsing=True)
    except Exception:  # pragma: no cover - jionlp bugs must not break intake
        logger.debug("jionlp.extract_time failed", exc_info=True)
        return []
    found: list[_Found] = []
    for item in map(_strip_pauses, items):
        start, end = item["offset"]
        if any(s < end and start < e for s, e in masked):
            continue
        if not _TIME_CHAR.search(item["text"]) or _VAGUE.match(item["text"]):
            continue
        detail = item.get("detail") or {}
        if (detail.get("type") or item.get("type")) == "time_delta":
            after = text[end : end + 3]
            before = text[max(0, start - 2) : start]
            if not (_DURATION_AFTER.match(after) or before.endswith(("已经", "持续", "有"))):
                continue
            days = _delta_days(detail.get("time") or {})
            if days <= 0:
                continue
            t0 = now - timedelta(days=days)
            found.append(_span(item["text"], t0, now, f"持续{item['text']}", (start, end)))
            continue
        mention = _from_jio(item, now)
        if (
            mention
            and mention.kind == "point"
            and _HABITUAL.search(text[max(0, start - 8) : start])
        ):
            iso = mention.iso
            mention = TimeMention(
                mention.text, "recurring", f"R/{iso}/P1D", f"每天 {iso[11:16]}", start, end
            )
        if mention:
            found.append(_Found(start, end, mention))
    return found


def _strip_pauses(item: dict[str, Any]) -> dict[str, Any]:
    """jionlp glues the pauses before a time to it (",从昨天下午三点"): cut them off."""
    raw = str(item["text"])
    text = raw.lstrip(_PAUSES)
    if text == raw or not text:
        return item
    start, end = item["offset"]
    return item | {"text": text, "offset": [start + len(raw) - len(text), end]}


def _delta_days(delta: dict[str, Any]) -> float:
    factors = {"year": 365, "month": 30, "day": 1, "hour": 1 / 24, "minute": 1 / 1440}
    return sum(float(v) * factors.get(k, 0) for k, v in delta.items() if isinstance(v, int | float))


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the masked spans turned into pauses, offsets unchanged.

    jionlp then cannot glue a room number to the time after it ("…2单元502，从昨天下午三点"
    read as one mention that overlaps the address and is dropped).
    """
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "。" * (end - start)
    return "".join(chars)


def _names_a_thing(text: str, start: int, end: int) -> bool:
    """Whether a "N号" inside ``text[start:end]`` is a building, gate, line ... not a day.

    A 号 after 月 is a day ("5月27号"); otherwise it is not a day when a place or thing
    word follows ("27号楼", "12号楼2单元", "3号线"), the number is no day of a month
    ("45号") or a letter, 甲/乙 or 第 stands before it ("A3号", "第3号").
    """
    for m in _DAY_NUMBER.finditer(text, max(0, start - 1), end):
        if m.end() <= start:
            continue
        if m.group("before") == "月":
            continue
        day = _number(m.group("n"))
        before = m.group("before")
        if (
            _NUMBERED_THING.match(text, m.end())
            or not 1 <= day <= 31
            or not float(day).is_integer()
            or (before.isascii() and before.isalpha())
            or before in ("甲", "乙", "丙", "丁", "第")
        ):
            return True
    return False


def find_time(
    text: str, now: datetime, masked: list[tuple[int, int]] | None = None
) -> TimeMention | None:
    """Find the first time mention in normalised text.

    Args:
        text: Normalised text.
        now: Reference time (naive values are taken as Beijing time).
        masked: Spans (addresses, phone numbers) where no time may be found.

    Returns:
        The first mention in text order (rules for "这两天"/"从…开始" win on overlap).
    """
    if not text:
        return None
    now = _as_beijing(now)
    rules = _rule_based(text, now)
    taken = [(f.start, f.end) for f in rules] + list(masked or [])
    jio = _jio_extract(_blank(text, masked or []), now, taken)
    found = [f for f in rules + jio if not _names_a_thing(text, f.start, f.end)]
    candidates = sorted(found, key=lambda f: (f.start, -(f.end - f.start)))
    return candidates[0].mention if candidates else None


def extract_time(text: str, now: datetime) -> TimeMention | None:
    """Extract when something happened (or happens) from an utterance.

    Points ("昨天下午三点") give an ISO date-time; spans ("上周", "这两天", "从上个月开始")
    give ``start/end``; recurring times ("每天晚上十二点以后") give ``R/start/period``
    with a human description ("每天 00:00以后"). Parsing uses ``jionlp`` plus rules.

    Args:
        text: The utterance.
        now: Reference time; naive values are Beijing time, aware ones are converted.

    Returns:
        The first time mention, or None.
    """
    from ._location import find_location
    from ._phones import find_phones

    norm = normalize_text(text)
    if not norm or not isinstance(now, datetime):
        return None
    masked = [(p.start, p.end) for p in find_phones(norm)]
    loc = find_location(norm)
    if loc:
        masked.append((loc.start, loc.end))
    return find_time(norm, now, masked)
