"""G.711 and resampling."""

from __future__ import annotations

import math
import struct

import pytest

from speech.codec_g711 import (
    PCMA,
    PCMU,
    alaw_decode,
    alaw_encode,
    codec_by_name,
    ulaw_decode,
    ulaw_encode,
)
from speech.errors import CodecError
from speech.resample import Resampler, resample


def _tone(hz: float, seconds: float, rate: int = 8000, amp: int = 8000) -> bytes:
    n = int(seconds * rate)
    return struct.pack(
        f"<{n}h", *(int(amp * math.sin(2 * math.pi * hz * i / rate)) for i in range(n))
    )


def _max_err(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b)) // 2
    xa, xb = struct.unpack(f"<{n}h", a[: 2 * n]), struct.unpack(f"<{n}h", b[: 2 * n])
    return max(abs(x - y) for x, y in zip(xa, xb, strict=True))


@pytest.mark.parametrize(("enc", "dec"), [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)])
def test_g711_round_trip_is_close(enc, dec) -> None:
    pcm = _tone(440, 0.1)
    coded = enc(pcm)
    assert len(coded) == len(pcm) // 2
    assert _max_err(pcm, dec(coded)) < 300  # 8-bit companding error at amplitude 8000


def test_g711_silence_bytes_decode_to_silence() -> None:
    assert set(PCMU.decode(PCMU.silence * 160)) == {0}
    assert max(abs(x) for x in struct.unpack("<160h", PCMA.decode(PCMA.silence * 160))) <= 8


def test_odd_pcm_is_rejected() -> None:
    with pytest.raises(CodecError):
        ulaw_encode(b"\x00\x01\x02")


def test_codec_lookup() -> None:
    assert codec_by_name("pcma") is PCMA
    with pytest.raises(CodecError):
        codec_by_name("G729")


def test_resample_8k_to_16k_and_back() -> None:
    pcm = _tone(300, 0.5)
    up = resample(pcm, 8000, 16000)
    assert abs(len(up) - 2 * len(pcm)) <= 4
    down = resample(up, 16000, 8000)
    assert abs(len(down) - len(pcm)) <= 4


def test_streaming_resampler_matches_one_shot() -> None:
    pcm = _tone(300, 0.4)
    r = Resampler(8000, 16000)
    streamed = b"".join(r.convert(pcm[i : i + 320]) for i in range(0, len(pcm), 320))
    assert streamed == resample(pcm, 8000, 16000)
