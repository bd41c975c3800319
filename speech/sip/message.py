"""SIP messages (RFC 3261): parse, inspect, build.  Pure, no I/O."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from speech.errors import SipParseError

__all__ = [
    "NameAddr",
    "SipMessage",
    "SipUri",
    "new_branch",
    "new_tag",
    "parse_message",
    "parse_name_addr",
    "parse_uri",
]

_COMPACT = {
    "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
    "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To",
    "v": "Via", "r": "Refer-To", "b": "Referred-By", "o": "Event", "u": "Allow-Events",
}  # fmt: skip
_CANON = {
    n.lower(): n
    for n in (
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Type", "Content-Length",
        "Max-Forwards", "Route", "Record-Route", "Refer-To", "Referred-By", "Event",
        "Subscription-State", "Allow", "Supported", "User-Agent", "Server", "Warning",
        "Reason", "Require", "Accept", "Subject", "Expires",
    )
}  # fmt: skip
_REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
_MAX_SIZE = 65535


def canonical(name: str) -> str:
    """Canonical spelling of a header name (expands compact forms)."""
    name = name.strip()
    low = name.lower()
    if low in _COMPACT:
        return _COMPACT[low]
    return _CANON.get(low, name)


def new_tag() -> str:
    """A random From/To tag."""
    return secrets.token_hex(6)


def new_branch() -> str:
    """A random RFC 3261 Via branch (magic cookie prefix)."""
    return "z9hG4bK" + secrets.token_hex(8)


@dataclass
class SipMessage:
    """A request (``method`` set) or a response (``status`` set)."""

    method: str = ""
    uri: str = ""
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        """True for requests."""
        return bool(self.method)

    def get(self, name: str, default: str = "") -> str:
        """First value of header ``name`` (case-insensitive, compact forms ok)."""
        name = canonical(name)
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, comma-separated lines split for Via/Route."""
        name = canonical(name)
        out: list[str] = []
        for k, v in self.headers:
            if k == name:
                out.extend(_split_commas(v) if name in ("Via", "Route", "Record-Route") else [v])
        return out

    def set(self, name: str, value: str) -> None:
        """Replace all ``name`` headers with one value."""
        name = canonical(name)
        self.headers = [(k, v) for k, v in self.headers if k != name]
        self.headers.append((name, value))

    def add(self, name: str, value: str) -> None:
        """Append a header."""
        self.headers.append((canonical(name), value))

    @property
    def call_id(self) -> str:
        """The Call-ID."""
        return self.get("Call-ID")

    @property
    def cseq(self) -> tuple[int, str]:
        """(number, method) of the CSeq header."""
        num, _, method = self.get("CSeq").strip().partition(" ")
        return int(num), method.strip()

    @property
    def branch(self) -> str:
        """The branch parameter of the top Via."""
        vias = self.get_all("Via")
        return _param(vias[0], "branch") if vias else ""

    def to_bytes(self) -> bytes:
        """Serialise; Content-Length is always recomputed."""
        if self.is_request:
            first = f"{self.method} {self.uri} SIP/2.0"
        else:
            first = f"SIP/2.0 {self.status} {self.reason}"
        lines = [first]
        lines += [f"{k}: {v}" for k, v in self.headers if k != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def _split_commas(value: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, False
    for ch in value:
        if ch == '"':
            quote = not quote
        elif not quote and ch == "<":
            depth += 1
        elif not quote and ch == ">":
            depth -= 1
        if ch == "," and not quote and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _param(value: str, name: str) -> str:
    for part in value.split(";")[1:]:
        k, _, v = part.partition("=")
        if k.strip().lower() == name:
            return v.strip()
    return ""


def parse_message(data: bytes) -> SipMessage:
    """Parse one datagram.

    Raises:
        SipParseError: Bad start line, header syntax, missing mandatory headers,
            bad CSeq, or a body shorter than Content-Length.  ``call_id`` is set
            when it could be read, so the caller can still answer 400.
    """
    if len(data) > _MAX_SIZE:
        raise SipParseError("message too large", 413)
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("headers are not UTF-8") from exc
    raw_lines = text.replace("\r\n", "\n").split("\n")
    while raw_lines and not raw_lines[0].strip():
        raw_lines.pop(0)  # keep-alive CRLFs before the message
    if not raw_lines:
        raise SipParseError("empty message")
    msg = _start_line(raw_lines[0])
    lines: list[str] = []
    for ln in raw_lines[1:]:
        if ln[:1] in (" ", "\t") and lines:
            lines[-1] += " " + ln.strip()  # header folding
        elif ln.strip():
            lines.append(ln)
    for ln in lines:
        name, colon, value = ln.partition(":")
        if not colon or not _TOKEN.match(name.strip()):
            raise SipParseError(f"malformed header line {ln[:40]!r}", call_id=msg.call_id)
        msg.add(name, value.strip())
    call_id = msg.call_id
    for h in _REQUIRED:
        if not msg.get(h):
            raise SipParseError(f"missing {h} header", call_id=call_id)
    try:
        num, method = msg.cseq
    except ValueError as exc:
        raise SipParseError("malformed CSeq", call_id=call_id) from exc
    if not method or (msg.is_request and method != msg.method):
        raise SipParseError("CSeq method does not match", call_id=call_id)
    if not 0 <= num < 2**31:
        raise SipParseError("CSeq number out of range", call_id=call_id)
    length = msg.get("Content-Length")
    if length:
        try:
            n = int(length)
        except ValueError as exc:
            raise SipParseError("malformed Content-Length", call_id=call_id) from exc
        if n < 0 or n > len(body):
            raise SipParseError("body shorter than Content-Length", call_id=call_id)
        body = body[:n]
    msg.body = body
    return msg


def _start_line(line: str) -> SipMessage:
    parts = line.lstrip().rstrip("\r\n").split(" ", 2)
    if len(parts) < 3:
        raise SipParseError(f"malformed start line {line[:60]!r}")
    if parts[0] == "SIP/2.0":
        try:
            status = int(parts[1])
        except ValueError as exc:
            raise SipParseError("malformed status code") from exc
        if not 100 <= status <= 699:
            raise SipParseError("status code out of range")
        return SipMessage(status=status, reason=parts[2])
    method, uri, version = parts
    if version != "SIP/2.0" or not _TOKEN.match(method) or ":" not in uri:
        raise SipParseError(f"malformed request line {line[:60]!r}")
    return SipMessage(method=method.upper(), uri=uri)


@dataclass(frozen=True)
class SipUri:
    """A sip:/sips:/tel: URI split into parts."""

    scheme: str
    user: str
    host: str
    port: int | None
    params: str = ""

    def __str__(self) -> str:
        if self.scheme == "tel":
            return f"tel:{self.user}"
        userinfo = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        params = f";{self.params}" if self.params else ""
        return f"{self.scheme}:{userinfo}{self.host}{port}{params}"


def parse_uri(text: str) -> SipUri:
    """Parse ``sip:user@host:port;params`` (or ``tel:+86…``).

    Raises:
        SipParseError: Unsupported scheme or bad port.
    """
    text = text.strip()
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in ("sip", "sips", "tel"):
        raise SipParseError(f"unsupported URI {text[:60]!r}")
    if scheme == "tel":
        return SipUri("tel", rest.split(";")[0], "", None)
    rest, _, _headers = rest.partition("?")
    user, at, hostpart = rest.rpartition("@")  # the user may carry ;params (phone-context)
    if not at:
        user, hostpart = "", rest
    hostport, _, params = hostpart.partition(";")
    host, _, port_s = hostport.partition(":")
    if hostport.startswith("["):  # IPv6 reference
        host, _, port_s = hostport[1:].partition("]")
        port_s = port_s.lstrip(":")
    try:
        port = int(port_s) if port_s else None
    except ValueError as exc:
        raise SipParseError(f"bad port in URI {text[:60]!r}") from exc
    if not host:
        raise SipParseError(f"URI without host {text[:60]!r}")
    return SipUri(scheme, user.split(":")[0], host, port, params)


@dataclass(frozen=True)
class NameAddr:
    """A From/To/Contact/Refer-To value: display name, URI, header params."""

    display: str
    uri: str
    params: str = ""

    @property
    def tag(self) -> str:
        """The ``tag`` parameter (From/To)."""
        return _param(";" + self.params, "tag") if self.params else ""

    def with_tag(self, tag: str) -> str:
        """Render with ``tag`` set."""
        params = ";".join(
            p for p in self.params.split(";") if p and not p.lower().startswith("tag=")
        )
        params = f"{params};tag={tag}" if params else f"tag={tag}"
        return str(NameAddr(self.display, self.uri, params))

    def __str__(self) -> str:
        disp = f'"{self.display}" ' if self.display else ""
        params = f";{self.params}" if self.params else ""
        return f"{disp}<{self.uri}>{params}"


def parse_name_addr(value: str) -> NameAddr:
    """Parse ``"Name" <uri>;params`` or ``uri;params``.

    Raises:
        SipParseError: Unbalanced angle brackets.
    """
    value = value.strip()
    if "<" in value:
        display, _, rest = value.partition("<")
        uri, close, params = rest.partition(">")
        if not close:
            raise SipParseError(f"unbalanced <> in {value[:60]!r}")
        return NameAddr(display.strip().strip('"'), uri.strip(), params.strip().lstrip(";"))
    uri, _, params = value.partition(";")
    return NameAddr("", uri.strip(), params.strip())


def via_param(via: str, name: str) -> str:
    """A parameter of one Via value (``branch``, ``rport``, ``received``)."""
    return _param(via, name)
