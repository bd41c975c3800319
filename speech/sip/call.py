"""A SIP dialog and the call object handed to the call flow."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

from speech.errors import SipParseError, TransferFailed
from speech.sip.message import SipMessage, new_branch, parse_name_addr, parse_uri
from speech.sip.rtp_session import MediaSession, Playback

if TYPE_CHECKING:
    from speech.sip.ua import SipUA

__all__ = ["Call", "Dialog", "caller_number", "normalise_number", "remote_user_of"]

log = logging.getLogger("jiesu.speech.sip")
Addr = tuple[str, int]


@dataclass
class Dialog:
    """Dialog state (RFC 3261 §12) from our side."""

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str
    remote_uri: str
    remote_target: str
    peer: Addr
    local_contact: str
    route_set: list[str] = field(default_factory=list)
    local_cseq: int = 1

    def request(
        self,
        method: str,
        via: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        content_type: str = "",
    ) -> SipMessage:
        """Build an in-dialog request (new CSeq, new branch)."""
        if method != "ACK":
            self.local_cseq += 1
        msg = SipMessage(method=method, uri=self.remote_target)
        msg.add("Via", f"{via};branch={new_branch()};rport")
        msg.add("Max-Forwards", "70")
        msg.add("From", f"<{self.local_uri}>;tag={self.local_tag}")
        msg.add(
            "To", f"<{self.remote_uri}>" + (f";tag={self.remote_tag}" if self.remote_tag else "")
        )
        msg.add("Call-ID", self.call_id)
        msg.add("CSeq", f"{self.local_cseq} {method}")
        for route in self.route_set:
            msg.add("Route", route)
        msg.add("Contact", self.local_contact)
        for k, v in headers or []:
            msg.add(k, v)
        if body:
            msg.add("Content-Type", content_type)
            msg.body = body
        return msg


class Call:
    """One established call.  Audio in: ``media.inbound``; audio out: :meth:`play`.

    Attributes:
        call_id: SIP Call-ID.
        direction: ``in`` (resident called us) or ``out`` (we called, e.g. a survey).
        remote_user: The caller's number (``P-Asserted-Identity``, else From; ``+`` and
            digits) for calls in, the callee's user from To for calls out.
        ended: Set when the call is over; :attr:`end_reason` says why.
    """

    def __init__(
        self,
        ua: SipUA,
        dialog: Dialog,
        media: MediaSession,
        direction: Literal["in", "out"],
        remote_user: str,
    ) -> None:
        self.ua = ua
        self.dialog = dialog
        self.media = media
        self.direction = direction
        self.remote_user = remote_user
        self.ended = asyncio.Event()
        self.end_reason = ""
        self._notify: asyncio.Queue[int] = asyncio.Queue()

    @property
    def call_id(self) -> str:
        """The SIP Call-ID."""
        return self.dialog.call_id

    def play(self, pcm8k: bytes) -> Playback:
        """Queue 8 kHz PCM for the caller."""
        return self.media.play(pcm8k)

    def end(self, reason: str) -> None:
        """Mark the call over and release media (no signalling)."""
        if self.ended.is_set():
            return
        self.end_reason = reason
        self.ended.set()
        self.ua.forget(self)
        log.info("call %s ended: %s", self.call_id, reason)

    async def hangup(self, reason: str = "local_bye") -> None:
        """Send BYE (if still up) and end the call."""
        if self.ended.is_set():
            return
        self.media.stop_playback()
        bye = self.dialog.request("BYE", self.ua.via())
        self.end(reason)
        try:
            await self.ua.transactions.request(bye, self.dialog.peer, timeout_s=8)
        except asyncio.TimeoutError:
            log.warning("no answer to BYE for call %s", self.call_id)

    async def transfer(self, target: str, timeout_s: float = 30.0) -> None:
        """Blind transfer (REFER, RFC 3515) to ``target``, then hang up.

        Raises:
            TransferFailed: REFER rejected, NOTIFY reports failure, or timeout.
        """
        parse_uri(target)
        refer = self.dialog.request(
            "REFER", self.ua.via(),
            [("Refer-To", f"<{target}>"), ("Referred-By", f"<{self.dialog.local_uri}>")],
        )  # fmt: skip
        try:
            resp = await self.ua.transactions.request(refer, self.dialog.peer, timeout_s=8)
        except asyncio.TimeoutError as exc:
            raise TransferFailed("REFER timed out", 408, self.call_id) from exc
        if resp.status >= 300:
            raise TransferFailed(f"REFER rejected: {resp.status}", resp.status, self.call_id)
        status = await self._wait_transfer(timeout_s)
        if status >= 300:
            raise TransferFailed(f"transfer failed: {status}", status, self.call_id)
        await self.hangup("transferred")

    async def _wait_transfer(self, timeout_s: float) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        ended = asyncio.ensure_future(self.ended.wait())
        try:
            while True:
                get = asyncio.ensure_future(self._notify.get())
                done, _ = await asyncio.wait(
                    {get, ended}, timeout=max(0.0, deadline - loop.time()),
                    return_when=asyncio.FIRST_COMPLETED,
                )  # fmt: skip
                if get in done:
                    status = get.result()
                    if status >= 200:
                        return status
                    continue
                get.cancel()
                if ended in done:
                    return 200  # the peer hung up on us after taking the call
                raise TransferFailed("no final NOTIFY for REFER", 408, self.call_id)
        finally:
            ended.cancel()

    def on_notify(self, msg: SipMessage) -> None:
        """Handle a NOTIFY carrying a REFER progress sipfrag (``SIP/2.0 200 OK``)."""
        first = msg.body.decode(errors="replace").strip().split("\n", 1)[0]
        parts = first.split()
        if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit():
            self._notify.put_nowait(int(parts[1]))


_PHONE_SEPARATORS = re.compile(r"[\s().\-]")
_PHONE = re.compile(r"\+?\d{3,20}")


def normalise_number(user: str) -> str:
    """A URI user part as a caller number: ``+`` and digits only (visual separators,
    RFC 3966 ``-``/``.``/``()``, are dropped).  Not a number: returned as it is
    (``"caller"``), except RFC 3323's ``anonymous`` which gives ``""``."""
    user = unquote(user.split(";", 1)[0]).strip()
    compact = _PHONE_SEPARATORS.sub("", user)
    if _PHONE.fullmatch(compact):
        return compact
    return "" if user.lower() == "anonymous" else user


def remote_user_of(value: str) -> str:
    """User part of a From/To header value (the caller's number), normalised."""
    try:
        return normalise_number(parse_uri(parse_name_addr(value).uri).user)
    except SipParseError:
        return ""


def caller_number(req: SipMessage) -> str:
    """Who is calling: the first number in ``P-Asserted-Identity`` (RFC 3325, set by a
    trusted carrier network; a ``sip:`` and a ``tel:`` value may both be there),
    otherwise the user of ``From``.  ``+`` and digits when it is a number."""
    for header in req.get_all("P-Asserted-Identity"):
        for value in _split_identities(header):
            number = remote_user_of(value)
            if _PHONE.fullmatch(number):
                return number
    return remote_user_of(req.get("From"))


def _split_identities(header: str) -> list[str]:
    """Comma-separated name-addrs (commas inside ``<>`` or quotes kept)."""
    out, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(header):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            out.append(header[start:i])
            start = i + 1
    out.append(header[start:])
    return [v.strip() for v in out if v.strip()]
