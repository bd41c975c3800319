"""A compact SIP user agent over UDP for the hotline bot.

Supports what a PBX trunk needs for this service: incoming INVITE with SDP
offer (100/180/200, retransmitting 200 until ACK), CANCEL, BYE both ways,
OPTIONS, INFO (dtmf-relay), REFER for blind transfer with NOTIFY tracking,
outbound INVITE (:meth:`SipUA.place_call`), several calls at once, and a 400
or 488 answer for malformed requests or SDP instead of a crash.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

from hotline.throttle import ChatThrottle, Verdict
from speech.clock import Clock, MonotonicClock
from speech.errors import SdpError, SipError, SipParseError
from speech.settings import PhoneSettings
from speech.sip.call import Call, Dialog, caller_number
from speech.sip.message import (
    SipMessage,
    new_tag,
    parse_message,
    parse_name_addr,
)
from speech.sip.outbound import place_call
from speech.sip.response import build_response, lenient_reply
from speech.sip.rtp_session import DtmfIn, MediaSession, Pacer
from speech.sip.sdp import answer_direction, build_sdp, negotiate, parse_sdp
from speech.sip.transaction import T1, T2, ClientTransactions
from speech.sip.validate import request_problem

__all__ = ["CallHandler", "SipUA"]

log = logging.getLogger("jiesu.speech.sip")
Addr = tuple[str, int]
CallHandler = Callable[[Call], Awaitable[None]]
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY"
ACK_KEEP_S = 32.0  # timer D for UDP (RFC 3261 §17.1.1.2)


@dataclass
class _ServerInvite:
    request: SipMessage
    source: Addr
    to_tag: str
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    last_response: bytes = b""
    final_status: int = 0


class SipUA(asyncio.DatagramProtocol):
    """SIP endpoint on one UDP socket; hands answered incoming calls to ``on_call``.

    Args:
        settings: Addresses, limits and timers.
        on_call: Coroutine run for each incoming call once ACKed; the call is
            hung up when it returns.
        clock: Time source for media.
    """

    def __init__(
        self,
        settings: PhoneSettings,
        on_call: CallHandler | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.on_call = on_call
        self.clock = clock or MonotonicClock()
        self.pacer = Pacer(self.clock)
        self.transactions = ClientTransactions(self._send)
        self.calls: dict[str, Call] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self._invites: dict[str, _ServerInvite] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_rtp = settings.rtp_port_min
        self._acks: dict[str, tuple[bytes, Addr]] = {}
        # New INVITEs per source address (a flood gets 503, see _on_invite).
        self._invite_limit = ChatThrottle(
            settings.invite_burst, settings.invite_rate_per_min, self.clock.now
        )

    # -- lifecycle --------------------------------------------------------
    async def start(self) -> None:
        """Bind the SIP socket and start RTP pacing."""
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.settings.sip_host, self.settings.sip_port)
        )
        self.pacer.start()
        log.info("SIP UA listening on udp:%s:%d", *self.local_address)

    async def stop(self) -> None:
        """Hang up every call, then close the socket."""
        await asyncio.gather(
            *(c.hangup("shutdown") for c in list(self.calls.values())), return_exceptions=True
        )
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pacer.stop()
        if self.transport is not None:
            self.transport.close()

    @property
    def local_address(self) -> Addr:
        """The bound (host, port)."""
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def advertised_host(self, peer: Addr | None = None) -> str:
        """Address for Contact/Via/SDP (public address, bound address, or route to peer)."""
        host = self.settings.advertised_addr
        if host not in ("0.0.0.0", "") or peer is None:
            return host
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(peer)  # UDP connect: no packets, just a route lookup
            return str(s.getsockname()[0])

    def via(self, peer: Addr | None = None) -> str:
        """Via value without branch."""
        return f"SIP/2.0/UDP {self.advertised_host(peer)}:{self.local_address[1]}"

    def contact(self, peer: Addr | None = None) -> str:
        """Our Contact header value."""
        return (
            f"<sip:{self.settings.sip_user}@{self.advertised_host(peer)}:{self.local_address[1]}>"
        )

    def forget(self, call: Call) -> None:
        """Drop an ended call's state and media."""
        self.calls.pop(call.call_id, None)
        self.pacer.discard(call.media)
        call.media.close()

    # -- transport ----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        # Python 3.10's selector datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def _send(self, data: bytes, addr: Addr) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)

    def _reply(
        self,
        req: SipMessage,
        addr: Addr,
        status: int,
        to_tag: str = "",
        reason: str = "",
        headers: list[tuple[str, str]] | None = None,
    ) -> bytes:
        resp = build_response(req, status, to_tag, reason)
        for k, v in headers or []:
            resp.add(k, v)
        data = resp.to_bytes()
        self._send(data, addr)
        return data

    def datagram_received(self, data: bytes, addr: Addr) -> None:  # noqa: D102
        if not data.strip():
            return  # CRLF keep-alive
        try:
            msg = parse_message(data)
        except SipParseError as exc:
            log.info("malformed SIP from %s: %s", addr, exc)
            reply = lenient_reply(data, exc.status, f"Bad Request ({exc})")
            if reply is not None:
                self._send(reply, addr)
            return
        try:
            if msg.is_request:
                self._on_request(msg, addr)
            else:
                self._on_response(msg)
        except Exception:  # a bug for one message must not take the UA down
            log.exception("error handling SIP message from %s", addr)
            if msg.is_request and msg.method != "ACK":
                self._reply(msg, addr, 500)

    # -- requests -----------------------------------------------------------
    def _on_request(self, msg: SipMessage, addr: Addr) -> None:
        method = msg.method
        problem = request_problem(msg)
        if problem is not None:
            status, reason, headers = problem
            log.info("refused %s from %s: %d %s", method, addr, status, reason)
            if method != "ACK":  # an ACK is never answered
                self._reply(msg, addr, status, reason=reason, headers=headers)
            return
        call = self.calls.get(msg.call_id)
        if method == "INVITE":
            self._on_invite(msg, addr, call)
        elif method == "ACK":
            inv = self._invites.get(msg.call_id)
            if inv is not None:
                inv.acked.set()
        elif method == "CANCEL":
            inv = self._invites.get(msg.call_id)
            if inv is None or inv.request.branch != msg.branch:
                self._reply(msg, addr, 481)
                return
            self._reply(msg, addr, 200)
            inv.cancelled.set()
        elif method == "BYE":
            if call is None:
                self._reply(msg, addr, 481)
                return
            self._reply(msg, addr, 200)
            call.end("remote_bye")
        elif method == "OPTIONS":
            self._reply(msg, addr, 200, headers=[("Allow", ALLOW), ("Accept", "application/sdp")])
        elif method in ("NOTIFY", "INFO"):
            if call is None:
                self._reply(msg, addr, 481)
                return
            self._reply(msg, addr, 200)
            if method == "NOTIFY":
                call.on_notify(msg)
            else:
                m = re.search(r"Signal\s*=\s*([0-9*#A-D])", msg.body.decode(errors="replace"))
                if m:
                    call.media.inbound.put_nowait(DtmfIn(m.group(1), self.clock.now()))
        elif method in ("REFER", "SUBSCRIBE", "MESSAGE", "UPDATE", "PRACK", "REGISTER"):
            self._reply(msg, addr, 405, headers=[("Allow", ALLOW)])
        else:
            self._reply(msg, addr, 501)

    def _on_invite(self, msg: SipMessage, addr: Addr, call: Call | None) -> None:
        inv = self._invites.get(msg.call_id)
        if inv is not None and inv.request.branch == msg.branch:
            if inv.last_response:
                self._send(inv.last_response, addr)  # retransmitted INVITE
            return
        if call is not None or parse_name_addr(msg.get("To")).tag:
            self._on_reinvite(msg, addr, call)
            return
        if self._invite_limit.check(addr[0]) is not Verdict.ALLOW:
            log.info("INVITE flood from %s: 503", addr[0])
            self._reply(msg, addr, 503, headers=[("Retry-After", "30")])
            return
        if len(self.calls) + len(self._invites) >= self.settings.max_calls:
            self._reply(msg, addr, 486)
            return
        inv = _ServerInvite(msg, addr, new_tag())
        self._invites[msg.call_id] = inv
        self.spawn(self._answer(inv))

    def _on_reinvite(self, msg: SipMessage, addr: Addr, call: Call | None) -> None:
        """Re-INVITE (hold, session refresh): accept the new remote media, same codec."""
        if call is None:
            self._reply(msg, addr, 481)
            return
        try:
            neg = negotiate(parse_sdp(msg.body.decode(errors="replace")))
        except SdpError as exc:
            self._reply(msg, addr, 488, headers=[("Warning", f'399 jiesu "{exc}"')])
            return
        call.media.configure(
            (neg.remote_address, neg.remote_port),
            neg.codec,
            neg.dtmf_payload_type,
            neg.direction in ("sendrecv", "recvonly"),
        )
        sdp = build_sdp(
            self.advertised_host(addr),
            call.media.local_port,
            (neg.codec,),
            neg.dtmf_payload_type,
            version=1,
            direction=answer_direction(neg.direction),
        )
        resp = build_response(msg, 200, call.dialog.local_tag)
        resp.add("Contact", call.dialog.local_contact)
        resp.add("Content-Type", "application/sdp")
        resp.body = sdp.encode()
        self._send(resp.to_bytes(), addr)

    async def _answer(self, inv: _ServerInvite) -> None:
        req, addr = inv.request, inv.source
        media: MediaSession | None = None
        try:
            inv.last_response = self._reply(req, addr, 100)
            if "sdp" not in req.get("Content-Type").lower() or not req.body.strip():
                raise SdpError("an SDP offer is required in the INVITE")
            neg = negotiate(parse_sdp(req.body.decode("utf-8", errors="replace")))
            try:
                media = await self._open_media()
            except OSError as exc:
                raise SipError(f"no RTP port: {exc}", 503) from exc
            inv.last_response = self._reply(req, addr, 180, inv.to_tag)
            if self.settings.answer_delay_s > 0:
                try:
                    await asyncio.wait_for(inv.cancelled.wait(), self.settings.answer_delay_s)
                except asyncio.TimeoutError:
                    pass
            if inv.cancelled.is_set():
                inv.last_response = self._reply(req, addr, 487, inv.to_tag)
                media.close()
                return
            media.configure(
                (neg.remote_address, neg.remote_port),
                neg.codec,
                neg.dtmf_payload_type,
                neg.direction in ("sendrecv", "recvonly"),
            )
            call = self._register_incoming(inv, media)
            self.pacer.add(media)
            sdp = build_sdp(
                self.advertised_host(addr),
                media.local_port,
                (neg.codec,),
                neg.dtmf_payload_type,
                session_id=secrets.randbelow(2**31),
                direction=answer_direction(neg.direction),
            )
            ok = build_response(req, 200, inv.to_tag)
            ok.add("Contact", call.dialog.local_contact)
            ok.add("Allow", ALLOW)
            ok.add("Content-Type", "application/sdp")
            ok.body = sdp.encode()
            inv.last_response = ok.to_bytes()
            if not await self._send_until_ack(inv, addr):
                log.warning("no ACK for call %s; hanging up", req.call_id)
                await call.hangup("no_ack")
                return
            self._invites.pop(req.call_id, None)
            await self._run_handler(call)
        except SipError as exc:
            if media is not None:
                media.close()
            status = exc.status or 500
            warning = [("Warning", f'399 jiesu "{str(exc)[:100]}"')] if status == 488 else []
            inv.last_response = self._reply(req, addr, status, inv.to_tag, headers=warning)
            log.info("rejected INVITE %s: %s %s", req.call_id, status, exc)
        finally:
            if inv.final_status == 0:
                await self._absorb_ack(inv)
            self._invites.pop(req.call_id, None)

    async def _send_until_ack(self, inv: _ServerInvite, addr: Addr) -> bool:
        """Retransmit the 2xx (timer G, T1 doubling to T2) until ACK; give up at 64*T1."""
        inv.final_status = 200
        interval, waited = T1, 0.0
        while waited < 64 * T1:
            if inv.cancelled.is_set() and not inv.acked.is_set():
                pass  # CANCEL after 200 has no effect (RFC 3261 §9.2)
            self._send(inv.last_response, addr)
            try:
                await asyncio.wait_for(inv.acked.wait(), interval)
                return True
            except asyncio.TimeoutError:
                waited += interval
                interval = min(interval * 2, T2)
        return False

    async def _absorb_ack(self, inv: _ServerInvite) -> None:
        """After a non-2xx final, resend it on retransmitted INVITEs until ACK (timer H)."""
        inv.final_status = -1
        try:
            await asyncio.wait_for(inv.acked.wait(), 64 * T1)
        except asyncio.TimeoutError:
            pass

    def _register_incoming(self, inv: _ServerInvite, media: MediaSession) -> Call:
        req, addr = inv.request, inv.source
        frm, to = parse_name_addr(req.get("From")), parse_name_addr(req.get("To"))
        contact = req.get("Contact")
        target = parse_name_addr(contact).uri if contact else frm.uri
        dialog = Dialog(
            call_id=req.call_id, local_tag=inv.to_tag, remote_tag=frm.tag, local_uri=to.uri,
            remote_uri=frm.uri, remote_target=target, peer=addr,
            local_contact=self.contact(addr), route_set=req.get_all("Record-Route"),
            local_cseq=secrets.randbelow(10_000),
        )  # fmt: skip
        call = Call(self, dialog, media, "in", caller_number(req))
        self.calls[req.call_id] = call
        return call

    async def _run_handler(self, call: Call) -> None:
        if self.on_call is None:
            await call.ended.wait()
            return
        try:
            await self.on_call(call)
        except Exception:
            log.exception("call handler failed for %s", call.call_id)
        finally:
            await call.hangup("handler_done")

    def spawn(self, coro: Awaitable[None]) -> None:
        """Run ``coro`` as a task owned by the UA (cancelled on :meth:`stop`)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open_media(self) -> MediaSession:
        lo, hi = self.settings.rtp_port_min, self.settings.rtp_port_max
        host = self.settings.sip_host
        if not lo:
            return await MediaSession.open(host, 0, self.clock)
        for _ in range(hi - lo + 1):
            port = self._next_rtp
            self._next_rtp = lo if port + 2 > hi else port + 2
            try:
                return await MediaSession.open(host, port, self.clock)
            except OSError:
                continue
        raise OSError("RTP port range exhausted")

    # -- responses ------------------------------------------------------------
    def _on_response(self, msg: SipMessage) -> None:
        if self.transactions.on_response(msg):
            return
        call = self.calls.get(msg.call_id)
        if call is not None and msg.cseq[1] == "INVITE" and 200 <= msg.status < 300:
            self._send(self.ack_for(call, msg.cseq[0]).to_bytes(), call.dialog.peer)
        elif msg.cseq[1] == "INVITE" and msg.status >= 300 and msg.branch in self._acks:
            self._send(*self._acks[msg.branch])  # our ACK was lost: the UAS retransmits

    def remember_ack(self, branch: str, data: bytes, dest: Addr) -> None:
        """Keep the ACK of a non-2xx INVITE final for timer D (32 s) to answer retransmissions."""
        self._acks[branch] = (data, dest)
        asyncio.get_running_loop().call_later(ACK_KEEP_S, self._acks.pop, branch, None)

    # -- outbound calls ---------------------------------------------------------
    async def place_call(self, uri: str, timeout_s: float = 30.0) -> Call:
        """Call ``uri`` (``sip:user@host[:port]``) and return the answered call.

        Raises:
            CallFailed: Rejected (``status`` = the SIP code), unanswered (408), or bad URI.
        """
        return await place_call(self, uri, timeout_s)

    def ack_for(self, call: Call, cseq: int) -> SipMessage:
        """ACK for a 2xx to our INVITE with CSeq ``cseq``."""
        ack = call.dialog.request("ACK", self.via(call.dialog.peer))
        ack.set("CSeq", f"{cseq} ACK")
        return ack

    async def open_media(self) -> MediaSession:
        """Bind an RTP socket (in JIESU_SIP_RTP_PORTS when set)."""
        return await self._open_media()

    def send(self, data: bytes, addr: Addr) -> None:
        """Write one datagram on the SIP socket."""
        self._send(data, addr)
