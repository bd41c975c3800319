"""Problem keys: the reported object and fault of a description, as canonical keys per leaf.

"井盖丢了" and "有个下水井没有盖子" share few characters but the same keys (object 井盖,
fault 缺失); "路灯不亮" and "路灯白天也亮" share the object and differ in the fault. The words
live in ``nlu/data/problem_keys.yml`` (hand-written project data); this module only reads
them and finds them: longest words first, each span of the text used once (so "不亮" is not
also "亮"), ``re:`` entries as regular expressions. The file's ``common:`` words apply to
every leaf (the leaf's own words win), its ``related:`` groups say which different keys may
still name one problem (:func:`agreement`, :func:`unrelated`), and ``object_is_problem:``
lists the leaves whose fault goes without saying (:func:`object_is_problem`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "KEYS_FILE",
    "ProblemKeys",
    "agreement",
    "key_agreement",
    "object_is_problem",
    "problem_keys",
    "unrelated",
]

KEYS_FILE = Path(__file__).resolve().parent / "data" / "problem_keys.yml"
# The pseudo-leaf of the file's ``common:`` words, used for a leaf with no section of its own.
_COMMON = "*"


@dataclass(frozen=True)
class ProblemKeys:
    """The canonical objects and faults found in one description.

    ``vague`` are the faults read only from a word that says little ("坏了", "故障": the
    file's ``vague_words``); :attr:`definite` are the others.
    """

    objects: frozenset[str] = frozenset()
    faults: frozenset[str] = frozenset()
    vague: frozenset[str] = frozenset()

    @property
    def definite(self) -> frozenset[str]:
        """The faults read from a word that says what is wrong."""
        return self.faults - self.vague


@dataclass(frozen=True)
class _Pattern:
    kind: str  # "objects" | "faults"
    key: str
    regex: re.Pattern[str]
    length: int
    word: str


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, Any]:
    """The lexicon file, parsed once per process (every table below is read from it)."""
    data: dict[str, Any] = yaml.safe_load(KEYS_FILE.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def _patterns() -> dict[str, tuple[_Pattern, ...]]:
    """Per leaf name, its patterns with the longest words first (read once per process)."""
    data = _lexicon()
    common = _read_kinds(data.get("common") or {})
    out: dict[str, tuple[_Pattern, ...]] = {}
    for leaf, kinds in (data.get("leaves") or {}).items():
        own = _read_kinds(kinds or {})
        said = {(p.kind, p.word) for p in own}
        # The leaf's own words first; a common word the leaf already files elsewhere is left out.
        patterns = own + [p for p in common if (p.kind, p.word) not in said]
        patterns.sort(key=lambda p: -p.length)  # stable: the leaf's word wins a tie
        out[leaf] = tuple(patterns)
    if common:
        out[_COMMON] = tuple(sorted(common, key=lambda p: -p.length))
    return out


def _read_kinds(kinds: dict[str, dict[str, list[object]]]) -> list[_Pattern]:
    patterns: list[_Pattern] = []
    for kind in ("objects", "faults"):
        for key, words in (kinds.get(kind) or {}).items():
            for raw in words:
                word = str(raw)
                if word.startswith("re:"):
                    patterns.append(_Pattern(kind, key, re.compile(word[3:]), 100, word))
                else:
                    patterns.append(
                        _Pattern(kind, key, re.compile(re.escape(word)), len(word), word)
                    )
    return patterns


@lru_cache(maxsize=1)
def _leaf_by_code() -> dict[str, str]:
    from nlu._taxonomy import load_taxonomy

    return {leaf.service_code: leaf.name for leaf in load_taxonomy().leaves}


def _leaf_name(leaf: str) -> str:
    return _leaf_by_code().get(leaf, leaf)


def problem_keys(leaf: str, text: str) -> ProblemKeys:
    """The object and fault keys of ``text`` under a taxonomy leaf (empty if unknown).

    Objects first, then faults; a fault word lying inside an object word found there does
    not count ("污水" in "污水井盖"), one spanning it does ("白天路灯还亮").

    Args:
        leaf: The taxonomy leaf, by name (``"排水与井盖"``) or service code (``"CX04"``).
        text: The problem description (address words are best taken out first).
    """
    table = _patterns()
    patterns = table.get(_leaf_name(leaf)) or table.get(_COMMON, ())
    used = {"objects": [False] * len(text), "faults": [False] * len(text)}
    found: dict[str, set[str]] = {"objects": set(), "faults": set()}
    definite: set[str] = set()
    vague_words = _vague_words()
    object_spans: list[tuple[int, int]] = []
    for kind in ("objects", "faults"):
        mask = used[kind]
        for pattern in (p for p in patterns if p.kind == kind):
            for match in pattern.regex.finditer(text):
                start, end = match.span()
                if end <= start or any(mask[start:end]):
                    continue
                if kind == "faults" and any(a <= start and end <= b for a, b in object_spans):
                    continue  # "污水" inside the object word "污水井盖" is no fault
                mask[start:end] = [True] * (end - start)
                found[kind].add(pattern.key)
                if kind == "objects":
                    object_spans.append((start, end))
                elif pattern.word not in vague_words:
                    definite.add(pattern.key)
    faults = frozenset(found["faults"])
    return ProblemKeys(frozenset(found["objects"]), faults, faults - definite)


@lru_cache(maxsize=1)
def _vague_words() -> frozenset[str]:
    raw = _lexicon().get("vague_words") or ()
    return frozenset(str(word) for word in raw)


@lru_cache(maxsize=1)
def _related() -> dict[str, dict[str, frozenset[str]]]:
    """Per kind, each key → the keys it may name one problem with (itself included)."""
    groups = _lexicon().get("related") or {}
    out: dict[str, dict[str, frozenset[str]]] = {}
    for kind in ("objects", "faults"):
        table: dict[str, set[str]] = {}
        for group in groups.get(kind) or ():
            for key in group:
                table.setdefault(str(key), {str(key)}).update(str(k) for k in group)
        out[kind] = {k: frozenset(v) for k, v in table.items()}
    return out


def _near(kind: str, keys: frozenset[str]) -> set[str]:
    table = _related().get(kind, {})
    return set().union(*(table.get(key, frozenset((key,))) for key in keys))


def agreement(kind: str, a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the keys on both sides that the other side names too, or a related key
    (``related:`` groups): 1.0 the same, 0.0 nothing in common (or a side without keys)."""
    if not a or not b:
        return 0.0
    hits = sum(1 for k in a if _near(kind, frozenset((k,))) & b)
    hits += sum(1 for k in b if _near(kind, frozenset((k,))) & a)
    return hits / (len(a) + len(b))


def unrelated(kind: str, a: frozenset[str], b: frozenset[str]) -> bool:
    """Both sides name ``kind`` keys ("objects" / "faults") and none of ``a`` is one of
    ``b`` or in a ``related:`` group with one: the keys say "two problems"."""
    return bool(a and b) and not (_near(kind, a) & b)


def object_is_problem(leaf: str) -> bool:
    """Whether the leaf's fault goes without saying (noise, oil smoke, a car parked in the
    way), so that the object alone names the problem (``object_is_problem:`` in the file)."""
    return _leaf_name(leaf) in _object_leaves()


@lru_cache(maxsize=1)
def _object_leaves() -> frozenset[str]:
    return frozenset(str(name) for name in _lexicon().get("object_is_problem") or ())


def key_agreement(a: frozenset[str], b: frozenset[str]) -> float:
    """+1 the same keys, −1 both known and disjoint, 0 unknown; partial overlap in between.

    The Jaccard overlap mapped onto [−1, 1] when both sides have keys; 0 when either has none.
    """
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / len(a | b) - 1.0
