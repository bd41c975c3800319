"""Caller audio for phone tests: espeak-ng speech, recorded clips, silence, noise, RTP pcaps
for SIPp, and OGG/Opus voice notes (ffmpeg) for Telegram."""

from __future__ import annotations

import functools
import random
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from speech.codec_g711 import ulaw_encode
from speech.resample import resample
from speech.sip.rtp import RtpPacket, build_dtmf_packets
from speech.tts import parse_wav

__all__ = [
    "Clip",
    "Dtmf",
    "Segment",
    "Silence",
    "Speech",
    "clip_pcm",
    "noise",
    "ogg_opus",
    "segment_pcm",
    "silence",
    "synth",
    "write_caller_pcap",
]

RATE = 8000


@functools.lru_cache(maxsize=64)
def synth(text: str, speed: int = 165) -> bytes:
    """Synthesise ``text`` with espeak-ng (cmn-latn-pinyin) as 8 kHz 16-bit PCM."""
    out = subprocess.run(
        ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(speed), "--stdout", text],
        capture_output=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    pcm, rate = parse_wav(out)
    return resample(pcm, rate, RATE)


def silence(seconds: float) -> bytes:
    """Digital silence."""
    return b"\x00\x00" * int(seconds * RATE)


def noise(seconds: float, amplitude: int = 300, seed: int = 7) -> bytes:
    """Low-level white noise (line hiss), deterministic."""
    rng = random.Random(seed)
    n = int(seconds * RATE)
    return struct.pack(f"<{n}h", *(rng.randint(-amplitude, amplitude) for _ in range(n)))


@dataclass(frozen=True)
class Speech:
    """A caller utterance (text spoken by espeak-ng)."""

    text: str


@dataclass(frozen=True)
class Silence:
    """The caller says nothing for ``seconds`` (silence packets keep flowing)."""

    seconds: float


@dataclass(frozen=True)
class Dtmf:
    """A key press sent as RFC 4733 events (payload type 101)."""

    digit: str


@dataclass(frozen=True)
class Clip:
    """A recorded utterance (a WAV file of any rate), sent as the caller's speech."""

    path: Path


Segment = Speech | Clip | Silence | Dtmf


@functools.lru_cache(maxsize=16)
def clip_pcm(path: Path) -> bytes:
    """A WAV file as 8 kHz 16-bit mono PCM, the band of a phone line."""
    from speech.transcribe import load_audio

    return resample(load_audio(path), 16000, RATE)


def segment_pcm(seg: Speech | Clip | Silence, speed: int = 165) -> bytes:
    """The 8 kHz PCM of one audio segment."""
    if isinstance(seg, Speech):
        return synth(seg.text, speed)
    if isinstance(seg, Clip):
        return clip_pcm(seg.path)
    return silence(seg.seconds)


def ogg_opus(wav: Path, out: Path) -> bytes:
    """Encode ``wav`` as a Telegram-style voice note (mono 48 kHz Opus in OGG) with ffmpeg."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav),
         "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k", "-f", "ogg", str(out)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return out.read_bytes()


def _frame(packet: bytes, t: float, src_port: int, dst_port: int) -> bytes:
    udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(packet), 0) + packet
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp  # fmt: skip
    eth = b"\x00" * 12 + b"\x08\x00" + ip
    sec = int(t)
    return struct.pack("<IIII", sec, int((t - sec) * 1e6), len(eth), len(eth)) + eth


def write_caller_pcap(path: Path, segments: list[Segment], speed: int = 165) -> float:
    """Write the caller's side of a call as a pcap SIPp can replay (``play_pcap_audio``).

    PCMU (payload type 0) every 20 ms, silence included; DTMF as payload type 101.

    Returns:
        The duration in seconds.
    """
    ssrc, seq, ts, t = 0x1234ABCD, 1, 0, 1.0
    records: list[bytes] = []
    for seg in segments:
        if isinstance(seg, Dtmf):
            for i, pkt in enumerate(build_dtmf_packets(seg.digit, 101, seq, ts, ssrc)):
                records.append(_frame(pkt.to_bytes(), t + min(i, 5) * 0.02, 4000, 6000))
            seq += 8
            ts += 160 * 6
            t += 0.12
            continue
        pcm = segment_pcm(seg, speed)
        pcm = pcm[: len(pcm) // 320 * 320]
        for i in range(0, len(pcm), 320):
            payload = ulaw_encode(pcm[i : i + 320])
            pkt = RtpPacket(0, seq & 0xFFFF, ts, ssrc, payload, marker=(i == 0))
            records.append(_frame(pkt.to_bytes(), t, 4000, 6000))
            seq += 1
            ts += 160
            t += 0.02
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    path.write_bytes(header + b"".join(records))
    return t - 1.0
