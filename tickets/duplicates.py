"""Is this new complaint a ticket that is already open?  Pure functions, no I/O.

A new report and an open ticket are the same problem when all three hold:

1. **same category** — the same taxonomy leaf (``service_code``);
2. **same place** — within :data:`RADIUS_M` metres when both carry coordinates,
   otherwise the same community (小区/园/里/村) or, for addresses on a road, the same
   road (and never two different districts);
3. **the same problem in the words** — the *problem* texts (the address words taken out,
   since the place is compared in 2.) judged by :func:`nlu.pair_model.default_matcher`
   (the problem keys where they speak, the USE cosine where they do not), or by one
   embedder's cosine threshold when one is given.

The candidates come from the ticket backend (open tickets of that service code); the
action server asks, this module decides.  Measured in ``benchmarks/duplicate_eval.py``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nlu import extract_location, normalize_text
from nlu.pair_model import KeyRuleMatcher, default_matcher
from nlu.similarity import Embedder, cosine_matrix, duplicate_threshold

__all__ = [
    "RADIUS_M",
    "Match",
    "Place",
    "Report",
    "distance_m",
    "find_duplicate",
    "place_of",
    "problem_text",
    "report_from_open311",
    "same_place",
]

#: Two reports with coordinates this close are at the same place (FixMyStreet's radius).
RADIUS_M = 250.0
_EARTH_M = 6_371_000.0
_COMPOUND_SUFFIX = re.compile(r"(小区|社区|家园)$")
# The sub-area at the end of a compound's name: 东区, 北一区, 三区, 2期.
_SUB_AREA = re.compile(
    r"(?:[东西南北中][一二三四五六七八九十\d]*|[一二三四五六七八九十\d]+)[区期]$"
)
# A compound name the address extractor did not take ("劲松八区北门"): last resort only.
_LOOSE_COMMUNITY = re.compile(
    r"([\u4e00-\u9fff]{2,8}?(?:小区|社区|花园|家园|公寓|苑|园|里|村|[一二三四五六七八九十\d]+区))"
)
_DISTRICTS = frozenset(
    "东城区 西城区 朝阳区 海淀区 丰台区 石景山区 门头沟区 房山区 通州区 顺义区 昌平区 大兴区 "
    "怀柔区 平谷区 密云区 延庆区".split()
)
# Beijing's short names of the old gates' streets: 广外大街 is 广安门外大街.
_GATE_SHORT = {
    "广外": "广安门外", "广内": "广安门内", "朝外": "朝阳门外", "朝内": "朝阳门内",
    "阜外": "阜成门外", "阜内": "阜成门内", "复外": "复兴门外", "复内": "复兴门内",
    "德外": "德胜门外", "安外": "安定门外", "安内": "安定门内", "西外": "西直门外", "西内": "西直门内", "崇外": "崇文门外", "崇内": "崇文门内",
    "宣外": "宣武门外", "宣内": "宣武门内", "永外": "永定门外", "建外": "建国门外",
    "建内": "建国门内", "右外": "右安门外", "左外": "左安门外", "新外": "新街口外",
    "德内": "德胜门内", "东内": "东直门内",
}  # fmt: skip
_GATE_STREET = re.compile(rf"({'|'.join(_GATE_SHORT)})(?=大街|街|路)")
_TRAILING = re.compile(r"^(的|这里|那里|这边|那边|附近|旁边|门口|对面|里面|内)+")
# Contact details and the confidentiality answer, said in the same breath as the problem.
_CONTACT = re.compile(
    r"(我的)?(联系)?(电话|手机号?|联系方式)(号码)?(是|为)?[:：]?\s*\+?[\d\s-]{7,}"
    r"|\+?\d[\d\s-]{6,}\d"
    r"|(不需要|需要|不用|要|请)?(保密|匿名)"
)
# What introduces an address: "地点在", "位置是", "在".
_LEADING = re.compile(r"[,，]?(地点|位置|地址)?(在|是)?$")


@dataclass(frozen=True)
class Place:
    """Where a report is, as far as it can be compared."""

    district: str | None = None
    community: str | None = None
    road: str | None = None
    lat: float | None = None
    long: float | None = None
    #: The whole address as compared (normalised, no district, gate streets spelled out),
    #: for a name the other side's parts missed ("广安门外大街湾子路口北侧").
    text: str | None = None


@dataclass(frozen=True)
class Report:
    """A new complaint, or an open ticket it may duplicate."""

    service_code: str
    description: str
    place: Place
    address: str | None = None
    ticket_id: str = ""


@dataclass(frozen=True)
class Match:
    """The open ticket a new report duplicates, and how similar they read."""

    ticket_id: str
    score: float
    ticket: Report


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(min(1.0, math.sqrt(h)))


def _key(name: str | None) -> str | None:
    if not name:
        return None
    return _GATE_STREET.sub(
        lambda m: _GATE_SHORT[m.group(1)], normalize_text(name).replace(" ", "")
    )


def place_of(
    address: str | None,
    lat: float | None = None,
    long: float | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Place:
    """The comparable place of an address: the ticket's parsed parts, else parsed here."""
    attrs = attributes or {}
    district = attrs.get("address_district") or None
    community = attrs.get("address_community") or None
    road = attrs.get("address_road") or None
    text = None
    if address and not address.startswith("（"):
        spelled = _key(address) or ""
        if not (community or road):
            loc = extract_location(spelled)
            if loc is not None:
                district = district or loc.district
                community, road = loc.community, loc.road
            if not (community or road):  # "龙泽园西门": no compound the extractor knows
                community = _loose_community(spelled)
        text = _without_district(spelled) or None
    return Place(_key(district), _key(community), _key(road), lat, long, text)


def _without_district(text: str) -> str:
    for district in _DISTRICTS:
        text = text.replace(district, "")
    return text


def _loose_community(text: str) -> str | None:
    """ "劲松八区" out of "劲松八区北门" when the extractor found no compound in it."""
    found = _LOOSE_COMMUNITY.search(_without_district(text))
    return found.group(1) if found else None


def same_place(a: Place, b: Place, radius_m: float = RADIUS_M) -> bool:
    """Same spot: within ``radius_m`` by coordinates, else the same community or road.

    Names: the same compound ("龙泽苑" = "龙泽苑东区" = "回龙观龙泽苑"), else the same road
    where at most one side names a compound on it (a bus stop or a gate of the road counts as
    the road); a road or compound one side's parts missed is looked for in its whole text.
    """
    if None not in (a.lat, a.long, b.lat, b.long):
        return distance_m(a.lat, a.long, b.lat, b.long) <= radius_m  # type: ignore[arg-type]
    if a.district and b.district and a.district != b.district:
        return False
    if a.community and b.community:
        return _same_name(a.community, b.community)
    if a.community or b.community:
        named, other = (a, b) if a.community else (b, a)
        if (
            other.text
            and named.community
            and _COMPOUND_SUFFIX.sub("", named.community) in other.text
        ):
            return True
    if a.road and b.road:
        return a.road == b.road or _on_road(a.road, b) or _on_road(b.road, a)
    return bool((a.road and _on_road(a.road, b)) or (b.road and _on_road(b.road, a)))


def _on_road(road: str, place: Place) -> bool:
    return len(road) >= 3 and bool(place.text) and road in place.text  # type: ignore[operator]


def _same_name(a: str, b: str) -> bool:
    """ "龙泽苑" = "龙泽苑东区" = "回龙观龙泽苑" = "龙泽苑西区" of "回龙观龙泽苑"; but
    "望京西园三区" ≠ "四区" and "天通苑北一区" ≠ "北二区" (two sub-areas of one compound)."""
    a, b = _COMPOUND_SUFFIX.sub("", a), _COMPOUND_SUFFIX.sub("", b)
    if a == b:
        return True
    (base_a, part_a), (base_b, part_b) = _parts(a), _parts(b)
    if part_a and part_b and part_a != part_b:
        return False
    short, long_ = sorted((base_a, base_b), key=len)
    return len(short) >= 3 and (long_.startswith(short) or long_.endswith(short))


def _parts(name: str) -> tuple[str, str]:
    """A compound name and its sub-area: "天通苑北一区" → ("天通苑", "北一区")."""
    found = _SUB_AREA.search(name)
    if found is None or found.start() < 2:
        return name, ""
    return name[: found.start()], found.group(0)


def problem_text(description: str, address: str | None = None) -> str:
    """The description without its address words (the place is compared on its own)."""
    text = _CONTACT.sub(" ", normalize_text(description))
    if address:
        text = _cut(text, normalize_text(address))
    loc = extract_location(text)
    if loc is not None and loc.full:
        text = _cut(text, loc.full)
    text = text.strip(" ,，。")
    return text or normalize_text(description)


def _cut(text: str, words: str) -> str:
    """``text`` without ``words`` and what introduces them ("地点在…", "…门口")."""
    while words and words in text:
        head, _, tail = text.partition(words)
        text = f"{_LEADING.sub('', head)} {_TRAILING.sub('', tail)}"
    return text


def report_from_open311(request: Mapping[str, Any]) -> Report:
    """A :class:`Report` from an Open311 ``requests.json`` element (staff view or public)."""

    def _num(key: str) -> float | None:
        raw = request.get(key)
        try:
            return float(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            return None

    address = request.get("address") or request.get("address_string") or None
    attributes = request.get("attributes")
    return Report(
        service_code=str(request.get("service_code") or ""),
        description=str(request.get("description") or ""),
        place=place_of(
            address,
            _num("lat"),
            _num("long"),
            attributes if isinstance(attributes, Mapping) else None,
        ),
        address=address,
        ticket_id=str(request.get("service_request_id") or ""),
    )


def find_duplicate(
    report: Report,
    open_tickets: Sequence[Report],
    embedder: Embedder | None = None,
    threshold: float | None = None,
    matcher: KeyRuleMatcher | None = None,
) -> Match | None:
    """The most likely open ticket of the same problem at the same place, or None.

    Args:
        report: The new complaint.
        open_tickets: Open tickets to compare with (any category, any place).
        embedder: Judge by this embedder's cosine alone (and ``threshold``) instead of the
            pair model.
        threshold: Cosine needed with ``embedder``; its own threshold by default.
        matcher: The pair matcher; :func:`nlu.pair_model.default_matcher` by default.
    """
    near = [
        t
        for t in open_tickets
        if t.service_code == report.service_code and same_place(report.place, t.place)
    ]
    if not near:
        return None
    query = problem_text(report.description, report.address)
    others = [problem_text(t.description, t.address) for t in near]
    if embedder is not None:
        limit = duplicate_threshold(embedder) if threshold is None else threshold
        scores = cosine_matrix(embedder, [query], others)[0]
        if not (scores >= limit).any():
            return None
        best = int(scores.argmax())
    else:
        judgement = (matcher or default_matcher()).judge(report.service_code, query, others)
        found = judgement.best()
        if found is None:
            return None
        best, scores = found, judgement.scores
    return Match(near[best].ticket_id, float(scores[best]), near[best])
