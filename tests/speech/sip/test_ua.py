"""The SIP UA against raw datagrams and against another instance of itself."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from speech.errors import CallFailed, TransferFailed
from speech.settings import PhoneSettings
from speech.sip.call import Call
from speech.sip.message import SipMessage, parse_message
from speech.sip.ua import SipUA

SETTINGS = PhoneSettings(sip_host="127.0.0.1", sip_port=0, max_calls=2)


class Peer(asyncio.DatagramProtocol):
    """A raw UDP socket that queues whatever it receives."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:  # type: ignore[no-untyped-def]
        self.inbox.put_nowait(data)

    async def ask(self, data: bytes, to: tuple[str, int]) -> SipMessage:
        assert self.transport is not None
        self.transport.sendto(data, to)
        return parse_message(await asyncio.wait_for(self.inbox.get(), 3))


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


def _request(method: str, extra: str = "", call_id: str = "c1", body: str = "") -> bytes:
    return (
        f"{method} sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{call_id}\r\n"
        f"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: {call_id}\r\n"
        f"CSeq: 1 {method}\r\n{extra}Content-Length: {len(body.encode())}\r\n\r\n{body}"
    ).encode()


@pytest.mark.asyncio(loop_scope="function")
async def test_garbage_does_not_crash_and_options_still_work(ua: SipUA, peer: Peer) -> None:
    assert peer.transport is not None
    for junk in (b"\x00\xff" * 50, b"\r\n\r\n", b"INVITE\r\n\r\n", "请求".encode() * 30):
        peer.transport.sendto(junk, ua.local_address)
    resp = await peer.ask(_request("OPTIONS"), ua.local_address)
    assert resp.status == 200 and "INVITE" in resp.get("Allow")


@pytest.mark.asyncio(loop_scope="function")
async def test_status_codes(ua: SipUA, peer: Peer) -> None:
    assert (await peer.ask(_request("BYE"), ua.local_address)).status == 481
    assert (await peer.ask(_request("FOO"), ua.local_address)).status == 501
    assert (await peer.ask(_request("MESSAGE"), ua.local_address)).status == 405
    assert (await peer.ask(_request("CANCEL", call_id="nope"), ua.local_address)).status == 481
    # INVITE without SDP (late offer is not supported): 100 then 488
    first = await peer.ask(_request("INVITE", call_id="c2"), ua.local_address)
    assert first.status == 100
    final = parse_message(await asyncio.wait_for(peer.inbox.get(), 3))
    assert final.status == 488 and "SDP" in final.get("Warning")


async def _pair(handler) -> tuple[SipUA, SipUA]:  # type: ignore[no-untyped-def]
    callee = SipUA(SETTINGS, handler)
    caller = SipUA(dataclasses.replace(SETTINGS, sip_user="caller"))
    await callee.start()
    await caller.start()
    return caller, callee


@pytest.mark.asyncio(loop_scope="function")
async def test_call_between_two_uas_carries_audio_and_bye() -> None:
    answered: asyncio.Queue[Call] = asyncio.Queue()

    async def on_call(call: Call) -> None:
        await answered.put(call)
        pb = call.play(b"\x20\x20" * 1600)
        await pb.done
        await call.ended.wait()

    caller, callee = await _pair(on_call)
    try:
        host, port = callee.local_address
        out = await caller.place_call(f"sip:12345@{host}:{port}", timeout_s=5)
        inc = await asyncio.wait_for(answered.get(), 5)
        assert inc.remote_user == "caller" and inc.call_id == out.call_id
        frames = 0
        while frames < 10:
            await asyncio.wait_for(out.media.inbound.get(), 2)
            frames += 1
        with pytest.raises(TransferFailed) as info:  # our UA refuses REFER with 405
            await out.transfer("sip:queue@127.0.0.1:5999")
        assert info.value.status == 405
        await out.hangup()
        await asyncio.wait_for(inc.ended.wait(), 3)
        assert inc.end_reason == "remote_bye" and callee.calls == {} and caller.calls == {}
    finally:
        await caller.stop()
        await callee.stop()


@pytest.mark.asyncio(loop_scope="function")
async def test_busy_when_max_calls_reached_and_unanswered_call_is_cancelled() -> None:
    gate = asyncio.Event()

    async def hold(call: Call) -> None:
        await gate.wait()

    caller, callee = await _pair(hold)
    try:
        host, port = callee.local_address
        uri = f"sip:12345@{host}:{port}"
        calls = [await caller.place_call(uri, 5) for _ in range(2)]
        with pytest.raises(CallFailed) as info:
            await caller.place_call(uri, 5)
        assert info.value.status == 486
        gate.set()
        for c in calls:
            await asyncio.wait_for(c.ended.wait(), 5)  # handler returned -> callee hung up
        slow = dataclasses.replace(SETTINGS, answer_delay_s=10)
        ringing = SipUA(slow)
        await ringing.start()
        try:
            h, p = ringing.local_address
            with pytest.raises(CallFailed) as info:
                await caller.place_call(f"sip:x@{h}:{p}", timeout_s=0.5)
            assert info.value.status == 408
        finally:
            await ringing.stop()
    finally:
        await caller.stop()
        await callee.stop()
