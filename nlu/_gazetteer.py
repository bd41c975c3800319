"""The Beijing gazetteer (districts, streets/towns, communities) and its look-ups."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from ._lazy import Lazy
from ._settings import DATA_DIR

__all__ = ["GAZETTEER_FILE", "Gazetteer", "Place", "load_gazetteer"]

GAZETTEER_FILE = DATA_DIR / "beijing_gazetteer.txt"
_NUMBERED = re.compile(r"^[一二三四五六七八九十百零〇两甲乙丙丁]+号")
_SUB_AREA = re.compile(r"(?:[一二三四五六七八九十东西南北中\d]+区|[一二三四五六七八九十\d]+期)$")
# short forms that are ordinary words and must not be read as place names
_AMBIGUOUS_SHORT = frozenset(
    {
        "朝阳",
        "东城",
        "西城",
        "丰台",
        "大兴",
        "平谷",
        "延庆",
        "密云",
        "顺义",
        "通州",
        "房山",
        "昌平",
        "怀柔",
        "海淀",
        "石景山",
        "门头沟",
        "中心",
        "花园",
        "新村",
        "东方",
        "和平",
        "光明",
        "幸福",
        "团结",
        "胜利",
        "建设",
        "前进",
        "红星",
        "新华",
        "人民",
        "友谊",
        "阳光",
        "长安",
        "向阳",
        "南街",
        "北街",
        "东街",
        "西街",
        "大街",
        "小区",
        "新城",
        "中街",
        "东里",
        "西里",
        "南里",
        "北里",
        "社区",
        "工厂",
        "农场",
        "医院",
        "学校",
        "部队",
        "大院",
        "宿舍",
    }
)
_DISTRICT_SHORT_OK = frozenset(
    {
        "海淀",
        "丰台",
        "石景山",
        "门头沟",
        "房山",
        "通州",
        "顺义",
        "昌平",
        "大兴",
        "怀柔",
        "平谷",
        "密云",
        "延庆",
        "东城",
        "西城",
        "朝阳",
    }
)


@dataclass(frozen=True)
class Place:
    """A gazetteer entry.

    Attributes:
        kind: ``"district"``, ``"street"`` or ``"community"``.
        name: Official name, e.g. "望京西园社区".
        district: District it lies in.
        street: Street office or town it lies in ("" for districts and streets).
    """

    kind: str
    name: str
    district: str
    street: str


@dataclass
class Gazetteer:
    """Surface forms → places, with a longest-match scanner.

    Attributes:
        forms: Map of surface form → places with that form.
        max_len: Length of the longest surface form.
    """

    forms: dict[str, list[Place]] = field(default_factory=lambda: defaultdict(list))
    max_len: int = 0

    def add(self, form: str, place: Place) -> None:
        """Register a surface form.

        Args:
            form: The text as it may appear.
            place: The place it denotes.
        """
        if len(form) < 2:
            return
        self.forms[form].append(place)
        self.max_len = max(self.max_len, len(form))

    def scan(self, text: str) -> list[tuple[int, int, list[Place]]]:
        """Longest-match scan, left to right, without overlaps.

        Args:
            text: Normalised text.

        Returns:
            ``(start, end, places)`` for each match.
        """
        out: list[tuple[int, int, list[Place]]] = []
        i, n = 0, len(text)
        forms = self.forms
        while i < n:
            for length in range(min(self.max_len, n - i), 1, -1):
                places = forms.get(text[i : i + length])
                if places:
                    out.append((i, i + length, places))
                    i += length
                    break
            else:
                i += 1
        return out


def _usable_short(short: str, kind: str) -> bool:
    """Whether a name without its 社区/街道 suffix is distinctive enough to match alone."""
    if short in _AMBIGUOUS_SHORT or _SUB_AREA.fullmatch(short):
        return False
    if any(c.isdigit() or c.isascii() for c in short) or _NUMBERED.match(short):
        return False  # "六号院" is said as a door number, not as the committee's name
    return len(short) >= (2 if kind == "street" else 3)


def _build() -> Gazetteer:
    gaz = Gazetteer()
    with GAZETTEER_FILE.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            kind, name, short, district, street = line.rstrip("\n").split("\t")
            place = Place(kind, name, district, street)
            gaz.add(name, place)
            if kind == "district":
                continue
            if kind == "street" and short != name:
                for suffix in ("镇", "乡", "街道", "地区"):
                    gaz.add(
                        short + suffix, place
                    )  # "朝阳" alone is too ambiguous; handled by the extractor
            if short != name and _usable_short(short, kind):
                gaz.add(short, place)
            if kind == "community":
                sub = _SUB_AREA.search(short)
                base = short[: sub.start()] if sub else ""
                if len(base) >= 3 and base not in _AMBIGUOUS_SHORT:
                    gaz.add(base, place)
    return gaz


_GAZETTEER: Lazy[Gazetteer] = Lazy(_build)


def load_gazetteer() -> Gazetteer:
    """Return the cached gazetteer (built on first use, ~0.1 s)."""
    return _GAZETTEER.get()


def district_short_ok(short: str) -> bool:
    """Whether a district's short form may stand alone ("海淀那边").

    Args:
        short: District name without 区.

    Returns:
        True for the 16 Beijing district short names.
    """
    return short in _DISTRICT_SHORT_OK
