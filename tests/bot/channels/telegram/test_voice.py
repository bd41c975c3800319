"""Voice notes: real OGG/Opus (espeak-ng + ffmpeg) → Bot API download → ffmpeg → 16 kHz PCM.

The recogniser is the only stand-in: it records the PCM it was given and returns
a known transcript, so the test can check the audio path is real.
"""

from __future__ import annotations

import pytest

from bot.channels.telegram.errors import VoiceDecodeError
from bot.channels.telegram.handlers import VOICE_UNAVAILABLE
from bot.channels.telegram.voice import PCM_RATE, Transcriber, decode_to_pcm16k
from speech.settings import from_env
from speech.transcribe import SharedTranscriber
from tests.auxil.fake_telegram import FakeBotApi
from tests.auxil.telegram_fake_rasa import FakeRasa
from tests.auxil.telegram_gateway import GatewayFactory, VoiceNote

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHAT = 3003
TRANSCRIPT = "小区门口的路灯坏了"


class KnownTranscriber:
    """Stand-in recogniser: keeps the PCM, returns a fixed transcript."""

    def __init__(self, text: str = TRANSCRIPT) -> None:
        self.text = text
        self.pcm: list[bytes] = []

    async def transcribe(self, pcm16k: bytes) -> str:
        self.pcm.append(pcm16k)
        return self.text


async def test_decode_gives_16k_mono_pcm(spoken_ogg: VoiceNote) -> None:
    pcm = await decode_to_pcm16k(spoken_ogg.ogg)
    assert len(pcm) % 2 == 0
    assert abs(len(pcm) / 2 / PCM_RATE - spoken_ogg.seconds) < 0.1
    assert max(abs(int.from_bytes(pcm[i : i + 2], "little", signed=True))
               for i in range(0, len(pcm), 2)) > 1000  # fmt: skip  # speech, not silence


async def test_decode_rejects_garbage() -> None:
    with pytest.raises(VoiceDecodeError):
        await decode_to_pcm16k(b"not audio at all")


async def test_voice_note_is_transcribed_echoed_and_sent_on(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory, spoken_ogg: VoiceNote
) -> None:
    recogniser = KnownTranscriber()
    assert isinstance(recogniser, Transcriber)
    await gateway_factory(transcriber=recogniser)
    await fake_tg.user_voice(CHAT, spoken_ogg.ogg, duration=2)
    assert (await fake_tg.next_sent(CHAT))["text"] == f"您说的是：{TRANSCRIPT}"
    got = await fake_rasa.next_received(f"tg:{CHAT}")
    assert got.text == TRANSCRIPT and got.metadata["input"] == "voice"
    assert (await fake_tg.next_sent(CHAT))["text"] == f"收到：{TRANSCRIPT}"
    [pcm] = recogniser.pcm
    assert pcm and abs(len(pcm) / 2 / PCM_RATE - spoken_ogg.seconds) < 0.1
    assert fake_tg.calls_of("getFile")


async def test_without_recogniser_the_bot_asks_for_text(
    fake_tg: FakeBotApi, fake_rasa: FakeRasa, gateway_factory: GatewayFactory, spoken_ogg: VoiceNote
) -> None:
    # No recogniser can be loaded (the chosen engine's model is missing): ask for text.
    settings = from_env({"JIESU_ASR_ENGINE": "vosk", "JIESU_VOSK_MODEL": "/nonexistent/vosk"})
    await gateway_factory(transcriber=SharedTranscriber(settings))
    await fake_tg.user_voice(CHAT, spoken_ogg.ogg, duration=2)
    assert (await fake_tg.next_sent(CHAT))["text"] == VOICE_UNAVAILABLE
    assert not fake_rasa.received
