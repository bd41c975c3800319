"""Text normalisation: traditional→simplified, full-width→half-width, whitespace."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ._lazy import Lazy

__all__ = ["normalize_text", "normalize_text_aligned"]

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
# zero-width characters, BOM and soft hyphen carry no meaning for us
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def _make_converter() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


_CONVERTER: Lazy[Any] = Lazy(_make_converter)


def _make_char_map() -> dict[str, str]:
    """One-to-one traditional→simplified character map (for offset-preserving use)."""
    from pathlib import Path

    import opencc

    mapping: dict[str, str] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2 and len(parts[0]) == 1:
                target = parts[1].split(" ")[0]
                if len(target) == 1:
                    mapping[parts[0]] = target
    return mapping


_CHAR_MAP: Lazy[dict[str, str]] = Lazy(_make_char_map)


def _half_width_char(ch: str) -> str:
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if code == 0x3000:
        return " "
    if ch.isspace():
        return " "
    if unicodedata.category(ch) == "Cc":
        return " "
    return ch


def normalize_text_aligned(text: str) -> str:
    """Normalise character by character, keeping every offset valid.

    Traditional characters become simplified (one-to-one table), full-width ASCII
    becomes half-width and control characters/odd spaces become plain spaces.  The
    result always has the same length as the input, so entity offsets computed on it
    are valid for the original text (this is what the Rasa ``TextNormalizer`` uses).

    Args:
        text: Any text; non-strings give ``""``.

    Returns:
        The normalised text, of the same length as ``text``.
    """
    if not isinstance(text, str) or not text:
        return ""
    table = _CHAR_MAP.get()
    return "".join(table.get(c, c) for c in map(_half_width_char, text))


def normalize_text(text: str) -> str:
    """Normalise a resident's utterance for the extractors and classifiers.

    Converts traditional to simplified Chinese (OpenCC ``t2s``, phrase aware),
    full-width ASCII to half-width, removes invisible characters, drops spaces between
    Chinese characters (speech recognisers emit them) and collapses other whitespace.
    Never raises.

    Args:
        text: Any text; non-strings and empty strings give ``""``.

    Returns:
        The normalised text.
    """
    if not isinstance(text, str) or not text:
        return ""
    try:
        out = "".join(map(_half_width_char, text.translate(_INVISIBLE)))
        out = _CONVERTER.get().convert(out)
    except Exception:  # pragma: no cover - opencc failure must not break intake
        out = text
    out = _SPACE_BETWEEN_CJK.sub("", out)
    return _SPACES.sub(" ", out).strip()
