"""Building SIP responses, including for requests too broken to parse."""

from __future__ import annotations

from speech.sip.message import SipMessage, parse_name_addr

__all__ = ["build_response", "lenient_reply"]

_REASONS = {
    100: "Trying", 180: "Ringing", 200: "OK", 202: "Accepted", 400: "Bad Request",
    405: "Method Not Allowed", 408: "Request Timeout", 413: "Request Entity Too Large",
    481: "Call/Transaction Does Not Exist", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 500: "Server Internal Error", 501: "Not Implemented",
    503: "Service Unavailable",
}  # fmt: skip


def build_response(req: SipMessage, status: int, to_tag: str = "", reason: str = "") -> SipMessage:
    """A response to ``req`` copying Via/From/To/Call-ID/CSeq (RFC 3261 §8.2.6)."""
    resp = SipMessage(status=status, reason=reason or _REASONS.get(status, "Unknown"))
    for via in req.get_all("Via"):
        resp.add("Via", via)
    resp.add("From", req.get("From"))
    to = req.get("To")
    if to_tag and not parse_name_addr(to).tag and status > 100:
        to = f"{to};tag={to_tag}"
    resp.add("To", to)
    resp.add("Call-ID", req.call_id)
    resp.add("CSeq", req.get("CSeq"))
    resp.add("Server", "jiesu")
    return resp


def lenient_reply(data: bytes, status: int, reason: str) -> bytes | None:
    """Answer an unparseable request when its Via/From/To/Call-ID/CSeq can be read."""
    text = data.decode("utf-8", errors="replace")
    first, _, rest = text.partition("\n")
    if first.startswith("SIP/2.0") or " SIP/2.0" not in first:
        return None
    wanted = {"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
              "call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}  # fmt: skip
    found: dict[str, list[str]] = {}
    for line in rest.split("\n"):
        if not line.strip():
            break
        name, colon, value = line.partition(":")
        key = wanted.get(name.strip().lower())
        if colon and key:
            found.setdefault(key, []).append(value.strip())
    if not all(k in found for k in ("Via", "From", "To", "Call-ID", "CSeq")):
        return None
    resp = SipMessage(status=status, reason=reason[:80].replace("\r", " ").replace("\n", " "))
    for k in ("Via", "From", "To", "Call-ID", "CSeq"):
        for v in found[k]:
            resp.add(k, v)
    return resp.to_bytes()
