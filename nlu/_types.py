"""Value types returned by the public NLU functions."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CategoryLeaf", "CategoryPrediction", "Emergency", "Location", "TimeMention"]


@dataclass(frozen=True)
class Location:
    """An address as the resident said it, split into administrative parts.

    Attributes:
        full: The address span as said, trimmed of fillers ("那个", "就是" ...).
        province: Province-level unit, e.g. "北京市".
        city: City, e.g. "北京市".
        district: District (区/县), e.g. "朝阳区".
        street: Street office or town, e.g. "望京街道"; the road when no street office
            is named (so older callers still get "中关村大街").
        community: Residential compound or village (小区/园/里/村/社区).
        building: Building number including its suffix, e.g. "3号楼".
        unit: Entrance unit, e.g. "2单元".
        room: Room number, e.g. "501" or "501室".
        road: Road, street, hutong or lane, e.g. "清华东路" or "东四十条".
        house_number: Door number on a road or in a compound, e.g. "甲22号" or "17号院".
    """

    full: str
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    community: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    road: str | None = None
    house_number: str | None = None


@dataclass(frozen=True)
class TimeMention:
    """A time expression found in an utterance.

    Attributes:
        text: The span as said.
        kind: ``"point"``, ``"span"`` or ``"recurring"``.
        iso: ISO 8601 rendering: a date-time for points, ``start/end`` for spans and
            ``R/start/period`` for recurring times.
        description: A short human-readable description, e.g. ``"每天 00:00以后"``.
        start: Start offset of ``text`` in the (normalised) input, or -1 if unknown.
        end: End offset (exclusive) of ``text``, or -1 if unknown.
    """

    text: str
    kind: str
    iso: str
    description: str = ""
    start: int = -1
    end: int = -1


@dataclass(frozen=True)
class Emergency:
    """A detected emergency that must be redirected to 110/119/120.

    Attributes:
        kind: One of fire, gas, violence, injury, trapped, collapse, flood, medical.
        numbers: Emergency numbers to call, e.g. ``("119",)`` or ``("119", "120")``.
        matched: The text that triggered the detection.
    """

    kind: str
    numbers: tuple[str, ...]
    matched: str


@dataclass(frozen=True)
class CategoryLeaf:
    """One leaf of the two-level complaint taxonomy.

    Attributes:
        name: Leaf name, e.g. "噪音扰民".
        parent: Second-level parent name shown to staff, e.g. "环境保护".
        gov_class: One of the government classes (城乡建设, 环境保护, ...; 其他).
        service_code: Open311 service code.
        department: Handling department.
        urgency: ``"urgent"`` or ``"normal"``.
        keywords: Lexicon words typical for the leaf.
    """

    name: str
    parent: str
    gov_class: str
    service_code: str
    department: str
    urgency: str = "normal"
    keywords: tuple[str, ...] = field(default=(), compare=False)

    @property
    def path(self) -> str:
        """The ``"class›leaf"`` path of this leaf."""
        return f"{self.gov_class}›{self.name}"


@dataclass(frozen=True)
class CategoryPrediction:
    """The category assigned to a complaint.

    Attributes:
        leaf: Leaf name.
        gov_class: Government class of the leaf.
        service_code: Open311 service code of the leaf.
        confidence: Probability-like score of ``leaf`` in ``[0, 1]``.
        top3: Up to three ``(leaf name, score)`` pairs, best first.
        low_confidence: True if ``confidence`` is under the configured threshold.
        fused: True if the sentence encoder took part (the classifying turn); False for
            the TF-IDF part alone.
    """

    leaf: str
    gov_class: str
    service_code: str
    confidence: float
    top3: tuple[tuple[str, float], ...]
    low_confidence: bool = False
    fused: bool = False
