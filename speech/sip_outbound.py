"""Outbound calls (RFC 3261 UAC INVITE): offer, CANCEL on no answer, ACK."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from typing import TYPE_CHECKING

from speech.codec_g711 import CODECS
from speech.errors import CallFailed, SdpError, SipParseError
from speech.sdp import build_sdp, negotiate, parse_sdp
from speech.sip_call import Call, Dialog
from speech.sip_message import SipMessage, new_tag, parse_name_addr, parse_uri

if TYPE_CHECKING:
    from speech.sip_ua import SipUA

__all__ = ["place_call", "resolve"]

Addr = tuple[str, int]


async def resolve(host: str, port: int) -> Addr:
    """IP literal as is; a name via the loop's resolver (IPv4)."""
    try:
        ipaddress.ip_address(host)
        return host, port
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM
        )
        return str(infos[0][4][0]), port


async def place_call(ua: SipUA, uri: str, timeout_s: float = 30.0) -> Call:
    """Call ``uri`` (``sip:user@host[:port]``) and return the answered call.

    Raises:
        CallFailed: Rejected (``status`` = the SIP code), unanswered (408), or bad URI.
    """
    try:
        target = parse_uri(uri)
    except SipParseError as exc:
        raise CallFailed(str(exc), 400) from exc
    if ua.settings.outbound_proxy:
        h, _, p = ua.settings.outbound_proxy.partition(":")
        dest = await resolve(h, int(p or 5060))
    else:
        dest = await resolve(target.host, target.port or 5060)
    media = await ua.open_media()
    host = ua.advertised_host(dest)
    local_uri = f"sip:{ua.settings.sip_user}@{host}"
    call_id = f"{secrets.token_hex(10)}@{host}"
    dialog = Dialog(
        call_id, new_tag(), "", local_uri, uri, uri, dest, ua.contact(dest), local_cseq=0
    )
    invite = dialog.request("INVITE", ua.via(dest), body=build_sdp(
        host, media.local_port, CODECS, session_id=secrets.randbelow(2**31)).encode(),
        content_type="application/sdp")  # fmt: skip
    try:
        resp = await _invite_transaction(ua, invite, dest, timeout_s)
    except BaseException:
        media.close()
        raise
    if resp.status >= 300:
        media.close()
        raise CallFailed(f"call to {uri} failed: {resp.status} {resp.reason}", resp.status, call_id)
    to = parse_name_addr(resp.get("To"))
    dialog.remote_tag = to.tag
    contact = resp.get("Contact")
    if contact:
        dialog.remote_target = parse_name_addr(contact).uri
    dialog.route_set = list(reversed(resp.get_all("Record-Route")))
    call = Call(ua, dialog, media, "out", target.user)
    ua.calls[call_id] = call
    ua.send(ua.ack_for(call, invite.cseq[0]).to_bytes(), dest)
    try:
        neg = negotiate(parse_sdp(resp.body.decode(errors="replace")))
    except SdpError:
        await call.hangup("bad_answer")
        raise
    media.configure((neg.remote_address, neg.remote_port), neg.codec, neg.dtmf_payload_type)
    ua.pacer.add(media)
    return call


async def _invite_transaction(
    ua: SipUA, invite: SipMessage, dest: Addr, timeout_s: float
) -> SipMessage:
    """Run the INVITE; on timeout CANCEL it; ACK non-2xx finals in the transaction."""
    task = asyncio.ensure_future(ua.transactions.request(invite, dest, timeout_s + 32))
    try:
        resp = await asyncio.wait_for(asyncio.shield(task), timeout_s)
    except asyncio.TimeoutError:
        cancel = SipMessage(method="CANCEL", uri=invite.uri)
        for k in ("Via", "From", "To", "Call-ID"):
            cancel.add(k, invite.get(k))
        cancel.add("CSeq", f"{invite.cseq[0]} CANCEL")
        cancel.add("Max-Forwards", "70")
        try:
            await ua.transactions.request(cancel, dest, timeout_s=8)
            resp = await asyncio.wait_for(task, 8)
        except asyncio.TimeoutError:
            task.cancel()
            raise CallFailed("no answer", 408, invite.call_id) from None
        if resp.status < 300:
            return resp  # answered just as we cancelled
        _ack_non2xx(ua, invite, resp, dest)
        raise CallFailed("no answer", 408, invite.call_id) from None
    except BaseException:
        task.cancel()
        raise
    if resp.status >= 300:
        _ack_non2xx(ua, invite, resp, dest)
    return resp


def _ack_non2xx(ua: SipUA, invite: SipMessage, resp: SipMessage, dest: Addr) -> None:
    ack = SipMessage(method="ACK", uri=invite.uri)
    ack.add("Via", invite.get_all("Via")[0])
    ack.add("From", invite.get("From"))
    ack.add("To", resp.get("To"))
    ack.add("Call-ID", invite.call_id)
    ack.add("CSeq", f"{invite.cseq[0]} ACK")
    ack.add("Max-Forwards", "70")
    ua.send(ack.to_bytes(), dest)
