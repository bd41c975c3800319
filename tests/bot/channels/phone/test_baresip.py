"""A second real SIP peer: baresip calls the bot, speaks, and records the bot's audio.

baresip plays an espeak-ng recording through its ``aufile`` source and its
``sndfile`` filter dumps what it hears to a WAV file; the recogniser stand-in returns the known
transcript for the utterance the bot's VAD cuts out of that real audio.
"""

from __future__ import annotations

import asyncio
import shutil
import wave
from pathlib import Path

import pytest

from tests.auxil.sip_audio import silence, synth
from tests.auxil.sip_recorder import speech_seconds
from tests.conftest import free_port

pytestmark = pytest.mark.skipif(
    shutil.which("baresip") is None, reason="baresip not installed (`make system-deps`)"
)

COMPLAINT = "小区楼下烧烤店晚上噪音很大"
CONFIG = """poll_method poll
sip_listen 127.0.0.1:{sip_port}
audio_player aubridge,heard
snd_path {dump_dir}
audio_source aufile,{src}
audio_alert aufile,/dev/null
audio_srate 8000
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
rtp_ports {rtp}-{rtp_end}
"""


def _write_wav(path: Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm)


def _read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


async def test_baresip_call_reaches_the_dialogue(make_phone, rasa_backend, tmp_path: Path) -> None:
    service, _ = await make_phone([COMPLAINT])
    host, port = service.ua.local_address
    src, dump_dir = tmp_path / "caller.wav", tmp_path / "dump"
    dump_dir.mkdir()
    speech = await asyncio.to_thread(synth, COMPLAINT, 260)
    _write_wav(src, silence(1.0) + speech + silence(12.0))
    rtp = free_port()
    (tmp_path / "config").write_text(
        CONFIG.format(sip_port=free_port(), dump_dir=dump_dir, src=src, rtp=rtp, rtp_end=rtp + 10)
    )
    (tmp_path / "accounts").write_text("<sip:+8613800001111@127.0.0.1>;regint=0\n")
    (tmp_path / "contacts").write_text("")
    proc = await asyncio.create_subprocess_exec(
        "baresip", "-f", str(tmp_path), "-e", f"/dial sip:12345@{host}:{port}", "-t", "12",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        # baresip quits (hanging up) after -t seconds: the whole call is bounded.
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = output.decode(errors="replace")
    assert rasa_backend.messages()[:1] == [COMPLAINT], log[-2000:]
    first = rasa_backend.fake.log[0]
    assert first.sender.startswith("tel:") and first.metadata["channel"] == "phone"
    assert first.metadata["phone"] == "+8613800001111"
    # baresip heard the bot speak (greeting and the reply), decoded from G.711.
    # sndfile dumps what baresip decoded from the bot's RTP ("-dec") next to what it sent.
    (out,) = [p for p in dump_dir.iterdir() if p.name.endswith("-dec.wav")]
    heard = await asyncio.to_thread(_read_wav, out)
    assert speech_seconds(heard) > 1.0, log[-2000:]
    await asyncio.wait_for(service.finished.get(), 20)
