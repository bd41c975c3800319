"""Scan the log files a stack wrote for residents' numbers in clear."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["CLEAR_ID", "CLEAR_PHONE", "leaks_in"]

CLEAR_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
CLEAR_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])")


def leaks_in(log_dir: Path) -> list[str]:
    """``file:line: match`` for each phone or ID number in clear under ``log_dir``."""
    found: list[str] = []
    for path in sorted(log_dir.rglob("*.log")):
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                for pattern in (CLEAR_PHONE, CLEAR_ID):
                    for match in pattern.finditer(line):
                        found.append(f"{path.name}:{number}: {match.group(0)}")
    return found
