"""The two-level complaint taxonomy (``taxonomy.yml``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._lazy import Lazy
from ._settings import TAXONOMY_FILE
from ._types import CategoryLeaf

__all__ = ["GOV_CLASSES", "OTHER", "Taxonomy", "TaxonomyError", "load_taxonomy"]

#: The government classes, in a fixed order.
GOV_CLASSES = (
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
    "其他",
)
#: Name of the catch-all leaf (and class).
OTHER = "其他"
_SEPARATORS = ("›", ">", "/", "＞")


class TaxonomyError(ValueError):
    """The taxonomy file is malformed."""


@dataclass
class Taxonomy:
    """The leaves of the complaint taxonomy with look-ups by name and service code.

    Attributes:
        leaves: All leaves, in file order.
    """

    leaves: list[CategoryLeaf]
    _by_name: dict[str, CategoryLeaf] = field(init=False, repr=False)
    _by_path: dict[str, CategoryLeaf] = field(init=False, repr=False)
    _by_code: dict[str, CategoryLeaf] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {}
        self._by_path = {}
        self._by_code = {}
        for leaf in self.leaves:
            self._by_name.setdefault(leaf.name, leaf)
            self._by_path[leaf.path] = leaf
            self._by_path[f"{leaf.parent}›{leaf.name}"] = leaf
            self._by_code[leaf.service_code.upper()] = leaf

    def get(self, name: str) -> CategoryLeaf | None:
        """Find a leaf by name or by ``"class›leaf"`` path.

        Args:
            name: Leaf name, or a path with ``›``, ``>`` or ``/`` as separator.

        Returns:
            The leaf, or None if unknown.
        """
        if not isinstance(name, str):
            return None
        key = name.strip()
        for sep in _SEPARATORS:
            if sep in key:
                head, _, tail = key.partition(sep)
                return self._by_path.get(f"{head.strip()}›{tail.strip()}")
        return self._by_name.get(key)

    def by_service_code(self, code: str) -> CategoryLeaf | None:
        """Find a leaf by its Open311 service code (case-insensitive).

        Args:
            code: Service code, e.g. ``"HB01"``.

        Returns:
            The leaf, or None.
        """
        if not isinstance(code, str):
            return None
        return self._by_code.get(code.strip().upper())

    @property
    def gov_classes(self) -> list[str]:
        """Government classes present, in first-seen order."""
        return list(dict.fromkeys(leaf.gov_class for leaf in self.leaves))

    def leaves_of(self, gov_class: str) -> list[CategoryLeaf]:
        """All leaves of one government class.

        Args:
            gov_class: Class name.

        Returns:
            The leaves in file order.
        """
        return [leaf for leaf in self.leaves if leaf.gov_class == gov_class]

    def extended(self, extra: Iterable[CategoryLeaf]) -> Taxonomy:
        """A new taxonomy with extra leaves appended (existing names win).

        Args:
            extra: Leaves to add.

        Returns:
            The extended taxonomy.
        """
        known = {leaf.path for leaf in self.leaves}
        added = [leaf for leaf in extra if leaf.path not in known]
        return Taxonomy(list(self.leaves) + added)

    @property
    def other(self) -> CategoryLeaf:
        """The catch-all leaf."""
        leaf = self.get(f"{OTHER}›{OTHER}") or self.get(OTHER)
        assert leaf is not None  # guaranteed by parse_taxonomy
        return leaf


def parse_taxonomy(data: Any) -> Taxonomy:
    """Build a taxonomy from the parsed YAML document.

    Args:
        data: The mapping loaded from ``taxonomy.yml``.

    Returns:
        The taxonomy.

    Raises:
        TaxonomyError: When required fields are missing or duplicated.
    """
    if not isinstance(data, dict) or not isinstance(data.get("classes"), dict):
        raise TaxonomyError("taxonomy needs a 'classes' mapping")
    leaves: list[CategoryLeaf] = []
    codes: set[str] = set()
    for gov_class, spec in data["classes"].items():
        if gov_class not in GOV_CLASSES:
            raise TaxonomyError(f"unknown gov_class {gov_class!r}")
        prefix = str(spec.get("code", "")).strip()
        for index, (name, leaf_spec) in enumerate((spec.get("leaves") or {}).items(), start=1):
            leaf_spec = leaf_spec or {}
            code = str(leaf_spec.get("service_code") or f"{prefix}{index:02d}")
            if code in codes:
                raise TaxonomyError(f"duplicate service code {code}")
            codes.add(code)
            urgency = leaf_spec.get("urgency", "normal")
            if urgency not in ("urgent", "normal"):
                raise TaxonomyError(f"{name}: urgency must be urgent or normal")
            leaves.append(
                CategoryLeaf(
                    name=str(name),
                    parent=str(leaf_spec.get("parent", gov_class)),
                    gov_class=str(gov_class),
                    service_code=code,
                    department=str(leaf_spec.get("department", "")),
                    urgency=urgency,
                    keywords=tuple(str(k) for k in leaf_spec.get("keywords") or ()),
                )
            )
    taxonomy = Taxonomy(leaves)
    if taxonomy.get(f"{OTHER}›{OTHER}") is None:
        raise TaxonomyError("the taxonomy must contain the leaf 其他›其他")
    return taxonomy


def read_taxonomy(path: Path) -> Taxonomy:
    """Read and parse a taxonomy file.

    Args:
        path: YAML file.

    Returns:
        The taxonomy.
    """
    import yaml

    with path.open(encoding="utf-8") as fh:
        return parse_taxonomy(yaml.safe_load(fh))


_TAXONOMY: Lazy[Taxonomy] = Lazy(lambda: read_taxonomy(TAXONOMY_FILE))


def load_taxonomy() -> Taxonomy:
    """Return the built-in taxonomy (parsed once, then cached).

    Returns:
        The taxonomy from ``nlu/taxonomy.yml``.
    """
    return _TAXONOMY.get()
