"""Checks a UAS makes on a parsed request before acting on it (RFC 3261 §8.2, RFC 4475).

:func:`request_problem` returns the 4xx to answer, or ``None``: a CSeq whose method is not
the request's, single-valued header fields given twice, numbers out of range, a
Request-URI scheme we do not serve, a SIP version with trailing junk, an unbalanced quote
or a space inside an address, an extension in ``Require`` we do not support.  (Junk after
the version in the request line is refused by the parser.)
"""

from __future__ import annotations

import re

from speech.sip.message import SipMessage

__all__ = ["SUPPORTED_EXTENSIONS", "request_problem"]

#: Extensions this UA implements (``Require`` asking for another gets 420).
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset()
_SINGLE = ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type")
_SCHEMES = ("sip", "sips", "tel")
_MAX_CSEQ = 2**31 - 1
_CSEQ = re.compile(r"^\s*(\d{1,10})\s+([!%'*+\-.0-9A-Z_`a-z~]+)\s*$")


def _address_problem(value: str) -> str | None:
    if value.count('"') % 2:
        return "unterminated quoted string"
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', value)
    if "<" in unquoted:
        display, _, rest = unquoted.partition("<")
        spec = rest.partition(">")[0]
        if display.strip() and not re.fullmatch(r'""|[\w.!%*+`\'~\- ]+', display.strip()):
            return "display name must be a token or quoted"
    else:
        spec = unquoted.partition(";")[0]
    if re.search(r"\s", spec.strip()):
        return "white space inside an address"
    return None


def request_problem(msg: SipMessage) -> tuple[int, str, list[tuple[str, str]]] | None:
    """``(status, reason, extra headers)`` when the request must be refused, else ``None``."""
    for name in _SINGLE:
        if len(msg.get_all(name)) > 1:
            return 400, f"Bad Request (more than one {name})", []
    match = _CSEQ.match(msg.get("CSeq"))
    if match is None or int(match.group(1)) > _MAX_CSEQ:
        return 400, "Bad Request (CSeq)", []
    if msg.method not in ("ACK", "CANCEL") and match.group(2).upper() != msg.method:
        return 400, "Bad Request (CSeq method is not the request's)", []
    max_forwards = msg.get("Max-Forwards").strip()
    if max_forwards and (not max_forwards.isdigit() or int(max_forwards) > 255):
        return 400, "Bad Request (Max-Forwards)", []
    scheme = msg.uri.partition(":")[0].lower()
    if "<" in msg.uri or ">" in msg.uri:
        return 400, "Bad Request (Request-URI in <>)", []
    if scheme not in _SCHEMES:
        return 416, "Unsupported URI Scheme", []
    for name in ("From", "To"):
        problem = _address_problem(msg.get(name))
        if problem:
            return 400, f"Bad Request ({name}: {problem})", []
    if msg.method not in ("ACK", "CANCEL"):
        wanted = [t.strip() for v in msg.get_all("Require") for t in v.split(",") if t.strip()]
        unsupported = [t for t in wanted if t not in SUPPORTED_EXTENSIONS]
        if unsupported:
            return 420, "Bad Extension", [("Unsupported", ", ".join(unsupported))]
    return None
