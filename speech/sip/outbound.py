"""Outbound calls (RFC 3261 UAC INVITE): offer, digest auth, CANCEL on no answer, ACK.

A trunk that challenges (401/407) gets the INVITE again with CSeq + 1, a new
branch, the same Call-ID/From tag/offer and the answer to every challenge so
far (RFC 3261 §22.3); a second challenge for a realm we already answered with
a fresh nonce means the password is wrong, and the call fails instead of looping.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from typing import TYPE_CHECKING

from speech.codec_g711 import CODECS
from speech.errors import CallFailed, SdpError, SipAuthError, SipParseError
from speech.settings import PhoneSettings
from speech.sip.auth import Challenge, authorization, parse_challenges
from speech.sip.call import Call, Dialog
from speech.sip.message import SipMessage, new_tag, parse_name_addr, parse_uri
from speech.sip.sdp import build_sdp, negotiate, parse_sdp

if TYPE_CHECKING:
    from speech.sip.ua import SipUA

__all__ = ["place_call", "resolve"]

Addr = tuple[str, int]
# A 407 from the outbound proxy then a 401 from the far end is the longest honest chain.
MAX_CHALLENGES = 3


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
    body = build_sdp(host, media.local_port, CODECS, session_id=secrets.randbelow(2**31)).encode()
    invite = dialog.request("INVITE", ua.via(dest), body=body, content_type="application/sdp")
    answered: dict[tuple[str, str], tuple[Challenge, int]] = {}
    try:
        resp = await _invite_transaction(ua, invite, dest, timeout_s)
        for _ in range(MAX_CHALLENGES):
            if resp.status not in (401, 407):
                break
            credentials = answer_challenges(ua.settings, resp, answered, invite)
            invite = dialog.request("INVITE", ua.via(dest), credentials, body=body,
                                    content_type="application/sdp")  # fmt: skip
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
    """ACK a non-2xx final inside the INVITE transaction (RFC 3261 §17.1.1.3).

    Same branch, Request-URI, From, Call-ID, CSeq number (method ACK) and Route
    as the INVITE, To from the response (with its tag).  The UA keeps the bytes
    to answer retransmissions of the response (timer D).
    """
    ack = SipMessage(method="ACK", uri=invite.uri)
    ack.add("Via", invite.get_all("Via")[0])
    ack.add("From", invite.get("From"))
    ack.add("To", resp.get("To"))
    ack.add("Call-ID", invite.call_id)
    ack.add("CSeq", f"{invite.cseq[0]} ACK")
    for route in invite.get_all("Route"):
        ack.add("Route", route)
    ack.add("Max-Forwards", "70")
    data = ack.to_bytes()
    ua.send(data, dest)
    ua.remember_ack(invite.branch, data, dest)


def answer_challenges(
    settings: PhoneSettings,
    resp: SipMessage,
    answered: dict[tuple[str, str], tuple[Challenge, int]],
    invite: SipMessage,
) -> list[tuple[str, str]]:
    """Headers that answer the 401/407 ``resp`` (plus earlier answers) for the next INVITE.

    ``answered`` maps (answer header, realm) to the challenge answered and how often its
    nonce was used; it is updated (the nonce count goes up on each reuse, RFC 7616 §3.4).

    Raises:
        SipAuthError: No credentials configured, no Digest challenge we can answer (unknown
            algorithm, other realm), or the same realm challenged again with a fresh
            nonce after our answer (wrong user or password).
    """
    status, call_id = resp.status, invite.call_id
    creds = settings.trunk_credentials
    if creds is None:
        raise SipAuthError(
            f"{status} {resp.reason}: the trunk wants digest auth; set JIESU_SIP_TRUNK_USER "
            "and JIESU_SIP_TRUNK_PASSWORD", status, call_id,
        )  # fmt: skip
    try:
        offered = [
            *parse_challenges("Proxy-Authenticate", resp.get_all("Proxy-Authenticate")),
            *parse_challenges("WWW-Authenticate", resp.get_all("WWW-Authenticate")),
        ]
    except SipAuthError as exc:
        raise SipAuthError(str(exc), status, call_id) from exc
    usable = [
        c for c in offered
        if c.supported and (not settings.trunk_realm or c.realm == settings.trunk_realm)
    ]  # fmt: skip
    if not usable:
        raise SipAuthError(
            f"{status}: no Digest challenge we can answer in {[c.realm for c in offered]} "
            f"(algorithms {[c.algorithm for c in offered]}, JIESU_SIP_TRUNK_REALM="
            f"{settings.trunk_realm!r})", status, call_id,
        )  # fmt: skip
    new: dict[tuple[str, str], Challenge] = {}
    for ch in usable:  # the server lists its preferred algorithm first (RFC 7616 §3.7)
        new.setdefault((ch.answer_header, ch.realm), ch)
    for key, ch in new.items():
        if key in answered and not ch.stale:
            raise SipAuthError(
                f"{status}: realm {ch.realm!r} rejected user {creds.username!r} "
                "(check JIESU_SIP_TRUNK_USER / JIESU_SIP_TRUNK_PASSWORD)", status, call_id,
            )  # fmt: skip
    for key, (ch, uses) in list(answered.items()):
        answered[key] = (ch, uses + 1)
    answered.update((key, (ch, 1)) for key, ch in new.items())
    # Order between different header names carries no meaning (RFC 3261 §7.3.1);
    # Authorization goes first because SIPp 3.6's verifyauth misreads it otherwise.
    return sorted(
        ((header, authorization(ch, creds, "INVITE", invite.uri, invite.body, nc=uses))
         for (header, _realm), (ch, uses) in answered.items()),
        key=lambda h: h[0] != "Authorization",
    )  # fmt: skip
