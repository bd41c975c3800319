"""Address extraction: "朝阳区望京西园四区3号楼2单元501" → Location(...)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._gazetteer import Place, load_gazetteer
from ._normalize import normalize_text
from ._types import Location

__all__ = ["LocationSpan", "extract_location", "find_location"]

_CN_NUM = "一二三四五六七八九十百零〇两"
_NUM = rf"[\d{_CN_NUM}]+"
# characters that never start or sit inside a free-form place name
_NAME_CHAR = r"[^\W\d_的了是在住我你他她它们这那哪个就跟说把被给对从往到也还又很没不吗呢吧啊呀嗯呃哦喂请让叫能会要想找问和或与及]"
_LEVEL = {
    "province": 0,
    "district": 1,
    "street": 2,
    "road": 2,
    "community": 3,
    "subarea": 4,
    "building": 5,
    "unit": 6,
    "room": 7,
}
_CORE_KINDS = frozenset({"district", "street", "road", "community"})

_GENERIC: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("province", re.compile(r"北京市|北京")),
    (
        "district",
        re.compile(
            r"(?:东城|西城|朝阳|海淀|丰台|石景山|门头沟|房山|通州|顺义|昌平|大兴|怀柔|平谷|密云|延庆)"
            r"(?!区|公园|门|路|大街|北路|南路|医院)"
        ),
    ),
    (
        "road",
        re.compile(
            rf"(?P<name>{_NAME_CHAR}{{2,8}}?)(?:大街|大道|[东西南北中]路|路口|路|[东西南北]?街|胡同|巷|桥)"
            r"(?![道坊边上灯面况线费旁])"
        ),
    ),
    (
        "community",
        re.compile(
            rf"(?P<name>{_NAME_CHAR}{{2,10}})(?:小区|花园|家园|公寓|大厦|社区|新村|宿舍|家属院|大院|公馆|"
            r"广场|商场|中心|医院|学校|小学|中学|市场|公园|大楼|园|苑|里|村|庄|城|府|湾|院)"
            rf"(?:{_NUM}期|[东西南北中]?{_NUM}区|[东西南北中]区)?"
        ),
    ),
    ("subarea", re.compile(rf"(?:[东西南北中]?{_NUM}区|[东西南北中]区|{_NUM}期)(?![域别])")),
    ("building", re.compile(rf"(?:[甲乙丙丁]?{_NUM}|[A-Za-z])(?:号楼|栋|幢|座|号院|号门)")),
    ("unit", re.compile(rf"{_NUM}(?:单元|门(?![口前外里]))")),
    (
        "room",
        re.compile(
            rf"(?:[甲乙丙丁]?{_NUM}(?:室|号(?![楼院门线码])|户)|(?<!\d)\d{{3,4}}(?![\d号楼栋年月日点元块米岁个]))"
        ),
    ),
)
# words that end like places but are not places in resident speech
_NOT_PLACE = re.compile(
    r"^(?:家里|这里|那里|哪里|屋里|夜里|心里|城里|村里|楼里|院里|公里|千里|万里|头里|"
    r"附近的?|小区|社区|公园|医院|学校|市场|广场|中心|商场|大院|老城|县城|进城|农村|"
    r"楼|路|街|马路|道路|公路|小路|大路|一路|这条路|那条路|上路|走路|出路|半路|电路|线路|"
    r"思路|套路|街道|大街|上街|逛街|满城|长城|京城|全城|工地|宿舍|家属院|二楼|三楼|楼上|楼下|"
    r"(?:胡同|院子|小区|社区|楼道|单元|屋子|房子|家|店|厂|学校|医院|公园|市场|园子|村子|车)里|"
    r".*[点天年月周].*|.*(?:一直|经常|每天|晚上|早上|附近).*)$"
)
# suffixes that often end ordinary nouns ("幼儿园", "社区医院", "冰箱里"): such a
# free-form name only counts next to another address part
_WEAK_SUFFIX = re.compile(
    r"(?:里|村|城|院|园|中心|社区|学校|小学|中学|医院|公园|市场|广场|商场|庄|府|湾|楼)$"
)
_NOT_ROAD = re.compile(
    r"(?:[走过跑绕一上修让带开堵问引拦挡半顺赶迷找认抄铺断出来去回有没马条]路|马路)$"
)
_COMMON_WORDS = frozenset(
    "希望 证明 我们 你们 他们 这个 那个 附近 所在 其他 全部 整个 幸福 和谐 光明 阳光 团结 胜利 "
    "建设 前进 友谊 人民 新华 本 该 各".split()
)
_FILLER_GAP = re.compile(r"^(?:\s|那个|这个|就是|嗯|呃|啊|哦|的|那边|这边|那块|,|，|、|-)*$")
_FILLERS = re.compile(r"那个|这个|就是|嗯|呃|啊|哦|那边|这边|那块|\s|,|，|、")
_ROAD_SUFFIX = re.compile(r"(?:大街|大道|路|街|胡同|巷)$")


@dataclass(frozen=True)
class _Token:
    kind: str
    start: int
    end: int
    text: str
    places: tuple[Place, ...] = ()
    weak: bool = False
    name_end: int = -1

    @property
    def level(self) -> int:
        return _LEVEL[self.kind]


@dataclass(frozen=True)
class LocationSpan:
    """A location with its offsets in normalised text.

    Attributes:
        location: The parsed location.
        start: Start offset of the address span.
        end: End offset (exclusive).
    """

    location: Location
    start: int
    end: int


def _gazetteer_tokens(text: str) -> list[_Token]:
    tokens = []
    for start, end, places in load_gazetteer().scan(text):
        kinds = {p.kind for p in places}
        kind = "district" if "district" in kinds else "street" if "street" in kinds else "community"
        chosen = tuple(p for p in places if p.kind == kind)
        surface = text[start:end]
        if kind == "community" and _ROAD_SUFFIX.search(surface):
            kind = "road"  # residents' committees named after their road ("八角北路")
        weak = len(surface) <= 2 or (surface.endswith("社区") and surface[:-2] in _COMMON_WORDS)
        tokens.append(_Token(kind, start, end, surface, chosen, weak=weak))
    return tokens


def _generic_tokens(text: str) -> list[_Token]:
    tokens = []
    for kind, pattern in _GENERIC:
        for m in pattern.finditer(text):
            surface = m.group(0)
            if kind in ("road", "community") and _NOT_PLACE.match(surface):
                continue
            if kind == "road" and _NOT_ROAD.search(surface):
                continue
            weak = kind == "district" or (
                kind == "community"
                and bool(
                    _WEAK_SUFFIX.search(
                        surface[: m.end("name") - m.start()]
                        + surface[m.end("name") - m.start() :].rstrip(
                            "一二三四五六七八九十0123456789东西南北中区期"
                        )
                    )
                )
            )
            name_end = m.end("name") if "name" in pattern.groupindex else -1
            tokens.append(_Token(kind, m.start(), m.end(), surface, weak=weak, name_end=name_end))
    return tokens


def _resolve(gaz: list[_Token], generic: list[_Token]) -> list[_Token]:
    """Merge gazetteer and pattern tokens into non-overlapping tokens."""
    kept: list[_Token] = list(gaz)
    for tok in generic:
        start = tok.start
        # a free-form name never swallows a district/street/community said before it
        for g in gaz:
            inside = start <= g.start < tok.end and g.end < tok.end and g.kind in _CORE_KINDS
            rest = tok.name_end - g.end
            if inside and (tok.name_end < 0 or rest >= (2 if g.kind == "district" else 3)):
                start = max(start, g.end)
        if start != tok.start:
            if tok.kind not in ("road", "community") or tok.end - start < 3:
                continue
            tok = _Token(
                tok.kind,
                start,
                tok.end,
                tok.text[start - tok.start :],
                weak=tok.weak,
                name_end=tok.name_end,
            )
            if _NOT_PLACE.match(tok.text):
                continue
        overlapping = [k for k in kept if k.start < tok.end and tok.start < k.end]
        if not overlapping:
            kept.append(tok)
            continue
        longer = all(
            (tok.end - tok.start) > (k.end - k.start) and tok.start <= k.start and k.end <= tok.end
            for k in overlapping
        )
        # "中关村大街" beats the community "中关村"; a known name beats a same-size guess
        if (
            longer
            and tok.kind in ("road", "community")
            and tok.end >= max(k.end for k in overlapping)
        ):
            for k in overlapping:
                kept.remove(k)
            kept.append(tok)
    kept.sort(key=lambda t: (t.start, -t.end))
    return kept


def _chains(text: str, tokens: list[_Token]) -> list[list[_Token]]:
    chains: list[list[_Token]] = []
    current: list[_Token] = []
    for tok in tokens:
        if current:
            prev = current[-1]
            gap = text[prev.end : tok.start]
            joins = tok.start >= prev.end and _FILLER_GAP.match(gap) and tok.level > prev.level
            if joins and tok.weak and any(c in gap for c in ",，、"):
                joins = False  # "…大街，孩子学校…": a weak name after a pause starts anew
            if joins:
                current.append(tok)
                continue
            chains.append(current)
        current = [tok]
    if current:
        chains.append(current)
    return [c for c in chains if _is_address(c)]


def _is_address(chain: list[_Token]) -> bool:
    kinds = {t.kind for t in chain}
    strong_core = any(t.kind in _CORE_KINDS and not t.weak for t in chain)
    if strong_core:
        return True
    if len(chain) >= 2 and any(t.kind in _CORE_KINDS for t in chain):
        return True
    # "朝阳那边3号楼": a short district only counts with more parts after it
    return bool(kinds & _CORE_KINDS) and len(chain) >= 2


def _infer_district(chain: list[_Token]) -> str | None:
    for tok in chain:
        if tok.kind == "district":
            name = tok.places[0].name if tok.places else tok.text + "区"
            return name
    candidates: set[str] = set()
    for tok in chain:
        if tok.places:
            districts = {p.district for p in tok.places}
            if len(districts) == 1:
                candidates |= districts
    return candidates.pop() if len(candidates) == 1 else None


def _to_location(text: str, chain: list[_Token]) -> Location:
    parts: dict[str, str] = {}
    for index, tok in enumerate(chain):
        if tok.kind == "subarea":
            prev = chain[index - 1] if index else None
            if "community" in parts:
                parts["community"] += tok.text
            elif prev is not None and prev.kind in ("street", "road"):
                parts["community"] = prev.text + tok.text  # "天通苑北" + "一区"
            else:
                parts["community"] = tok.text
        elif tok.kind in ("road", "street"):
            name = tok.places[0].name if tok.kind == "street" and tok.places else tok.text
            parts.setdefault("street", name)
        elif tok.kind == "province":
            parts["province"] = "北京市"
        elif tok.kind != "district":
            parts.setdefault(tok.kind, tok.text)
    full = (
        "".join(
            tok.text + _FILLERS.sub("", text[tok.end : nxt.start])
            for tok, nxt in zip(chain, chain[1:], strict=False)
        )
        + chain[-1].text
    )
    district = _infer_district(chain)
    province = parts.get("province") or ("北京市" if district else None)
    return Location(
        full=full,
        province=province,
        city=province,
        district=district,
        street=parts.get("street"),
        community=parts.get("community"),
        building=parts.get("building"),
        unit=parts.get("unit"),
        room=parts.get("room"),
    )


def find_location(text: str) -> LocationSpan | None:
    """Find the most complete address in normalised text.

    Args:
        text: Normalised text.

    Returns:
        The address with the most parts (the later one on ties, as residents correct
        themselves), or None.
    """
    if not text:
        return None
    tokens = _resolve(_gazetteer_tokens(text), _generic_tokens(text))
    chains = _chains(text, tokens)
    if not chains:
        return None
    best = max(enumerate(chains), key=lambda ic: (len(ic[1]), ic[0]))[1]
    return LocationSpan(_to_location(text, best), best[0].start, best[-1].end)


def extract_location(text: str) -> Location | None:
    """Extract the address a resident gives.

    Recognises Beijing districts, street offices/towns and residents' committees from
    the gazetteer, plus roads, compounds (小区/园/里/村 ...), sub-areas (四区, 二期),
    buildings (号楼/栋), units (单元) and rooms. Fillers between parts ("那个", "就是")
    are dropped from ``full``. The district (and so province/city "北京市") is filled in
    from the gazetteer when the name is unambiguous.

    Args:
        text: The utterance.

    Returns:
        The location, or None if no address is mentioned.
    """
    span = find_location(normalize_text(text))
    return span.location if span else None
