"""TTS: hotline number reading, espeak-ng voice, prompt cache."""

from __future__ import annotations

import asyncio
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from speech.errors import TtsError
from speech.tts import (
    SILENCE_AMPLITUDE,
    EspeakEngine,
    PromptCache,
    Tts,
    parse_wav,
    trim_leading_silence,
)
from speech.tts_text import normalise_for_speech, number_to_chinese

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("请拨打12345", "请拨打幺二三四五"),
        ("工单号BJ20240001", "工单号比杰二零二四零零零幺"),
        ("电话13800001111", "电话幺三八零零零零幺幺幺幺"),
        ("+8613912345678", "八六幺三九幺二三四五六七八"),
        ("2021年的问题", "二零二一年的问题"),
        ("24小时内回复", "二十四小时内回复"),
        ("2小时内", "两小时内"),
        ("确认请按1，修改请按2。", "确认请按一，修改请按二。"),
    ],
)
def test_numbers_are_read_the_hotline_way(text: str, spoken: str) -> None:
    assert normalise_for_speech(text) == spoken


def test_number_to_chinese() -> None:
    assert [number_to_chinese(n) for n in (0, 7, 10, 12, 20, 99)] == [
        "零", "七", "十", "十二", "二十", "九十九"]  # fmt: skip


@needs_espeak
def test_plain_cmn_voice_reads_pinyin_as_english() -> None:
    """Why the default is cmn-latn-pinyin (Debian espeak-ng 1.51)."""
    plain = subprocess.run(["espeak-ng", "-v", "cmn", "-q", "-x", "您好"], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    pinyin = subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-q", "-x", "您好"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "(en)" in plain  # "nin2 hao3" switched to English: "nin two hao three"
    assert "(en)" not in pinyin


@needs_espeak
async def test_espeak_synthesis_is_8k_speech_and_cached(tmp_path: Path) -> None:
    tts = Tts(EspeakEngine(), PromptCache(8, tmp_path))
    t0 = time.perf_counter()
    pcm = await tts.synthesize("您好，这里是12345市民服务热线。")
    first = time.perf_counter() - t0
    assert 1.5 < len(pcm) / 16000 < 8  # seconds of 8 kHz 16-bit audio
    t0 = time.perf_counter()
    again = await tts.synthesize("您好，这里是12345市民服务热线。")
    assert again is pcm and time.perf_counter() - t0 < first
    # a new instance finds it on disk
    fresh = Tts(EspeakEngine(), PromptCache(8, tmp_path))
    assert await fresh.synthesize("您好，这里是12345市民服务热线。") == pcm
    files = await asyncio.to_thread(os.listdir, tmp_path)
    assert len([f for f in files if f.endswith(".pcm")]) == 1


async def test_lru_evicts_oldest() -> None:
    cache = PromptCache(max_items=2)
    for k in "abc":
        await cache.put(k, k.encode())
    assert cache.get_memory("a") is None and cache.get_memory("c") == b"c"


async def test_missing_binary_raises_tts_error() -> None:
    tts = Tts(EspeakEngine(binary="no-such-espeak"))
    with pytest.raises(TtsError, match="not found"):
        await tts.synthesize("你好")


def test_parse_wav_rejects_garbage() -> None:
    with pytest.raises(TtsError):
        parse_wav(b"not a wav file at all, definitely not RIFF...............")


def test_trim_leading_silence_keeps_everything_from_the_first_sound() -> None:
    quiet, loud = struct.pack("<4h", 0, 3, -8, 2), struct.pack("<3h", 9, 0, -500)
    assert trim_leading_silence(quiet + loud) == loud
    assert trim_leading_silence(loud) == loud
    assert trim_leading_silence(quiet) == b""


@needs_espeak
async def test_prompts_start_with_sound_not_espeaks_leading_pause() -> None:
    """espeak-ng opens some sentences with ~40 ms of silence that would delay the reply."""
    tts = Tts(EspeakEngine(), PromptCache(8))
    for text in ("请核对您的诉求：", "请问问题发生在什么地方？"):
        pcm = await tts.synthesize(text)
        first = struct.unpack("<80h", pcm[:160])  # the first 10 ms
        assert max(abs(x) for x in first) > SILENCE_AMPLITUDE, text
