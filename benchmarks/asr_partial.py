"""Does decoding while the caller talks (LocalAgreement) shorten the final decode?

whisper_streaming's LocalAgreement-2 commits the common prefix of two
consecutive hypotheses of the growing audio.  Here: for every clip of at least
``--min-seconds`` in ``../shared/audio`` (phone band, G.711 round trip), decode the
audio so far every ``--step`` seconds from 4 s on, take the agreed prefix of the
last two hypotheses (minus its last two characters, which are the least stable),
then decode the whole clip with that prefix forced (faster-whisper ``prefix=``),
so the decoder only generates the tail.  Printed beside the plain final decode,
same run, same model: final-decode wall time and CER.  (The partial decodes'
own CPU is not counted: on 2 cores it competes with the other calls.)

    python benchmarks/asr_partial.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.asr_eval import phone_round_trip  # noqa: E402
from speech.asr_whisper import (  # noqa: E402
    WhisperConfig,
    WhisperEngine,
    clean_text,
    load_whisper_engine,
    pcm_to_float,
)
from speech.transcribe import edit_distance, normalise_for_cer  # noqa: E402
from speech.whisper_model import resolve_model_dir  # noqa: E402


def decode(engine: WhisperEngine, pcm16k: bytes, prefix: str | None = None) -> str:
    """One decode as the phone channel's settings make it, optionally with a forced prefix."""
    cfg = engine.config
    segments, _ = engine.model.transcribe(
        pcm_to_float(pcm16k), language=cfg.language, beam_size=cfg.beam_size,
        temperature=list(cfg.temperatures), condition_on_previous_text=False,
        vad_filter=False, prefix=prefix,
    )  # fmt: skip
    kept = [s.text for s in segments if s.no_speech_prob <= cfg.no_speech_threshold]
    return clean_text("".join(kept))


def agreed_prefix(a: str, b: str) -> str:
    """The longest common prefix of two hypotheses."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--audio", type=Path, default=ROOT.parent / "shared" / "audio")
    ap.add_argument("--min-seconds", type=float, default=9.0)
    ap.add_argument("--step", type=float, default=2.0)
    args = ap.parse_args()
    engine = load_whisper_engine(resolve_model_dir("base"), WhisperConfig())
    clips = [json.loads(line) for line in (args.audio / "manifest.jsonl").open(encoding="utf-8")]
    clips = [c for c in clips if c["duration_s"] >= args.min_seconds]
    totals = {"plain": [0, 0, 0.0], "agreed prefix": [0, 0, 0.0]}
    for clip in clips:
        with wave.open(str(args.audio / clip["file"])) as w:
            pcm = phone_round_trip(w.readframes(w.getnframes()))
        ref = normalise_for_cer(clip["transcript"])
        t0 = time.perf_counter()
        plain = decode(engine, pcm)
        plain_s = time.perf_counter() - t0
        hyps, at = [], 4.0
        while at < clip["duration_s"] - 0.5:
            hyps.append(decode(engine, pcm[: int(at * 16000) * 2]))
            at += args.step
        agreed = agreed_prefix(hyps[-2], hyps[-1]) if len(hyps) >= 2 else ""
        agreed = agreed[: max(0, len(agreed) - 2)]
        t0 = time.perf_counter()
        tail = decode(engine, pcm, agreed or None)
        tail_s = time.perf_counter() - t0
        joined = tail if tail.startswith(agreed) else agreed + tail
        for key, text, secs in (("plain", plain, plain_s), ("agreed prefix", joined, tail_s)):
            row = totals[key]
            row[0] += edit_distance(ref, normalise_for_cer(text))
            row[1] += len(ref)
            row[2] += secs
        print(f"{clip['file'][:30]:30} {clip['duration_s']:5.1f} s: final decode plain "
              f"{plain_s:.2f} s, with {len(agreed)} agreed characters {tail_s:.2f} s")  # fmt: skip
    print(f"{len(clips)} clips >= {args.min_seconds:g} s, phone band, whisper base beam 5:")
    for key, (errs, chars, secs) in totals.items():
        print(f"  {key:14}: CER {errs / max(1, chars):.1%}, final decodes {secs:.1f} s in all")
    plain_s, la_s = totals["plain"][2], totals["agreed prefix"][2]
    print(f"  ratio final-decode time agreed/plain: {la_s / plain_s:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
