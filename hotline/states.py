"""The base of the stack's state enums: members are their own text.

Survey, outbox and channel states are stored in database columns and sent in JSON as plain
strings; a ``str`` enum compares equal to that text, and ``str()`` gives the value, not
``Class.MEMBER``.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["TextEnum"]


class TextEnum(str, Enum):
    """An enum whose members are strings and print as their value."""

    def __str__(self) -> str:
        return self.value
