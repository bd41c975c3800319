"""Whisper engine: text clean-up, model install, engine choice, recogniser protocol, real clips.

The real-model tests need ``models/whisper/base`` (``make venv``) and the shared
clips in ``../shared/audio``; they skip when either is absent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import shutil
import struct
import subprocess
import wave
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import pytest

from speech import whisper_model
from speech.asr import SpeculativeRecognizer
from speech.asr_engine import build_recognizer_factory, resolve_engine
from speech.asr_whisper import (
    DEFAULT_PROMPT,
    WhisperConfig,
    WhisperEngine,
    WhisperRecognizer,
    WhisperRecognizerFactory,
    clean_text,
    collapse_repeats,
    is_garbage,
    load_whisper_model,
    to_simplified,
    trim_window,
)
from speech.errors import CodecError, ModelBroken, ModelNotFound
from speech.settings import AsrEngine, PhoneSettings, SettingsError, from_env
from speech.transcribe import cer, load_audio, transcribe_file, transcribe_pcm

AUDIO = Path(__file__).resolve().parents[3] / "shared" / "audio"
MODEL_DIR = whisper_model.DEFAULT_DIR / "base"
# Short read-speech clips with human or stable references (see the set's README).
REAL_CLIPS = ("paddlespeech_zh.wav", "fireredaudio_tts_zh_prompt.wav", "thchs30_A2_7.wav")


# ---------------------------------------------------------------- text clean-up


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("好的好的好的好的", "好的"),
        ("我要我要我要投诉", "我要投诉"),
        ("我家楼下我家楼下我家楼下有人施工", "我家楼下有人施工"),
        ("谢谢谢谢谢谢谢谢", "谢谢"),  # a doubled character is a word: keep two
        ("投诉投诉", "投诉投诉"),  # twice is speech, not a loop
        ("电话13888888888", "电话13888888888"),  # digit runs are numbers
        ("幺三八八八八八", "幺三八八八八八"),
    ],
)
def test_loop_cutter(raw: str, want: str) -> None:
    assert collapse_repeats(raw) == want


def test_loop_cutter_rejects_a_meaningless_threshold() -> None:
    with pytest.raises(ValueError):
        collapse_repeats("啊啊", min_repeats=1)


@pytest.mark.parametrize(
    "text",
    ["", "。。，", "...", "字幕由Amara.org社区提供", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"],
)
def test_garbage_is_recognised(text: str) -> None:
    assert is_garbage(text) and clean_text(text) == ""


def test_clean_text_gives_simplified_script_without_spaces() -> None:
    assert to_simplified("噪音擾民") == "噪音扰民"
    assert clean_text(" 這並不是告別 這是一個開始 ") == "这并不是告别这是一个开始"
    assert clean_text("樓下樓下樓下燒烤") == "楼下烧烤"
    assert clean_text("新趋势\ufffd") == "新趋势"


# ---------------------------------------------------------------- model install


def _fake_wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> whisper_model.WhisperModelSpec:
    """Two importable packages holding a 3-part model, like the PyPI wheels."""
    site = tmp_path / "site"
    parts = (b"\x06\x00WhisperSpec" + b"a" * 1000, b"b" * 777)
    for i, blob in enumerate(parts, 1):
        data = site / f"fake_whisper_{i}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"model.bin.part{i}").write_bytes(blob)
    for side in ("config.json", "tokenizer.json", "vocabulary.json"):
        (site / "fake_whisper_2" / "data" / side).write_text("{}")
    monkeypatch.syspath_prepend(str(site))
    joined = b"".join(parts)
    spec = whisper_model.WhisperModelSpec(
        "fake",
        ("fake_whisper_1", "fake_whisper_2"),
        ("model.bin.part1", "model.bin.part2"),
        hashlib.sha256(joined).hexdigest(),
        len(joined),
    )
    monkeypatch.setitem(whisper_model.MODELS, "fake", spec)
    return spec


def test_install_joins_checks_and_is_idempotent(tmp_path: Path, monkeypatch) -> None:
    spec = _fake_wheels(tmp_path, monkeypatch)
    root = tmp_path / "models"
    target = whisper_model.install_model("fake", root)
    assert target == root / "fake"
    assert hashlib.sha256((target / "model.bin").read_bytes()).hexdigest() == spec.sha256
    assert whisper_model.resolve_model_dir("fake", root) == target
    assert whisper_model.resolve_model_dir(str(target)) == target
    before = (target / "model.bin").stat().st_mtime_ns
    assert whisper_model.install_model("fake", root) == target
    assert (target / "model.bin").stat().st_mtime_ns == before  # not re-joined
    assert not list(target.glob("*.partial"))


def test_install_refuses_a_wrong_hash(tmp_path: Path, monkeypatch) -> None:
    spec = _fake_wheels(tmp_path, monkeypatch)
    monkeypatch.setitem(
        whisper_model.MODELS, "fake", spec.__class__(**{**spec.__dict__, "sha256": "0" * 64})
    )
    with pytest.raises(ModelBroken, match="SHA-256"):
        whisper_model.install_model("fake", tmp_path / "models")
    assert not (tmp_path / "models" / "fake" / "model.bin").exists()


def test_install_reports_incomplete_wheels(tmp_path: Path, monkeypatch) -> None:
    spec = _fake_wheels(tmp_path, monkeypatch)
    monkeypatch.setitem(
        whisper_model.MODELS, "fake", spec.__class__(**{**spec.__dict__, "complete": False})
    )
    with pytest.raises(ModelBroken, match="only part"):
        whisper_model.install_model("fake", tmp_path / "models")


def test_install_names_the_missing_wheel(tmp_path: Path) -> None:
    missing = whisper_model.WhisperModelSpec("x", ("no_such_wheel_pkg",), ("p",), "0" * 64, 1)
    whisper_model.MODELS["x"] = missing
    try:
        with pytest.raises(ModelNotFound, match="pip install no-such-wheel-pkg"):
            whisper_model.install_model("x", tmp_path)
    finally:
        del whisper_model.MODELS["x"]


def test_install_cli_exit_status(tmp_path: Path, monkeypatch, capsys) -> None:
    _fake_wheels(tmp_path, monkeypatch)
    assert whisper_model.main(["install", "fake", "--dir", str(tmp_path / "m")]) == 0
    assert whisper_model.main(["install", "nonesuch", "--dir", str(tmp_path / "m")]) == 1
    assert "unknown Whisper model" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["base", "/nonexistent/whisper"])
def test_missing_model_names_the_fix(tmp_path: Path, value: str) -> None:
    with pytest.raises(ModelNotFound, match="make venv"):
        whisper_model.resolve_model_dir(value, tmp_path)


# ---------------------------------------------------------------- settings and engine choice


def test_engine_settings() -> None:
    s = from_env(
        {"JIESU_ASR_ENGINE": "Whisper", "JIESU_WHISPER_MODEL": "/m", "JIESU_WHISPER_BEAM": "1"}
    )
    assert (
        s.asr_engine is AsrEngine.WHISPER and s.whisper_model == "/m" and s.whisper_beam_size == 1
    )
    d = from_env({})
    assert d.asr_engine is AsrEngine.AUTO and d.whisper_model == "base" and d.whisper_beam_size == 5
    for bad in ({"JIESU_ASR_ENGINE": "kaldi"}, {"JIESU_WHISPER_BEAM": "0"}):
        with pytest.raises(SettingsError):
            from_env(bad)


def test_window_settings() -> None:
    assert from_env({}).whisper_window_pad_s == 1.5
    assert from_env({"JIESU_WHISPER_WINDOW_PAD_S": "0"}).whisper_window_pad_s == 0.0
    with pytest.raises(SettingsError):
        from_env({"JIESU_WHISPER_WINDOW_PAD_S": "-1"})


def test_trim_window_keeps_the_speech_and_the_padding() -> None:
    import numpy as np

    window = np.zeros((1, 80, 3000), np.float32)
    window[0, :, :555] = np.random.default_rng(1).normal(size=(80, 555))
    window[0, 3, 554] = 0.0  # a zero inside a frame of speech is still speech
    assert trim_window(window, 150).shape == (1, 80, 706)  # 555 + 150, made even
    assert trim_window(window, 0) is window  # 0 = Whisper's full window
    assert trim_window(window, 5000).shape == (1, 80, 3000)  # never longer than given
    assert trim_window(np.zeros((80, 3000), np.float32), 150).shape == (80, 150)
    assert trim_window(window[..., :999], 150).shape[-1] == 706


def test_auto_prefers_an_installed_vosk_model(tmp_path: Path) -> None:
    assert resolve_engine(PhoneSettings(vosk_model=str(tmp_path))) is AsrEngine.VOSK
    assert resolve_engine(PhoneSettings(vosk_model=str(tmp_path / "no"))) is AsrEngine.WHISPER
    forced = PhoneSettings(vosk_model=str(tmp_path), asr_engine=AsrEngine.WHISPER)
    assert resolve_engine(forced) is AsrEngine.WHISPER


@pytest.mark.parametrize("engine", [AsrEngine.WHISPER, AsrEngine.VOSK])
async def test_factory_for_a_missing_model_names_the_fix(tmp_path: Path, engine: AsrEngine) -> None:
    settings = PhoneSettings(
        asr_engine=engine, whisper_model=str(tmp_path / "w"), vosk_model=str(tmp_path / "v")
    )
    with pytest.raises(
        ModelNotFound, match="make venv" if engine is AsrEngine.WHISPER else "fetch-model"
    ):
        await build_recognizer_factory(settings)


# ---------------------------------------------------------------- recogniser protocol (fake model)


class _FakeSegment:
    def __init__(self, text: str, no_speech_prob: float = 0.1) -> None:
        self.text = text
        self.no_speech_prob = no_speech_prob


class _FakeModel:
    """Stands in for faster_whisper.WhisperModel: records calls, answers a script."""

    def __init__(self, answer: list[_FakeSegment] | Exception) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def transcribe(self, samples: Any, **kw: Any) -> tuple[list[_FakeSegment], None]:
        self.calls.append({"n": len(samples), **kw})
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer, None


def _tone(seconds: float, hz: float = 220.0, amp: int = 8000) -> bytes:
    n = int(seconds * 16000)
    return struct.pack(
        f"<{n}h", *(int(amp * math.sin(2 * math.pi * hz * i / 16000)) for i in range(n))
    )


def _engine(answer: list[_FakeSegment] | Exception) -> WhisperEngine:
    return WhisperEngine(_FakeModel(answer), Path("/fake"), WhisperConfig(beam_size=3))


async def test_protocol_sequence_buffers_then_decodes_once() -> None:
    eng = _engine([_FakeSegment("樓下噪音"), _FakeSegment("很大很大很大", 0.2)])
    rec = WhisperRecognizerFactory(eng).create()
    await rec.start()
    audio = _tone(1.0)
    partials = [await rec.accept(audio[i : i + 640]) for i in range(0, len(audio), 640)]
    assert set(partials) == {""} and rec.buffered_s == pytest.approx(1.0)
    result = await rec.finish()
    assert result.text == "楼下噪音很大" and result.decode_s >= 0
    (call,) = eng.model.calls
    assert call["n"] == 16000 and call["language"] == "zh" and call["beam_size"] == 3
    assert call["initial_prompt"] == (DEFAULT_PROMPT or None)
    assert call["max_new_tokens"] == 20 + 15  # a decoder loop cannot outlast the audio
    await rec.start(["确认", "不对", "[unk]"])  # next utterance: buffer reset, grammar in prompt
    await rec.accept(_tone(0.5))
    await rec.finish()
    assert (
        eng.model.calls[1]["n"] == 8000 and "确认、不对。" in eng.model.calls[1]["initial_prompt"]
    )
    assert eng.model.calls[1]["max_new_tokens"] == 20 + 7
    await rec.close()


class _InlineExecutor(Executor):
    """Runs each job at submit time, so the early decode is recorded before the next step."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        fut.set_result(fn(*args, **kwargs))
        return fut


async def test_speculation_is_reused_only_without_new_audio() -> None:
    eng = _engine([_FakeSegment("小区停车")])
    rec = WhisperRecognizer(eng, _InlineExecutor())
    assert isinstance(rec, SpeculativeRecognizer)
    await rec.start()
    await rec.accept(_tone(0.8))
    rec.speculate()
    rec.speculate()  # same audio: no second decode
    assert (await rec.finish()).text == "小区停车"
    assert len(eng.model.calls) == 1
    await rec.start()
    await rec.accept(_tone(0.8))
    rec.speculate()
    await rec.accept(_tone(0.4))  # the caller went on speaking
    await rec.finish()
    assert [c["n"] for c in eng.model.calls[1:]] == [12800, 19200]


async def test_utterance_is_capped_at_the_whisper_window() -> None:
    eng = _engine([_FakeSegment("好")])
    rec = WhisperRecognizer(eng)
    await rec.start()
    chunk = _tone(1.0)
    for _ in range(32):
        await rec.accept(chunk)
    assert rec.buffered_s == pytest.approx(30.0)


@pytest.mark.parametrize(
    "pcm",
    [b"", b"\x01", _tone(0.1), bytes(32000), _tone(1.0, amp=20), _tone(1.0) + b"\x00"],
    ids=["empty", "one-byte", "too-short", "silence", "near-silence", "odd-length"],
)
async def test_unusable_audio_gives_empty_text(pcm: bytes) -> None:
    eng = _engine([_FakeSegment("谢谢观看")])  # what Whisper says to silence
    rec = WhisperRecognizer(eng)
    await rec.start()
    await rec.accept(pcm)
    assert (await rec.finish()).text == ""


async def test_no_speech_segments_and_engine_errors_give_empty_text() -> None:
    for answer in ([_FakeSegment("嗯", 0.9)], RuntimeError("ctranslate2 exploded")):
        rec = WhisperRecognizer(_engine(answer))
        await rec.start()
        await rec.accept(_tone(1.0))
        assert (await rec.finish()).text == ""


# ---------------------------------------------------------------- audio files


def _write_wav(path: Path, pcm: bytes, rate: int, channels: int = 1, width: int = 2) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(pcm)


def test_load_audio_converts_rate_width_and_channels(tmp_path: Path) -> None:
    _write_wav(tmp_path / "a.wav", _tone(1.0), 8000)  # 16000 samples at 8 kHz = 2 s
    assert abs(len(load_audio(tmp_path / "a.wav")) - 2 * 32000) <= 8
    n = 44100
    stereo = struct.pack(
        f"<{2 * n}h", *(v for i in range(n) for v in (1000, -1000 if i % 2 else 1000))
    )
    _write_wav(tmp_path / "b.wav", stereo, n, channels=2)
    assert abs(len(load_audio(tmp_path / "b.wav")) - 32000) <= 8
    _write_wav(tmp_path / "c.wav", bytes([128, 255] * 4000), 8000, width=1)  # 8-bit unsigned
    pcm = load_audio(tmp_path / "c.wav")
    assert abs(len(pcm) - 16000 * 2) <= 8 and max(struct.unpack(f"<{len(pcm) // 2}h", pcm)) > 16000


@pytest.mark.parametrize(
    ("name", "blob"),
    [("bad.wav", b"RIFF\x00\x00\x00\x00WAVEjunk"), ("bad.ogg", random.Random(1).randbytes(4000))],
)
def test_broken_files_raise_codec_error(tmp_path: Path, name: str, blob: bytes) -> None:
    (tmp_path / name).write_bytes(blob)
    with pytest.raises(CodecError):
        load_audio(tmp_path / name)


def test_cer_normalises_punctuation_script_and_numerals() -> None:
    assert cer("92年，回到中国。", "九二年回到中國") == 0.0
    assert cer("小区噪音", "小区噪声") == pytest.approx(0.25)


# ---------------------------------------------------------------- real model, real voices

needs_model = pytest.mark.skipif(
    not (MODEL_DIR / "model.bin").is_file() or not (AUDIO / "manifest.jsonl").is_file(),
    reason="needs models/whisper/base (make venv) and ../shared/audio",
)


@pytest.fixture(scope="module")
def real_factory() -> WhisperRecognizerFactory:
    async def load() -> WhisperEngine:
        return await load_whisper_model(MODEL_DIR, WhisperConfig(beam_size=1))

    return WhisperRecognizerFactory(asyncio.run(load()))


def _manifest() -> dict[str, str]:
    lines = (AUDIO / "manifest.jsonl").read_text("utf-8").splitlines()
    return {d["file"]: d["transcript"] for d in map(json.loads, lines)}


@needs_model
@pytest.mark.slow
@pytest.mark.parametrize("clip", REAL_CLIPS)
async def test_real_clip_is_recognised(real_factory: WhisperRecognizerFactory, clip: str) -> None:
    text = await transcribe_pcm(real_factory, load_audio(AUDIO / clip))
    assert text and to_simplified(text) == text
    assert cer(_manifest()[clip], text) < 0.35, text


@needs_model
def test_real_encoder_sees_the_trimmed_window() -> None:
    import numpy as np

    from speech.asr_whisper import load_whisper_engine

    features = np.zeros((80, 3000), np.float32)
    features[:, :300] = 0.5
    trimmed = load_whisper_engine(MODEL_DIR, WhisperConfig(window_pad_s=1.0))
    assert tuple(np.array(trimmed.model.encode(features)).shape)[:2] == (1, 200)
    full = load_whisper_engine(MODEL_DIR, WhisperConfig(window_pad_s=0))
    assert tuple(np.array(full.model.encode(features)).shape)[:2] == (1, 1500)


@needs_model
@pytest.mark.slow
async def test_real_model_gives_empty_text_for_noise(
    real_factory: WhisperRecognizerFactory,
) -> None:
    rng = random.Random(7)
    noise = struct.pack("<16000h", *(rng.randint(-3000, 3000) for _ in range(16000)))
    rec = real_factory.create()
    await rec.start()
    await rec.accept(noise)
    assert (await rec.finish()).text == ""


@needs_model
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to make an OGG/Opus file")
def test_transcribe_file_reads_an_opus_voice_note(tmp_path: Path) -> None:
    clip = "paddlespeech_zh.wav"
    ogg = tmp_path / "voice.ogg"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-i",
            str(AUDIO / clip),
            "-ar",
            "48000",
            "-c:a",
            "libopus",
            str(ogg),
        ],
        check=True,
    )
    out = transcribe_file(ogg, engine="whisper", beam_size=1)
    assert out["engine"] == "whisper" and out["seconds"] == pytest.approx(5.0, abs=0.1)
    assert cer(_manifest()[clip], out["text"]) < 0.35, out
