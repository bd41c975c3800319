"""SDP offer/answer (RFC 4566/3264) for one audio stream: PCMU/PCMA + telephone-event."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from speech.codec_g711 import CODECS, Codec
from speech.errors import SdpError

__all__ = ["MediaOffer", "Negotiated", "build_sdp", "negotiate", "parse_sdp"]

_STATIC = {0: ("PCMU", 8000), 8: ("PCMA", 8000)}
DEFAULT_DTMF_PT = 101


@dataclass
class MediaOffer:
    """The audio part of an SDP body."""

    address: str
    port: int
    protocol: str
    formats: list[int]
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)
    direction: str = "sendrecv"
    ptime: int = 20


@dataclass(frozen=True)
class Negotiated:
    """Outcome of offer/answer: where to send, and with what."""

    remote_address: str
    remote_port: int
    codec: Codec
    dtmf_payload_type: int | None
    direction: str = "sendrecv"


def parse_sdp(body: str) -> MediaOffer:
    """Parse the first active audio stream of an SDP body.

    Raises:
        SdpError: Malformed lines, no audio stream, or no usable address.
    """
    lines = [ln.strip() for ln in body.replace("\r\n", "\n").split("\n") if ln.strip()]
    if not lines or not lines[0].startswith("v="):
        raise SdpError("SDP must start with v=")
    session_addr = ""
    media: MediaOffer | None = None
    in_audio = False
    for ln in lines:
        if len(ln) < 2 or ln[1] != "=":
            raise SdpError(f"malformed SDP line {ln[:40]!r}")
        kind, value = ln[0], ln[2:]
        if kind == "m":
            if media is not None:  # only the first audio stream is used
                in_audio = False
                continue
            parts = value.split()
            if len(parts) < 4:
                raise SdpError(f"malformed m= line {value!r}")
            in_audio = parts[0] == "audio"
            if in_audio:
                try:
                    port = int(parts[1].split("/")[0])
                    formats = [int(f) for f in parts[3:]]
                except ValueError as exc:
                    raise SdpError(f"malformed m= line {value!r}") from exc
                if not 0 <= port <= 65535:
                    raise SdpError(f"bad media port {port}")
                media = MediaOffer(session_addr, port, parts[2], formats)
        elif kind == "c":
            addr = _parse_connection(value)
            if media is None:
                session_addr = addr
            elif in_audio:
                media.address = addr
        elif kind == "a" and in_audio and media is not None:
            _parse_attribute(value, media)
    if media is None:
        raise SdpError("SDP has no audio stream")
    if not media.address:
        raise SdpError("SDP has no connection address")
    return media


def _parse_connection(value: str) -> str:
    parts = value.split()
    if len(parts) != 3 or parts[0] != "IN":
        raise SdpError(f"malformed c= line {value!r}")
    if parts[1] != "IP4":
        raise SdpError(f"only IP4 media is supported, got {parts[1]}")
    addr = parts[2].split("/")[0]
    try:
        ipaddress.IPv4Address(addr)
    except ValueError as exc:
        raise SdpError(f"c= address must be an IPv4 literal, got {addr!r}") from exc
    return addr


def _parse_attribute(value: str, media: MediaOffer) -> None:
    name, _, rest = value.partition(":")
    if name == "rtpmap":
        pt_s, _, enc = rest.partition(" ")
        enc_name, _, rate_s = enc.partition("/")
        try:
            media.rtpmap[int(pt_s)] = (enc_name, int(rate_s.split("/")[0]))
        except ValueError as exc:
            raise SdpError(f"malformed rtpmap {rest!r}") from exc
    elif name in ("sendrecv", "sendonly", "recvonly", "inactive"):
        media.direction = name
    elif name == "ptime":
        try:
            media.ptime = int(float(rest))
        except ValueError as exc:
            raise SdpError(f"malformed ptime {rest!r}") from exc


def _encoding(media: MediaOffer, pt: int) -> tuple[str, int] | None:
    return media.rtpmap.get(pt) or _STATIC.get(pt)


def negotiate(media: MediaOffer, allowed: tuple[Codec, ...] = CODECS) -> Negotiated:
    """Choose the codec and DTMF payload type from a remote offer or answer.

    Codecs are taken in the remote's order of preference.

    Raises:
        SdpError: Secure/unknown transport, or no PCMU/PCMA at 8 kHz.
    """
    if media.protocol != "RTP/AVP":
        raise SdpError(f"unsupported media transport {media.protocol}")
    codec: Codec | None = None
    dtmf: int | None = None
    for pt in media.formats:
        enc = _encoding(media, pt)
        if enc is None:
            continue
        name, rate = enc
        if name.lower() == "telephone-event" and rate == 8000 and dtmf is None:
            dtmf = pt
        for c in allowed:
            if codec is None and c.name.lower() == name.lower() and rate == c.clock_rate:
                codec = c if pt == c.payload_type else _with_pt(c, pt)
    if codec is None:
        raise SdpError("no common codec (need PCMU or PCMA at 8000 Hz)")
    return Negotiated(media.address, media.port, codec, dtmf, media.direction)


def _with_pt(codec: Codec, pt: int) -> Codec:
    return Codec(codec.name, pt, codec.clock_rate, codec.encode, codec.decode, codec.silence)


_ANSWER_DIR = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


def build_sdp(
    address: str,
    port: int,
    codecs: tuple[Codec, ...],
    dtmf_payload_type: int | None = DEFAULT_DTMF_PT,
    session_id: int = 0,
    version: int = 0,
    direction: str = "sendrecv",
) -> str:
    """Build an SDP offer (several codecs) or answer (the chosen one)."""
    fmts = [c.payload_type for c in codecs]
    if dtmf_payload_type is not None:
        fmts.append(dtmf_payload_type)
    lines = [
        "v=0",
        f"o=jiesu {session_id} {version} IN IP4 {address}",
        "s=jiesu",
        f"c=IN IP4 {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(str(f) for f in fmts)}",
    ]
    lines += [f"a=rtpmap:{c.payload_type} {c.name}/{c.clock_rate}" for c in codecs]
    if dtmf_payload_type is not None:
        lines += [
            f"a=rtpmap:{dtmf_payload_type} telephone-event/8000",
            f"a=fmtp:{dtmf_payload_type} 0-16",
        ]
    lines += ["a=ptime:20", f"a={direction}"]
    return "\r\n".join(lines) + "\r\n"


def answer_direction(offered: str) -> str:
    """The direction attribute that answers ``offered``."""
    return _ANSWER_DIR.get(offered, "sendrecv")
