"""Regenerate the Beijing gazetteer and the jieba user dictionary.

Run ``python -m nlu.build_dictionary`` after changing ``taxonomy.yml`` or to refresh
the gazetteer from jionlp's administrative-division data (``china_location.txt``,
which lists Beijing's districts, street offices/towns and residents' committees).
The outputs are committed, so nothing runs at import or start-up.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ._settings import DATA_DIR, DICTIONARY_DIR

__all__ = ["GAZETTEER_FILE", "USER_DICT_FILE", "build", "main"]

GAZETTEER_FILE = DATA_DIR / "beijing_gazetteer.txt"
USER_DICT_FILE = DICTIONARY_DIR / "jiesu_user_dict.txt"

_STREET_SUFFIXES = ("街道办事处", "街道", "地区办事处", "地区", "镇", "乡")
_COMMUNITY_SUFFIXES = ("社区居委会", "居委会", "社区", "村委会")
_SUB_AREA = re.compile(r"(?:[一二三四五六七八九十东西南北中]+区|[一二三四五六七八九十]+期)$")


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _beijing_rows(source: Path) -> list[tuple[str, str, str, str, str]]:
    """(kind, name, short, district, street) rows for Beijing from jionlp's file."""
    rows: list[tuple[str, str, str, str, str]] = []
    in_beijing = False
    district = street = ""
    with source.open(encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\r\n")
            depth = len(line) - len(line.lstrip("\t"))
            name = line.strip().split("\t")[0] if line.strip() else ""
            if not name:
                continue
            if depth == 0:
                in_beijing = name == "北京市"
                continue
            if not in_beijing:
                continue
            if depth == 2:
                district, street = name, ""
                rows.append(("district", name, _short(name, ("区", "县")), name, ""))
            elif depth == 3:
                street = name
                rows.append(("street", name, _short(name, _STREET_SUFFIXES), district, name))
            elif depth == 4:
                rows.append(
                    ("community", name, _short(name, _COMMUNITY_SUFFIXES), district, street)
                )
    return rows


def build(out_gazetteer: Path = GAZETTEER_FILE, out_dict: Path = USER_DICT_FILE) -> int:
    """Write the gazetteer TSV and the jieba user dictionary.

    Args:
        out_gazetteer: Target of the gazetteer (``kind, name, short, district, street``).
        out_dict: Target of the jieba user dictionary (``word freq tag``).

    Returns:
        Number of gazetteer rows written.
    """
    import jionlp  # heavy; only needed to rebuild

    source = Path(jionlp.__file__).parent / "dictionary" / "china_location.txt"
    rows = _beijing_rows(source)
    out_gazetteer.parent.mkdir(parents=True, exist_ok=True)
    with out_gazetteer.open("w", encoding="utf-8") as fh:
        fh.write("# Beijing districts, streets/towns and communities; from jionlp 1.5.31\n")
        fh.write("# china_location.txt (Apache-2.0). Regenerate: python -m nlu.build_dictionary\n")
        for row in rows:
            fh.write("\t".join(row) + "\n")

    from ._taxonomy import load_taxonomy

    words: dict[str, tuple[int, str]] = {}
    for kind, name, short, _district, _street in rows:
        tag = "ns"
        words[name] = (2000, tag)
        if short != name and len(short) >= 2:
            words.setdefault(short, (1500, tag))
        sub = _SUB_AREA.search(short) if kind == "community" else None
        if sub and len(short) - len(sub.group(0)) >= 2:
            words.setdefault(short[: sub.start()], (1500, tag))
    for leaf in load_taxonomy().leaves:
        for word in leaf.keywords:
            if 2 <= len(word) <= 8 and " " not in word:
                words.setdefault(word, (1000, "n"))
    out_dict.parent.mkdir(parents=True, exist_ok=True)
    with out_dict.open("w", encoding="utf-8") as fh:
        for word, (freq, tag) in sorted(words.items()):
            fh.write(f"{word} {freq} {tag}\n")
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; rebuilds both files.

    Args:
        argv: Ignored (kept for a uniform CLI signature).

    Returns:
        Process exit code.
    """
    count = build()
    print(f"wrote {count} gazetteer rows to {GAZETTEER_FILE} and {USER_DICT_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
