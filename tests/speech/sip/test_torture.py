"""RFC 4475-style torture messages over UDP: no 5xx, no crash, and the UA still works.

Each message (``tests/speech/sip/torture.py``) is sent to a real UA socket, followed by
an OPTIONS probe; the UA handles datagrams in order, so the probe's 200 closes the window
of answers to the message.  Valid messages get a non-5xx answer (or none, for responses);
invalid ones a 4xx or nothing (505 for a SIP version we do not speak, as RFC 3261 says).
After all of them, a normal INVITE still gets 100/180/200.  Then an INVITE flood from one
address is answered 503 with Retry-After once past the per-source limit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from speech.errors import SipParseError
from speech.settings import PhoneSettings
from speech.sip.message import parse_message
from speech.sip.ua import SipUA
from tests.speech.sip.test_ua import Peer, _request
from tests.speech.sip.torture import INVALID, SDP, VALID

SETTINGS = PhoneSettings(sip_host="127.0.0.1", sip_port=0, max_calls=50, answer_delay_s=0)


@pytest_asyncio.fixture(loop_scope="function")
async def ua() -> AsyncIterator[SipUA]:
    u = SipUA(SETTINGS)
    await u.start()
    yield u
    await u.stop()


@pytest_asyncio.fixture(loop_scope="function")
async def peer() -> AsyncIterator[Peer]:
    loop = asyncio.get_running_loop()
    _, p = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    yield p
    assert p.transport is not None
    p.transport.close()


@dataclasses.dataclass
class Answer:
    status: int
    reason: str
    call_id: str


def _answer(data: bytes) -> Answer:
    """The UA's answer; read leniently, since it echoes a torture message's bad CSeq."""
    try:
        msg = parse_message(data)
        return Answer(msg.status, msg.reason, msg.call_id)
    except SipParseError:
        text = data.decode(errors="replace")
        status = re.match(r"SIP/2.0 (\d{3}) ?(.*)", text)
        call_id = re.search(r"^Call-ID:\s*(.*?)\r?$", text, re.M)
        assert status, text[:200]
        return Answer(int(status.group(1)), status.group(2), call_id.group(1) if call_id else "")


async def _answers(peer: Peer, ua: SipUA, data: bytes, probe_id: str) -> list[Answer]:
    """Send ``data``, then a probe; every answer that came before the probe's 200."""
    assert peer.transport is not None
    peer.transport.sendto(data, ua.local_address)
    peer.transport.sendto(_request("OPTIONS", call_id=probe_id), ua.local_address)
    got: list[Answer] = []
    while True:
        msg = _answer(await asyncio.wait_for(peer.inbox.get(), 5))
        if msg.call_id == probe_id:
            assert msg.status == 200
            break
        got.append(msg)
    # An INVITE is answered 100 at once and finally after its SDP is read: wait for that.
    while data.startswith(b"INVITE") and got and all(m.status < 200 for m in got):
        got.append(_answer(await asyncio.wait_for(peer.inbox.get(), 10)))
    return got


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize("name", sorted(VALID))
async def test_valid_torture_message_is_accepted(ua: SipUA, peer: Peer, name: str) -> None:
    answers = await _answers(peer, ua, VALID[name], f"probe-{name}")
    allowed = {501} if name in ("intmeth", "unknown_method") else set()  # RFC 3261 8.2.1
    bad = [(m.status, m.reason) for m in answers if m.status >= 500 and m.status not in allowed]
    assert not bad, bad


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize("name", sorted(INVALID))
async def test_invalid_torture_message_gets_a_4xx_or_nothing(
    ua: SipUA, peer: Peer, name: str
) -> None:
    answers = await _answers(peer, ua, INVALID[name], f"probe-{name}")
    allowed = {505} if name == "badvers" else set()
    finals = [m for m in answers if m.status >= 200]
    bad = [
        (m.status, m.reason) for m in finals if not (400 <= m.status < 500 or m.status in allowed)
    ]
    assert not bad, bad
    assert not ua.calls


@pytest.mark.asyncio(loop_scope="function")
async def test_after_every_torture_message_a_normal_invite_is_answered(
    ua: SipUA, peer: Peer
) -> None:
    assert peer.transport is not None
    for data in [*VALID.values(), *INVALID.values()]:
        peer.transport.sendto(data, ua.local_address)
    invite = _request("INVITE", "Content-Type: application/sdp\r\n", call_id="after", body=SDP)
    peer.transport.sendto(invite, ua.local_address)
    statuses: list[int] = []
    while 200 not in statuses:  # answers to the torture messages come first: skip them
        answer = _answer(await asyncio.wait_for(peer.inbox.get(), 10))
        if answer.call_id == "after":
            statuses.append(answer.status)
    assert 100 in statuses and 200 in statuses


@pytest.mark.asyncio(loop_scope="function")
async def test_an_invite_flood_from_one_address_gets_503() -> None:
    ua = SipUA(dataclasses.replace(SETTINGS, invite_burst=3, invite_rate_per_min=1, max_calls=0))
    await ua.start()
    loop = asyncio.get_running_loop()
    _, peer = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    try:
        statuses = []
        for i in range(6):
            resp = await peer.ask(_request("INVITE", call_id=f"flood{i}"), ua.local_address)
            statuses.append((resp.status, resp.get("Retry-After")))
        # Within the burst: 486 (max_calls=0, busy); past it: 503 with Retry-After.
        assert statuses[:3] == [(486, "")] * 3
        assert statuses[3:] == [(503, "30")] * 3
        ok = await peer.ask(_request("OPTIONS", call_id="still"), ua.local_address)
        assert ok.status == 200  # only INVITEs are limited
    finally:
        assert peer.transport is not None
        peer.transport.close()
        await ua.stop()
