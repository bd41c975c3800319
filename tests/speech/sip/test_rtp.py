"""RTP packets, RFC 4733 events, and paced sending over loopback."""

from __future__ import annotations

import asyncio

import pytest

from speech.errors import CodecError
from speech.sip.rtp import DtmfDetector, DtmfEvent, RtpPacket, build_dtmf_packets
from speech.sip.rtp_session import AudioIn, DtmfIn, MediaSession, Pacer


def test_packet_round_trip() -> None:
    pkt = RtpPacket(0, 65535, 2**32 - 1, 0xDEADBEEF, b"\xff" * 160, marker=True)
    assert RtpPacket.parse(pkt.to_bytes()) == pkt
    with pytest.raises(CodecError):
        RtpPacket.parse(b"\x00" * 20)


def test_dtmf_event_reported_once() -> None:
    det = DtmfDetector()
    packets = build_dtmf_packets("5", 101, 1, 1000, 42)
    digits = [det.feed(p) for p in packets]
    assert [d for d in digits if d] == ["5"]
    assert DtmfEvent.parse(packets[-1].payload).end
    later = build_dtmf_packets("#", 101, 20, 5000, 42)
    assert [d for d in (det.feed(p) for p in later) if d] == ["#"]


async def test_media_sessions_exchange_audio_and_dtmf_with_steady_pacing() -> None:
    a = await MediaSession.open("127.0.0.1")
    b = await MediaSession.open("127.0.0.1")
    a.configure(("127.0.0.1", b.local_port), a.codec, 101)
    b.configure(("127.0.0.1", a.local_port), b.codec, 101)
    pacer = Pacer()
    pacer.add(a)
    pacer.start()
    pb = a.play(b"\x10\x10" * 1600)  # 200 ms
    assert await asyncio.wait_for(pb.done, 2) is True
    got = 0
    while got < 10 * 320:
        item = await asyncio.wait_for(b.inbound.get(), 2)
        assert isinstance(item, AudioIn)
        got += len(item.pcm)
    for p in build_dtmf_packets("9", 101, 100, 123456, 7):
        b.transport.sendto(p.to_bytes(), ("127.0.0.1", a.local_port))  # type: ignore[union-attr]
    while True:
        item = await asyncio.wait_for(a.inbound.get(), 2)
        if isinstance(item, DtmfIn):
            assert item.digit == "9"
            break
    await pacer.stop()
    assert len(pacer.lateness) >= 10 and max(pacer.lateness) < 0.015
    a.close()
    b.close()


async def test_stop_playback_is_barge_in() -> None:
    s = await MediaSession.open("127.0.0.1")
    pb = s.play(b"\x01\x00" * 8000)
    s.next_frame(0.0)
    s.stop_playback()
    assert await pb.done is False and not s.playing
    assert s.next_frame(0.02) == (b"\x00" * 320, False)
    s.close()
