"""Address extraction: "朝阳区望京西园四区3号楼2单元501" → Location(...).

The text is cut into address tokens (gazetteer names plus patterns for roads, compounds,
door numbers, buildings, units, floors, rooms and positions such as 门口/东侧), tokens
that follow each other down the address hierarchy (only fillers between them) are
chained, and the most complete chain is the address. The span therefore runs through
everything the resident said about the place and stops where the next field (a phone
number, a time, "我叫…") or the complaint itself begins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ._gazetteer import Place, load_gazetteer
from ._normalize import normalize_text
from ._phones import find_phones
from ._types import Location

__all__ = [
    "AddressPart",
    "Kind",
    "LocationSpan",
    "extract_location",
    "find_address_parts",
    "find_location",
]

_CN_NUM = "一二三四五六七八九十百零〇两幺"
_NUM = rf"[\d{_CN_NUM}]+"
_SPOKEN_DIGITS = "零〇一二三四五六七八九幺"
# characters that never start or sit inside a free-form place name
# ("和" only inside names such as 和平里, 和义)
_NAME_CHAR = (
    r"(?:(?!和(?![平义谐睦])|单元|楼道)"
    r"[^\W\d_的了是在住我你他她它们这那哪个就跟说把被给对从往到也还又很没不吗呢吧啊呀嗯呃哦喂请让叫能要想找问或与及为号室栋])"
)


class Kind(Enum):
    """Address token kinds, in the order they are said (coarse to fine)."""

    PROVINCE = 0
    DISTRICT = 1
    STREET = 2  # street office / town (街道, 镇, 乡, 地区)
    ROAD = 3  # 路, 街, 大街, 胡同, 巷, N条
    HOUSE_NUMBER = 4  # 甲22号, 17号院
    COMMUNITY = 5  # 小区, 园, 里, 村, 社区, 大厦 ...
    SUBAREA = 6  # 四区, 二期
    BUILDING = 7  # 3号楼, 5栋, A座
    UNIT = 8  # 2单元
    FLOOR = 9  # 5层
    ROOM = 10  # 501室, 501
    POSITION = 11  # 门口, 东侧, 对面, 楼下 ...
    LANDMARK = 12  # a name with a position: "杨闸环岛西北角", "食堂门口"


_CORE_KINDS = frozenset({Kind.DISTRICT, Kind.STREET, Kind.ROAD, Kind.COMMUNITY})
_NUMBER_KINDS = frozenset({Kind.HOUSE_NUMBER, Kind.BUILDING, Kind.UNIT, Kind.FLOOR, Kind.ROOM})
# parts a guessed name never swallows when they start before it
_ANCHOR_KINDS = _CORE_KINDS | _NUMBER_KINDS
# a door number said after a compound ("望京西园四区3号") sits between sub-area and building
_HOUSE_AFTER_COMPOUND = 6.5
# a bare number is a room only right after a building, unit, floor or door number
_ROOM_CONTEXT = frozenset({Kind.BUILDING, Kind.UNIT, Kind.FLOOR, Kind.HOUSE_NUMBER})
# a one-character position ("3号楼下", "10号院前") only right after a building or number
_SIDE_CONTEXT = frozenset({Kind.BUILDING, Kind.HOUSE_NUMBER, Kind.UNIT})
# a landmark sits below whatever compound, door number or building came before it
_LANDMARK_STEP = 0.25

_DISTRICTS = "东城|西城|朝阳|海淀|丰台|石景山|门头沟|房山|通州|顺义|昌平|大兴|怀柔|平谷|密云|延庆"
_ROAD_END = (
    r"(?:大街|大道|辅路|[东西南北中]路|路口|路|[东西南北]?街|胡同|巷|桥(?![东西南北中]?(?:路|大街|街))|[头一二三四五六七八九十]+条)"
    r"(?![道坊边上灯面况线费旁头车子])"
)
_COMPOUND_END = (
    r"(?:小区|花园|家园|公寓|大厦|社区|新村|宿舍|家属院|大院|公馆|广场|商场|商城|超市|写字楼|"
    r"中心|医院|卫生院|学校|小学|中学|大学|幼儿园|市场|菜市场|公园|大楼|酒店|宾馆|车站|"
    r"地铁站|公交站|停车场|加油站|体育馆|派出所|银行|别墅|产业园|科技园|工业园|农场|养殖场|工厂|"
    r"园区|基地|厂区|"
    r"园|苑|里|村|庄|城|府|湾|院|站)"
)
_POSITION = (
    r"(?:[东西南北正大小后前侧]?门口|[东西南北]{1,2}(?:侧|门|角|口|边|面|墙|头)|门前|附近|对面|"
    r"旁边|边上|楼下|楼上|楼前|楼后|楼道里?|[前后里外下]面|[前后里外下]边|院内|院里|底商|十字路口|路口|"
    r"交叉口|拐角处?|周边|一带|沿线)"
)

_GENERIC: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    (Kind.PROVINCE, re.compile(r"北京市|北京")),
    (Kind.DISTRICT, re.compile(rf"(?:{_DISTRICTS})(?!区|公园|门|路|大街|北路|南路|医院)")),
    (
        Kind.STREET,  # a street office missing from the gazetteer ("看丹街道"); weak
        re.compile(
            rf"(?![区县市省])(?P<name>{_NAME_CHAR}{{2,4}}?)(?:街道办事处|街道办|街道)(?![口上里])"
        ),
    ),
    (Kind.ROAD, re.compile(rf"(?![区县市省])(?P<name>{_NAME_CHAR}{{2,8}}?){_ROAD_END}")),
    (
        Kind.COMMUNITY,
        re.compile(
            rf"(?![区县市省])(?P<name>{_NAME_CHAR}{{2,10}}){_COMPOUND_END}"
            rf"(?:{_NUM}期|[东西南北中]?{_NUM}区|[东西南北中]区)?"
        ),
    ),
    (
        Kind.COMMUNITY,  # "建新北区", "角门东区", "青塔一区": a name with a directional or numbered part
        re.compile(
            rf"(?![区县市省])(?P<name>{_NAME_CHAR}{{2,8}}?)"
            rf"(?P<area>[东西南北中]区(?:{_NUM}区|{_NUM}期)?|(?<![A-Za-z\d])[东西南北中]?{_NUM}区)(?![域别])"
        ),
    ),
    (
        Kind.SUBAREA,
        re.compile(rf"(?:[东西南北中]?{_NUM}区|[东西南北中A-Za-z]区|{_NUM}期)(?![域别])"),
    ),
    (
        Kind.HOUSE_NUMBER,
        re.compile(rf"[甲乙丙丁]?{_NUM}(?:-\d+)?号(?:大?院|(?![楼线码称院]|门(?![口前外])))"),
    ),
    (
        Kind.BUILDING,
        re.compile(rf"(?:[甲乙丙丁]?{_NUM}|[A-Za-z]\d*)(?:号楼|栋|幢|座|号门(?![口前外]))"),
    ),
    (Kind.UNIT, re.compile(rf"{_NUM}(?:单元|门(?![口前外里]))")),
    (Kind.FLOOR, re.compile(rf"{_NUM}(?:层|楼(?![下上道梯顶房门口前后里]))")),
    (Kind.ROOM, re.compile(rf"[甲乙丙丁]?{_NUM}(?:室|户)")),
    (Kind.POSITION, re.compile(_POSITION)),
    # "望京SOHO", "蓝色港湾CBD": a Latin-letter name said right after an area name; weak
    (Kind.COMMUNITY, re.compile(r"(?P<name>[A-Z][A-Za-z]{1,9})(?![A-Za-z\d])")),
    (Kind.LANDMARK, re.compile(rf"(?![区县市省])(?P<name>{_NAME_CHAR}{{2,8}}){_POSITION}")),
)
# what turns a known place name into a compound or road name ("良乡" + "西里" / "路")
_AFTER_PLACE: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    (
        Kind.COMMUNITY,
        re.compile(
            rf"(?:小区|花园|家园|公寓|新村|大院|[东西南北中]里|[东西南北中]?苑|[东西南北中]区|"
            rf"[东西南北中]?{_NUM}区)(?:{_NUM}期|[东西南北中]?{_NUM}区|[东西南北中]区)?(?![域别])"
        ),
    ),
    (Kind.ROAD, re.compile(_ROAD_END)),
)
_SIDE = re.compile(r"[前后旁下外内]")
# "望京SOHO T2": a tower of a named compound
_TOWER = re.compile(r"(?<![A-Za-z\d])[A-Z]\d{1,2}(?![A-Za-z\d号座栋])")
_TOWER_CONTEXT = frozenset({Kind.COMMUNITY})
_POSITION_ANYWHERE = re.compile(rf"(?=({_POSITION}))")
# pattern kinds tried last: they only fill text no other part covers
_FALLBACK_KINDS = frozenset({Kind.LANDMARK})
# bare room numbers ("2单元501", "三号楼二单元五零一"): only after a building/unit/floor
_BARE_ROOM = re.compile(
    rf"(?<![\d{_SPOKEN_DIGITS}])(?:\d{{3,4}}|[{_SPOKEN_DIGITS}]{{3,4}})"
    rf"(?![\d{_SPOKEN_DIGITS}号楼栋年月日点元块米岁个次天人])"
)
# words that end like places but are not places in resident speech
_NOT_PLACE = re.compile(
    r"^(?:家里|这里|那里|哪里|屋里|夜里|心里|城里|村里|楼里|院里|公里|千里|万里|头里|"
    r"附近的?|小区|社区|公园|医院|学校|市场|广场|中心|商场|大院|老城|县城|进城|农村|"
    r"楼|路|街|马路|道路|公路|小路|大路|一路|这条路|那条路|上路|走路|出路|半路|电路|线路|"
    r"思路|套路|街道|大街|上街|逛街|满城|长城|京城|全城|工地|宿舍|家属院|二楼|三楼|楼上|楼下|"
    r"(?:胡同|院子|小区|社区|楼道|单元|屋子|房子|家|店|厂|学校|医院|公园|市场|园子|村子|车)里|"
    r"垃圾站|加油站|派出所|银行|超市|车站|幼儿园|"
    r".*(?:[\d一二三四五六七八九十两几半]点|点钟|[\d一二三四五六七八九十两几半今昨明前后白当每整]天|天天|"
    r"[\d一二三四五六七八九十两几今去明前每半]年|[\d一二三四五六七八九十几个]月|月份|周末|[上下这每一]周|"
    r"一直|经常|晚上|早上|附近|垃圾|充电|收费).*)$"
)
# suffixes that often end ordinary nouns ("幼儿园", "社区医院", "冰箱里"): such a
# free-form name only counts next to another address part
_WEAK_SUFFIX = re.compile(
    r"(?:里|村|城|院|园|中心|学校|小学|中学|大学|医院|公园|市场|广场|商场|商城|超市|"
    r"庄|府|湾|楼|站|酒店|宾馆|银行|停车场|体育馆|派出所|别墅|工厂|基地|园区|厂区)$"
)
_NOT_ROAD = re.compile(
    r"(?:[走过跑绕一上修让带开堵问引拦挡半顺赶迷找认抄铺断出来去回有没马条]路|马路|"
    r"[一两几好多每整半这那哪]条|第[一二三四五六七八九十百零\d]+条)$"
)
_COMMON_WORDS = frozenset(
    "希望 证明 我们 你们 他们 这个 那个 附近 所在 其他 全部 整个 幸福 和谐 光明 阳光 团结 胜利 "
    "建设 前进 友谊 人民 新华 本 该 各".split()
)
_GAP_WORDS = r"\s|那个|这个|就是|嗯|呃|啊|哦|的|在|那边|这边|那块|那儿|这儿|,|，|、|-"
_FILLER_GAP = re.compile(rf"^(?:{_GAP_WORDS})*$")
_FILLERS = re.compile(_GAP_WORDS)
_PAUSE = re.compile(r"[,，、]")
# "五道口街道幸福西里": a street office said before a compound ends where its 街道 ends
_ROAD_INSIDE = re.compile(r"(?:街道办事处|街道办|街道|路|街|巷|胡同|[县市省镇乡])(?=.)")
_ADMIN_BOUNDARY = re.compile(r"[区县市省]")
_ADMIN_INSIDE = re.compile(r"[县市省镇乡](?=.)")
_LEAD_WORDS = re.compile(
    r"导致|位于|施工|反映|投诉|举报|经过|沿着|靠近|前往|来到|途经|路过|发现|出现|附近的|对面的|旁边的"
)
_SUBAREA_TAIL = re.compile(rf"(?:[东西南北中]?{_NUM}区|[东西南北中]区|{_NUM}期)$")
_ROAD_SUFFIX = re.compile(r"(?:大街|大道|路|街|胡同|巷|条)$")
# gazetteer forms with their administrative suffix are never swallowed by a guessed name
# ("良乡" is a bare name that ends in 乡: two characters must come before the suffix)
_FULL_ADMIN_FORM = re.compile(r"..(?:区|县|街道|镇|乡|地区)$")


@dataclass(frozen=True)
class _Token:
    kind: Kind
    start: int
    end: int
    text: str
    places: tuple[Place, ...] = ()
    weak: bool = False
    name_end: int = -1
    context: frozenset[Kind] = frozenset()
    gazetteer: bool = False  # the surface itself is a gazetteer form

    @property
    def level(self) -> float:
        if (
            self.gazetteer
            and self.kind is Kind.ROAD
            and any(p.kind == "street" for p in self.places)
        ):
            return float(Kind.STREET.value)  # "学院路" (the street office) + "清华东路"
        return float(self.kind.value)


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
        name = "district" if "district" in kinds else "street" if "street" in kinds else "community"
        kind = {"district": Kind.DISTRICT, "street": Kind.STREET}.get(name, Kind.COMMUNITY)
        chosen = tuple(p for p in places if p.kind == name)
        surface = text[start:end]
        if kind is not Kind.DISTRICT and _ROAD_SUFFIX.search(surface):
            kind = (
                Kind.ROAD
            )  # committees and street offices named after a road ("八角北路", "金融街")
        weak = len(surface) <= 2 or (surface.endswith("社区") and surface[:-2] in _COMMON_WORDS)
        tokens.append(_Token(kind, start, end, surface, chosen, weak=weak, gazetteer=True))
    return tokens


def _is_weak_compound(surface: str, name_len: int) -> bool:
    if surface[:name_len] in _COMMON_WORDS and surface[name_len:].startswith("社区"):
        return True  # "希望社区能建个图书馆"
    tail = _SUBAREA_TAIL.sub("", surface[name_len:])
    return bool(_WEAK_SUFFIX.search(surface[:name_len] + tail))


def _pattern_token(kind: Kind, m: re.Match[str]) -> _Token | None:
    start = m.start()
    has_name = "name" in m.re.groupindex
    if has_name:
        # "…万家丽路锦楚国际星城": a compound's name starts after a road said before it;
        # "M市吉星路", "导致万家丽路": a name starts after a city/county or a verb
        inside = _ROAD_INSIDE if kind in (Kind.COMMUNITY, Kind.LANDMARK) else _ADMIN_INSIDE
        name = m.group("name")
        cuts = [
            c
            for c in inside.finditer(name)
            # "良乡花园", "花乡西里": a 乡/镇 after a single character is part of the town's name
            if c.group(0) not in "乡镇" or len(_ADMIN_BOUNDARY.split(name[: c.start()])[-1]) != 1
        ] + list(_LEAD_WORDS.finditer(name))
        if cuts:
            start += max(c.end() for c in cuts)
            if m.end("name") - start < 2:
                return None
    surface = m.string[start : m.end()]
    if kind in (Kind.ROAD, Kind.COMMUNITY, Kind.LANDMARK) and _NOT_PLACE.match(surface):
        return None
    if kind is Kind.ROAD and _NOT_ROAD.search(surface):
        return None
    weak = (
        kind in (Kind.DISTRICT, Kind.STREET, Kind.LANDMARK)
        or surface.isascii()
        or (kind is Kind.COMMUNITY and _is_weak_compound(surface, m.end("name") - start))
    )
    if "area" in m.re.groupindex:
        weak = True  # only next to another address part
    name_end = m.end("name") if has_name else -1
    return _Token(kind, start, m.end(), surface, weak=weak, name_end=name_end)


def _named_after_places(text: str, gaz: list[_Token]) -> list[_Token]:
    """Compounds and roads named after a known place: "良乡花园", "仁和西里", "永顺路"."""
    out = []
    for g in gaz:
        if g.kind is Kind.DISTRICT or g.text.endswith(("社区", "村")):
            continue
        for kind, pattern in _AFTER_PLACE:
            m = pattern.match(text, g.end)
            if m is None:
                continue
            surface = text[g.start : m.end()]
            weak = g.weak and kind is Kind.COMMUNITY and _is_weak_compound(surface, len(g.text))
            out.append(_Token(kind, g.start, m.end(), surface, weak=weak, name_end=g.end))
    return out


def _generic_tokens(text: str, starts: set[int]) -> list[_Token]:
    """Pattern tokens; names are also tried from ``starts`` (ends of gazetteer names)."""
    tokens: dict[tuple[Kind, int, int], _Token] = {}
    starts = set(starts)
    for kind, pattern in _GENERIC:
        matches = list(pattern.finditer(text))
        if kind in (Kind.STREET, Kind.ROAD, Kind.COMMUNITY, Kind.SUBAREA, Kind.LANDMARK):
            matches += [m for pos in starts if (m := pattern.match(text, pos))]
        for m in matches:
            tok = _pattern_token(kind, m)
            if tok is not None:
                tokens.setdefault((tok.kind, tok.start, tok.end), tok)
                if kind in (Kind.STREET, Kind.ROAD):
                    starts.add(tok.end)  # a compound may be named right after its road
    for m in _POSITION_ANYWHERE.finditer(text):  # overlapping: "院里面" holds "里面"
        tokens.setdefault(
            (Kind.POSITION, m.start(1), m.end(1)),
            _Token(Kind.POSITION, m.start(1), m.end(1), m.group(1)),
        )
    for m in _BARE_ROOM.finditer(text):
        tokens.setdefault(
            (Kind.ROOM, m.start(), m.end()),
            _Token(Kind.ROOM, m.start(), m.end(), m.group(0), context=_ROOM_CONTEXT),
        )
    for m in _TOWER.finditer(text):
        tokens.setdefault(
            (Kind.SUBAREA, m.start(), m.end()),
            _Token(Kind.SUBAREA, m.start(), m.end(), m.group(0), context=_TOWER_CONTEXT),
        )
    for m in _SIDE.finditer(text):
        tokens.setdefault(
            (Kind.POSITION, m.start(), m.end()),
            _Token(Kind.POSITION, m.start(), m.end(), m.group(0), context=_SIDE_CONTEXT),
        )
    return sorted(tokens.values(), key=lambda t: (t.start, -t.end))


def _char_at(tok: _Token, pos: int) -> str:
    return tok.text[pos - tok.start] if tok.start <= pos < tok.end else ""


def _trim_after_known(tok: _Token, gaz: list[_Token]) -> _Token | None:
    """Cut a guessed name so that it starts after the known names said before it."""
    start = tok.start
    for g in gaz:
        if g.kind not in _ANCHOR_KINDS or not (g.start < tok.end and tok.start < g.end):
            continue
        if g.end >= tok.end:
            continue
        before = g.start < start  # the guess starts inside the known name
        rest = tok.name_end - g.end
        if rest > 0 and _char_at(tok, g.end) in "东西南北中":
            rest = 0  # "团结湖" + "北里小区": the compound is named after the area
        # "回龙观|龙跃苑": a compound name needs two characters, a road three ("德胜门外大街")
        need = 2 if g.kind in (Kind.DISTRICT, Kind.STREET) and tok.kind is not Kind.ROAD else 3
        long_rest = tok.name_end < 0 or rest >= need
        admin = g.kind in (Kind.DISTRICT, Kind.STREET) and bool(_FULL_ADMIN_FORM.search(g.text))
        if before or long_rest or admin:
            start = max(start, g.end)
    if start == tok.start:
        return tok
    if (
        tok.kind not in (Kind.ROAD, Kind.STREET, Kind.COMMUNITY, Kind.LANDMARK)
        or tok.end - start < 3
    ):
        return None
    text = tok.text[start - tok.start :]
    if _NOT_PLACE.match(text) or (tok.kind is Kind.ROAD and _NOT_ROAD.search(text)):
        return None
    weak = tok.weak
    if tok.kind is Kind.COMMUNITY and tok.name_end >= 0:
        weak = _is_weak_compound(text, max(0, tok.name_end - start))
    if tok.kind is Kind.LANDMARK and tok.name_end - start < 2:
        return None
    return _Token(tok.kind, start, tok.end, text, weak=weak, name_end=tok.name_end)


def _resolve(
    gaz: list[_Token], generic: list[_Token], blocked: list[tuple[int, int]]
) -> list[_Token]:
    """Merge gazetteer and pattern tokens into non-overlapping tokens."""
    kept: list[_Token] = [g for g in gaz if not _overlaps_any(g.start, g.end, blocked)]
    # longer guesses first, so that "芳城园一区" wins over its "一区"; landmarks last
    # numbers before names, so that "18号院长远天地大厦" is 18号院 + 长远天地大厦
    order = sorted(
        generic,
        key=lambda t: (
            t.kind in _FALLBACK_KINDS,
            bool(t.context),
            t.kind not in _NUMBER_KINDS,
            t.start - t.end,
            t.start,
        ),
    )
    for raw in order:
        if _overlaps_any(raw.start, raw.end, blocked):
            continue
        anchors = gaz + [k for k in kept if k.kind in _NUMBER_KINDS]
        tok = raw if raw.kind in _NUMBER_KINDS else _trim_after_known(raw, anchors)
        if tok is None:
            continue
        overlapping = [k for k in kept if k.start < tok.end and tok.start < k.end]
        if tok.kind is Kind.LANDMARK and all(
            k.kind is Kind.POSITION and tok.start < k.start and k.end <= tok.end
            for k in overlapping
        ):
            for k in overlapping:  # "杨闸环岛" + "西北角": the position is the landmark's tail
                kept.remove(k)
            overlapping = []
        if not overlapping:
            kept.append(tok)
            continue
        longer = all(
            (tok.end - tok.start) > (k.end - k.start) and tok.start <= k.start and k.end <= tok.end
            for k in overlapping
        )
        # "中关村大街" beats the community "中关村"; a known name beats a same-size guess
        # "天通苑街道" beats the compound guessed in "天通苑"
        office = tok.kind is Kind.STREET and bool(_FULL_ADMIN_FORM.search(tok.text))
        if (
            longer
            and (tok.kind in (Kind.ROAD, Kind.COMMUNITY) or office)
            and tok.end >= max(k.end for k in overlapping)
        ):
            for k in overlapping:
                kept.remove(k)
            # "天通苑北" + "一区" keeps the district of 天通苑北; a name found inside does not
            inherited = tuple(p for k in overlapping if k.start == tok.start for p in k.places)
            kept.append(_replace_places(tok, tok.places + inherited))
    kept.sort(key=lambda t: (t.start, -t.end))
    return kept


def _replace_places(tok: _Token, places: tuple[Place, ...]) -> _Token:
    return _Token(tok.kind, tok.start, tok.end, tok.text, places, tok.weak, tok.name_end)


def _overlaps_any(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def _effective_level(prev: _Token | None, prev_level: float, tok: _Token) -> float:
    if tok.kind is Kind.HOUSE_NUMBER and prev is not None and prev_level >= Kind.COMMUNITY.value:
        return max(prev_level, _HOUSE_AFTER_COMPOUND)
    if tok.kind is Kind.POSITION and prev is not None and prev.kind is Kind.POSITION:
        return prev_level + _LANDMARK_STEP  # "南门外面", "门口对面"
    if tok.kind is Kind.LANDMARK:
        return min(max(prev_level, Kind.COMMUNITY.value) + _LANDMARK_STEP, Kind.POSITION.value)
    return tok.level


def _chains(text: str, tokens: list[_Token]) -> list[list[_Token]]:
    chains: list[list[_Token]] = []
    current: list[_Token] = []
    level = -1.0
    for tok in tokens:
        if current:
            prev = current[-1]
            gap = text[prev.end : tok.start]
            tok_level = _effective_level(prev, level, tok)
            joins = tok.start >= prev.end and bool(_FILLER_GAP.match(gap)) and tok_level > level
            if joins and (tok.weak or tok.kind is Kind.POSITION) and _PAUSE.search(gap):
                joins = False  # "…大街，孩子学校…", "…501，楼上…": after a pause it starts anew
            if joins and tok.context and (prev.kind not in tok.context or gap.strip()):
                joins = False
            if joins:
                current.append(tok)
                level = tok_level
                continue
            if tok.start < prev.end or tok.context:
                continue  # a bare "501" or "下" out of place does not end the address
            chains.append(current)
        if tok.context:
            current = []
            level = -1.0
            continue
        current = [tok]
        level = tok.level
    if current:
        chains.append(current)
    return [c for c in chains if _is_address(c)]


def _has_strong_core(chain: list[_Token]) -> bool:
    return any(t.kind in _CORE_KINDS and not t.weak for t in chain)


def _is_address(chain: list[_Token]) -> bool:
    if _has_strong_core(chain):
        return True
    # "朝阳那边3号楼", "xx学校3号楼": a weak name only counts with a number or another name
    # after it; a position alone ("学校周边", "银行对面") is not enough in free text
    parts = [t for t in chain if t.kind not in (Kind.POSITION, Kind.LANDMARK)]
    return len(parts) >= 2 and any(t.kind in _CORE_KINDS for t in chain)


def _infer_district(chain: list[_Token]) -> str | None:
    for tok in chain:
        if tok.kind is Kind.DISTRICT:
            return tok.places[0].name if tok.places else tok.text + "区"
    candidates: set[str] = set()
    for tok in chain:
        if tok.places:
            districts = {p.district for p in tok.places}
            if len(districts) == 1:
                candidates |= districts
    return candidates.pop() if len(candidates) == 1 else None


def _parts(chain: list[_Token]) -> dict[str, str]:
    parts: dict[str, str] = {}
    for index, tok in enumerate(chain):
        prev = chain[index - 1] if index else None
        if tok.kind is Kind.SUBAREA:
            if "community" in parts:
                parts["community"] += (_joint(prev, tok) if prev else "") + tok.text
            elif prev is not None and prev.kind in (Kind.STREET, Kind.ROAD):
                parts["community"] = prev.text + tok.text  # "天通苑北" + "一区"
                if prev.kind is Kind.ROAD and parts.get("road") == prev.text:
                    del parts["road"]
            else:
                parts["community"] = tok.text
        elif tok.kind is Kind.STREET:
            parts.setdefault("street", tok.places[0].name if tok.places else tok.text)
        elif tok.kind is Kind.ROAD:
            offices = [p.name for p in tok.places if p.kind == "street" and tok.gazetteer]
            if offices:
                parts.setdefault("street", offices[0])
            nxt = chain[index + 1] if index + 1 < len(chain) else None
            if not offices or nxt is None or nxt.kind is not Kind.ROAD:
                parts.setdefault("road", tok.text)
        elif tok.kind is Kind.PROVINCE:
            parts["province"] = "北京市"
        elif tok.kind is Kind.HOUSE_NUMBER:
            after_building = prev is not None and prev.kind in (
                Kind.BUILDING,
                Kind.UNIT,
                Kind.FLOOR,
            )
            parts.setdefault("room" if after_building else "house_number", tok.text)
        elif tok.kind in (Kind.COMMUNITY, Kind.BUILDING, Kind.UNIT, Kind.ROOM):
            parts.setdefault(tok.kind.name.lower(), tok.text)
    return parts


def _joint(tok: _Token, nxt: _Token) -> str:
    """What stays between two parts: nothing, or a space between Latin words ("SOHO T2")."""
    latin = tok.text[-1].isascii() and tok.text[-1].isalnum() and nxt.text[0].isascii()
    return " " if latin and nxt.start > tok.end and nxt.text[0].isalnum() else ""


def _to_location(text: str, chain: list[_Token]) -> Location:
    parts = _parts(chain)
    full = (
        "".join(tok.text + _joint(tok, nxt) for tok, nxt in zip(chain, chain[1:], strict=False))
        + chain[-1].text
    )
    district = _infer_district(chain)
    province = parts.get("province") or ("北京市" if district else None)
    road = parts.get("road")
    return Location(
        full=full,
        province=province,
        city=province,
        district=district,
        street=parts.get("street") or road,
        community=parts.get("community"),
        building=parts.get("building"),
        unit=parts.get("unit"),
        room=parts.get("room"),
        road=road,
        house_number=parts.get("house_number"),
    )


def _score(chain: list[_Token]) -> tuple[bool, int, int]:
    """A real name first, then more address parts, then more known (gazetteer) names."""
    return _has_strong_core(chain), len(chain), sum(1 for t in chain if t.places)


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
    chains = _chains(text, _tokens(text))
    if not chains:
        return None
    best = max(enumerate(chains), key=lambda ic: (_score(ic[1]), ic[0]))[1]
    return LocationSpan(_to_location(text, best), best[0].start, best[-1].end)


def _tokens(text: str) -> list[_Token]:
    gaz = _gazetteer_tokens(text)
    starts = {g.end for g in gaz}
    blocked = [(p.start, p.end) for p in find_phones(text)]
    generic = _generic_tokens(text, starts) + _named_after_places(text, gaz)
    return _merge_named_areas(_resolve(gaz, generic, blocked))


@dataclass(frozen=True)
class AddressPart:
    """One address token, whether or not it forms an address on its own.

    Attributes:
        kind: What the part is (road, building, position ...).
        start: Start offset in the normalised text.
        end: End offset (exclusive).
        known: True if the name is in the gazetteer.
        weak: True for names that are also ordinary words ("幼儿园", short district names).
    """

    kind: Kind
    start: int
    end: int
    known: bool
    weak: bool


def find_address_parts(text: str) -> list[AddressPart]:
    """All address tokens of normalised text, in order, without overlaps.

    Bare numbers ("501") come back as rooms wherever they stand; one-character sides
    ("下" in "3号楼下") are left out.

    Args:
        text: Normalised text.

    Returns:
        The parts, including those too weak to be an address alone ("门口", "3号楼").
    """
    return [
        AddressPart(t.kind, t.start, t.end, bool(t.places), t.weak)
        for t in _tokens(text)
        if t.context is not _SIDE_CONTEXT
    ]


def _merge_named_areas(tokens: list[_Token]) -> list[_Token]:
    """Join an area name and its numbered part ("劲松" + "八区") into one compound."""
    out: list[_Token] = []
    for tok in tokens:
        prev = out[-1] if out else None
        if (
            prev is not None
            and tok.kind is Kind.SUBAREA
            and prev.kind in (Kind.STREET, Kind.ROAD)
            and not tok.text[0].isascii()
            and prev.end == tok.start
            and not _FULL_ADMIN_FORM.search(prev.text)
        ):
            out[-1] = _Token(Kind.COMMUNITY, prev.start, tok.end, prev.text + tok.text, prev.places)
            continue
        out.append(tok)
    return out


def extract_location(text: str) -> Location | None:
    """Extract the address a resident gives.

    Recognises Beijing districts, street offices/towns and residents' committees from
    the gazetteer, plus roads (路/街/胡同/巷/N条), door numbers (甲22号, 17号院),
    compounds (小区/园/里/村/大厦 ...), sub-areas (四区, 二期), buildings (号楼/栋), units
    (单元), floors, rooms and positions (门口, 东侧, 对面, 楼下 ...). ``full`` is the whole
    span in the resident's words, with fillers between parts ("那个", "就是") dropped; it
    ends before a phone number, a time or the complaint itself. The district (and so
    province/city "北京市") is filled in from the gazetteer when the name is unambiguous.

    Args:
        text: The utterance.

    Returns:
        The location, or None if no address is mentioned.
    """
    span = find_location(normalize_text(text))
    return span.location if span else None
