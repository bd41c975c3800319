"""Vosk loader errors (always) and real decoding (only with JIESU_VOSK_MODEL)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from speech.asr import short_answer_grammar
from speech.asr_vosk import VoskRecognizerFactory, check_model_dir, load_vosk_model, parse_result
from speech.errors import ModelBroken, ModelNotFound
from speech.resample import resample
from tests.auxil.sip_audio import silence, synth

FIX = "jiesu speech fetch-model"


def _fake_model(root: Path, graph: tuple[str, ...] = ("graph/HCLr.fst", "graph/Gr.fst")) -> Path:
    for f in ("am/final.mdl", "conf/model.conf", *graph):
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_bytes(b"garbage")
    return root


@pytest.mark.parametrize("path", [None, "", "/nonexistent/vosk-model"])
def test_missing_model_names_the_fix(path) -> None:
    with pytest.raises(ModelNotFound, match=FIX):
        check_model_dir(path)


def test_incomplete_model_lists_missing_files(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    with pytest.raises(ModelNotFound, match="am/final.mdl") as info:
        check_model_dir(tmp_path)
    assert info.value.path == str(tmp_path) and FIX in str(info.value)


def test_complete_layout_passes(tmp_path: Path) -> None:
    assert check_model_dir(_fake_model(tmp_path)) == tmp_path
    assert check_model_dir(_fake_model(tmp_path / "big", ("graph/HCLG.fst",)))


async def test_broken_model_raises_model_broken(tmp_path: Path) -> None:
    with pytest.raises(ModelBroken, match=FIX):
        await load_vosk_model(_fake_model(tmp_path))


def test_parse_result_joins_chinese_words() -> None:
    raw = '{"result": [{"word": "噪音", "start": 0.1, "end": 0.5, "conf": 0.9}], "text": "噪音 很 大"}'
    text, words = parse_result(raw)
    assert text == "噪音很大" and words[0].word == "噪音" and words[0].end == 0.5


def test_grammar_ends_with_unknown() -> None:
    g = short_answer_grammar(["确认", "修改", "确认", "不满意"])
    assert g[0] == "确认" and g[-1] == "[unk]" and "不满意" in g and "九" in g
    assert len(g) == len(set(g))


@pytest.fixture(scope="module")
def model_dir() -> str:
    path = os.environ.get("JIESU_VOSK_MODEL")
    if not path:
        pytest.skip("JIESU_VOSK_MODEL is not set (run `jiesu speech fetch-model`)")
    return path


@pytest.mark.vosk_model
async def test_real_model_decodes_espeak_speech(model_dir: str) -> None:
    model = await load_vosk_model(model_dir)
    rec = VoskRecognizerFactory(model).create()
    audio = resample(silence(0.3) + synth("确认", 140) + silence(0.5), 8000, 16000)
    await rec.start(short_answer_grammar(["确认"]))
    for i in range(0, len(audio), 3200):
        await rec.accept(audio[i : i + 3200])
    result = await rec.finish()
    assert result.decode_s > 0
    assert isinstance(result.text, str)  # espeak is far from the training data: no exact match
    await rec.close()
