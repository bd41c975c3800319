"""Digest authentication for requests we send (RFC 3261 §22, RFC 2617, RFC 7616).

A SIP trunk that does not trust the gateway by IP challenges an outbound
INVITE with ``401`` (``WWW-Authenticate``) or ``407`` (``Proxy-Authenticate``);
the INVITE is then sent again with ``Authorization`` / ``Proxy-Authorization``.
Pure functions, no I/O, so the arithmetic is checked against the RFC vectors.

Supported: ``MD5`` (what trunks and PBXs use), ``MD5-sess``, ``SHA-256`` and
``SHA-256-sess`` (RFC 7616); ``qop=auth`` preferred, ``auth-int`` when it is
the only one offered, and the RFC 2069 form when no ``qop`` is offered.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from speech.errors import SipAuthError

__all__ = ["Challenge", "Credentials", "authorization", "parse_challenges"]

# Algorithm name (case-insensitive) -> (hashlib name, is a -sess variant).
_ALGORITHMS = {
    "md5": ("md5", False),
    "md5-sess": ("md5", True),
    "sha-256": ("sha256", False),
    "sha-256-sess": ("sha256", True),
}
# Answering header for the header that challenged.
ANSWER_HEADER = {"WWW-Authenticate": "Authorization", "Proxy-Authenticate": "Proxy-Authorization"}


@dataclass(frozen=True)
class Credentials:
    """A trunk account; ``password`` is kept out of ``repr`` (it ends up in logs)."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=***)"


@dataclass(frozen=True)
class Challenge:
    """One ``Digest`` challenge of a 401/407.

    Attributes:
        header: ``WWW-Authenticate`` or ``Proxy-Authenticate`` (decides the answer's header).
        realm, nonce, opaque, algorithm: As sent by the server.
        qop: The qop options offered (empty: RFC 2069 server).
        stale: The previous nonce was merely old; the same password is worth retrying.
    """

    header: str
    realm: str
    nonce: str
    opaque: str = ""
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    stale: bool = False

    @property
    def supported(self) -> bool:
        """True when we can compute this algorithm."""
        return self.algorithm.lower() in _ALGORITHMS

    @property
    def answer_header(self) -> str:
        """``Authorization`` for 401, ``Proxy-Authorization`` for 407."""
        return ANSWER_HEADER[self.header]


def _auth_params(text: str) -> dict[str, str]:
    """Parse ``k=v, k="quoted, with \\" escapes"`` into a dict (lower-case keys)."""
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            break
        key = text[i:eq].strip().lower()
        i = eq + 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            value: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
            i += 1  # closing quote
            params[key] = "".join(value)
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            params[key] = text[i:end].strip()
            i = end
    return params


def parse_challenges(header: str, values: list[str]) -> list[Challenge]:
    """The ``Digest`` challenges among the values of ``header`` (other schemes skipped).

    Raises:
        SipAuthError: A Digest challenge without ``realm`` or ``nonce``.
    """
    out: list[Challenge] = []
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() != "digest":
            continue
        p = _auth_params(rest)
        if "realm" not in p or "nonce" not in p:
            raise SipAuthError(f"{header} without realm or nonce: {value[:80]!r}")
        qop = tuple(q.strip().lower() for q in p.get("qop", "").split(",") if q.strip())
        out.append(Challenge(
            header, p["realm"], p["nonce"], p.get("opaque", ""), p.get("algorithm", "MD5"), qop,
            p.get("stale", "").lower() == "true",
        ))  # fmt: skip
    return out


def _h(algorithm: str, data: str | bytes) -> str:
    name, _ = _ALGORITHMS[algorithm.lower()]
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.new(name, raw).hexdigest()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def digest_response(
    ch: Challenge,
    creds: Credentials,
    method: str,
    uri: str,
    body: bytes = b"",
    cnonce: str = "",
    nc: int = 1,
) -> tuple[str, str]:
    """``(response, qop)`` for ``ch``; qop is ``""`` for the RFC 2069 form.

    Raises:
        SipAuthError: The algorithm is not one we implement.
    """
    if not ch.supported:
        raise SipAuthError(f"unsupported digest algorithm {ch.algorithm!r}")
    alg = ch.algorithm
    ha1 = _h(alg, f"{creds.username}:{ch.realm}:{creds.password}")
    if _ALGORITHMS[alg.lower()][1]:
        ha1 = _h(alg, f"{ha1}:{ch.nonce}:{cnonce}")
    qop = "auth" if "auth" in ch.qop else "auth-int" if "auth-int" in ch.qop else ""
    a2 = f"{method}:{uri}" + (f":{_h(alg, body)}" if qop == "auth-int" else "")
    ha2 = _h(alg, a2)
    if not qop:
        return _h(alg, f"{ha1}:{ch.nonce}:{ha2}"), ""
    return _h(alg, f"{ha1}:{ch.nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}"), qop


def authorization(
    ch: Challenge,
    creds: Credentials,
    method: str,
    uri: str,
    body: bytes = b"",
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """The value of the ``Authorization``/``Proxy-Authorization`` header answering ``ch``.

    ``uri`` must be the Request-URI of the request being authorised.

    Raises:
        SipAuthError: The algorithm is not one we implement.
    """
    cnonce = secrets.token_hex(8) if cnonce is None else cnonce
    response, qop = digest_response(ch, creds, method, uri, body, cnonce, nc)
    parts = [
        f"username={_quote(creds.username)}", f"realm={_quote(ch.realm)}",
        f"nonce={_quote(ch.nonce)}", f"uri={_quote(uri)}", f"response={_quote(response)}",
        f"algorithm={ch.algorithm}",
    ]  # fmt: skip
    if qop:
        parts += [f"cnonce={_quote(cnonce)}", f"qop={qop}", f"nc={nc:08x}"]
    if ch.opaque:
        parts.append(f"opaque={_quote(ch.opaque)}")
    return "Digest " + ", ".join(parts)
