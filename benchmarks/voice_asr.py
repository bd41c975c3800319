"""Vosk decode time per utterance (needs JIESU_VOSK_MODEL; prints why not otherwise).

Feeds espeak-ng utterances (8 kHz, resampled to 16 kHz as on a call) in
20 ms chunks, as the phone flow does, and reports decode time after the end
of speech (finish) and the real-time factor.  espeak-ng is not natural speech,
so no accuracy figure is claimed from this.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speech.asr import short_answer_grammar  # noqa: E402
from speech.asr_vosk import VoskRecognizerFactory, load_vosk_model  # noqa: E402
from speech.errors import ModelError  # noqa: E402
from speech.resample import resample  # noqa: E402
from tests.auxil.sip_audio import silence, synth  # noqa: E402

TEXTS = ["小区楼下烧烤店晚上噪音很大", "望京西园三区", "确认", "不满意", "我要转人工"]


async def main() -> int:
    try:
        model = await load_vosk_model(os.environ.get("JIESU_VOSK_MODEL"))
    except ModelError as exc:
        print(f"skipped: {exc}")
        return 0
    rec = VoskRecognizerFactory(model).create()
    for grammar in (None, short_answer_grammar()):
        finish_ms, rtf = [], []
        for text in TEXTS:
            audio = resample(synth(text) + silence(0.3), 8000, 16000)
            await rec.start(grammar)
            for i in range(0, len(audio), 640):
                await rec.accept(audio[i : i + 640])
            t1 = time.perf_counter()
            result = await rec.finish()
            finish_ms.append((time.perf_counter() - t1) * 1e3)
            rtf.append(result.decode_s / (len(audio) / 32000))
            print(f"  {text} -> {result.text!r}")
        label = "grammar" if grammar else "full LM"
        print(
            f"{label}: finish() after end of speech mean {sum(finish_ms) / len(finish_ms):.0f} ms, "
            f"max {max(finish_ms):.0f} ms; real-time factor mean {sum(rtf) / len(rtf):.2f}"
        )
    await rec.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
