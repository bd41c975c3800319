"""Character error rate and speed of the offline Whisper engine on real Mandarin clips.

Reads ``<repo>/../shared/audio/manifest.jsonl`` (``--audio DIR`` to override)
and decodes every clip at 16 kHz and after a phone round trip (16 kHz -> 8 kHz
-> G.711 µ-law -> 8 kHz -> 16 kHz, as :mod:`speech.rtp_session` hears a call),
for each model and beam size asked.  CER follows the set's README: punctuation
and spaces stripped, traditional -> simplified, Chinese numerals -> digits
(cn2an) and Latin letters lower-cased on both sides, then character edit
distance summed over the set / reference characters.

``--split`` also times where one decode's time goes (log-mel features,
encoder on the trimmed window, decoder = the rest) for ``cpu_threads`` 1 and 2.

    python benchmarks/asr_eval.py                       # base, beam 5 and 1
    python benchmarks/asr_eval.py --beams 5 --prompt hotline   # with the hotline prompt
    python benchmarks/asr_eval.py --beams 5 --no-phone --limit 6 --split
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from speech.asr_whisper import (  # noqa: E402
    DEFAULT_PROMPT,
    HOTLINE_PROMPT,
    WhisperConfig,
    WhisperEngine,
    load_whisper_engine,
    pcm_to_float,
)
from speech.codec_g711 import ulaw_decode, ulaw_encode  # noqa: E402
from speech.errors import ModelError  # noqa: E402
from speech.resample import resample  # noqa: E402
from speech.transcribe import edit_distance, normalise_for_cer  # noqa: E402
from speech.whisper_model import resolve_model_dir  # noqa: E402


def phone_round_trip(pcm16k: bytes) -> bytes:
    """16 kHz -> 8 kHz µ-law -> 16 kHz, as a PCMU call delivers the caller's voice."""
    narrow = resample(pcm16k, 16000, 8000)
    return resample(ulaw_decode(ulaw_encode(narrow)), 8000, 16000)


@dataclass
class Clip:
    name: str
    ref: str
    pcm: bytes

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 32000


def load_clips(audio_dir: Path, limit: int | None) -> list[Clip]:
    clips = []
    for line in (audio_dir / "manifest.jsonl").read_text("utf-8").splitlines()[:limit]:
        item = json.loads(line)
        with wave.open(str(audio_dir / item["file"]), "rb") as w:
            assert w.getframerate() == 16000 and w.getsampwidth() == 2 and w.getnchannels() == 1
            pcm = w.readframes(w.getnframes())
        clips.append(Clip(item["file"], item["transcript"], pcm))
    return clips


def evaluate(
    engine: WhisperEngine, clips: list[Clip], phone: bool, verbose: bool
) -> dict[str, Any]:
    edits = chars = 0
    decode_s: list[float] = []
    audio_s = cpu_s = 0.0
    for clip in clips:
        pcm = phone_round_trip(clip.pcm) if phone else clip.pcm
        t0, c0 = time.perf_counter(), time.process_time()
        hyp = engine.decode(pcm)
        decode_s.append(time.perf_counter() - t0)
        cpu_s += time.process_time() - c0
        audio_s += clip.seconds
        ref_n, hyp_n = normalise_for_cer(clip.ref), normalise_for_cer(hyp)
        e = edit_distance(ref_n, hyp_n)
        edits += e
        chars += len(ref_n)
        if verbose:
            print(f"    {clip.name:34s} {e / max(1, len(ref_n)):6.1%} {decode_s[-1]:5.2f}s {hyp}")
    return {
        "cer": edits / max(1, chars),
        "mean_s": sum(decode_s) / len(decode_s),
        "max_s": max(decode_s),
        "rtf": sum(decode_s) / audio_s,
        "cpu_s": cpu_s / len(decode_s),
    }


def split_times(engine: WhisperEngine, clips: list[Clip]) -> tuple[float, float, float]:
    """Mean seconds per clip: (log-mel features, encoder, whole decode)."""
    from faster_whisper.audio import pad_or_trim

    fw = engine.model
    feat = enc = total = 0.0
    for clip in clips:
        samples = pcm_to_float(clip.pcm)
        t0 = time.perf_counter()
        features = pad_or_trim(fw.feature_extractor(samples))
        t1 = time.perf_counter()
        fw.encode(features)
        t2 = time.perf_counter()
        engine.decode(clip.pcm)
        t3 = time.perf_counter()
        feat, enc, total = feat + t1 - t0, enc + t2 - t1, total + t3 - t2
    n = len(clips)
    return feat / n, enc / n, total / n


def pairs(engine: WhisperEngine, clips: list[Clip]) -> float:
    """Mean wall seconds per decode when two decodes run at once (two calls)."""
    from concurrent.futures import ThreadPoolExecutor

    def timed(clip: Clip) -> float:
        t0 = time.perf_counter()
        engine.decode(clip.pcm)
        return time.perf_counter() - t0

    times: list[float] = []
    with ThreadPoolExecutor(2) as pool:
        for i in range(0, len(clips) - 1, 2):
            times.extend(pool.map(timed, clips[i : i + 2]))
    return sum(times) / max(1, len(times))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--audio", type=Path, default=ROOT.parent / "shared" / "audio")
    p.add_argument("--models", default="base", help="comma list: base, small or directories")
    p.add_argument("--beams", default="5,1", help="comma list of beam sizes")
    p.add_argument("--threads", type=int, default=0, help="cpu_threads (0 = every core)")
    p.add_argument("--limit", type=int, default=None, help="first N clips only")
    p.add_argument("--no-phone", action="store_true", help="skip the 8 kHz µ-law round trip")
    p.add_argument("--prompt", default=DEFAULT_PROMPT, help='initial prompt text, or "hotline"')
    p.add_argument("--no-timestamps", action="store_true", help="decode without timestamp tokens")
    p.add_argument(
        "--window-pads",
        default="1.5,0",
        help="comma list of encoder-window paddings in seconds (0 = Whisper's full 30 s window)",
    )
    p.add_argument(
        "--split", action="store_true", help="time features/encoder/decoder, 1 vs 2 threads"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print every clip")
    args = p.parse_args(argv)
    if not (args.audio / "manifest.jsonl").is_file():
        print(f"skipped: no {args.audio}/manifest.jsonl")
        return 0
    clips = load_clips(args.audio, args.limit)
    total_s = sum(c.seconds for c in clips)
    print(f"{len(clips)} clips, {total_s:.0f} s of audio; cores {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.2f} at start")  # fmt: skip
    prompt = HOTLINE_PROMPT if args.prompt == "hotline" else args.prompt
    print(f"prompt: {prompt!r}; timestamps: {not args.no_timestamps}")
    rows = []
    for name in args.models.split(","):
        try:
            path = resolve_model_dir(name)
        except ModelError as exc:
            print(f"{name}: not available: {exc}")
            continue
        for beam, pad in (
            (int(b), float(w)) for b in args.beams.split(",") for w in args.window_pads.split(",")
        ):
            cfg = WhisperConfig(
                beam_size=beam,
                cpu_threads=args.threads,
                initial_prompt=prompt,
                timestamps=not args.no_timestamps,
                window_pad_s=pad,
            )
            t0 = time.perf_counter()
            try:
                engine = load_whisper_engine(path, cfg)
            except ModelError as exc:
                print(f"{name}: cannot load: {exc}")
                break
            load_s = time.perf_counter() - t0
            for phone in (False, *(() if args.no_phone else (True,))):
                band = "8k-ulaw" if phone else "16k"
                if args.verbose:
                    print(f"  {name} beam {beam} window pad {pad} {band}:")
                r = evaluate(engine, clips, phone, args.verbose)
                rows.append((name, beam, pad, band, r, load_s))
    print()
    print(f"{'model':6s} {'beam':>4s} {'window':>7s} {'audio':8s} {'CER':>6s} {'mean s':>7s} "
          f"{'max s':>6s} {'RTF':>5s} {'cpu s':>6s} {'load s':>6s}")  # fmt: skip
    for name, beam, pad, band, r, load_s in rows:
        window = f"+{pad:g}s" if pad > 0 else "30s"
        print(f"{name:6s} {beam:4d} {window:>7s} {band:8s} {r['cer']:6.1%} {r['mean_s']:7.2f} "
              f"{r['max_s']:6.2f} {r['rtf']:5.2f} {r['cpu_s']:6.2f} {load_s:6.2f}")  # fmt: skip
    base_rows = {(n, b, band): r for n, b, p_, band, r, _ in rows if p_ == 0}
    for name, beam, pad, band, r, _ in rows:
        full = base_rows.get((name, beam, band))
        if pad > 0 and full is not None and r["cpu_s"] > 0:
            print(f"{name} beam {beam} {band}: window +{pad:g}s vs 30 s: CPU per decode "
                  f"x{full['cpu_s'] / r['cpu_s']:.2f} less, wall x{full['mean_s'] / r['mean_s']:.2f}, "
                  f"CER {r['cer'] - full['cer']:+.1%}")  # fmt: skip
    print("(mean s = wall time per decode; cpu s = process CPU time per decode, less")
    print(" sensitive to other load; RTF = decode time / audio time)")
    if args.split:
        name = args.models.split(",")[0]
        print("\nwhere one decode's time goes (mean wall s per clip, beam 5):")
        print(f"{'threads':>7s} {'features':>8s} {'encoder':>8s} {'decoder':>8s} {'total':>6s}")
        for threads in (1, 2):
            engine = load_whisper_engine(
                resolve_model_dir(name), WhisperConfig(cpu_threads=threads)
            )
            feat, enc, total = split_times(engine, clips)
            print(
                f"{threads:7d} {feat:8.2f} {enc:8.2f} {max(0.0, total - feat - enc):8.2f} {total:6.2f}"
            )
        print("\ntwo calls finishing at once (mean wall s per decode, beam 5):")
        for threads, workers in ((2, 1), (1, 2)):
            cfg = WhisperConfig(cpu_threads=threads, num_workers=workers)
            engine = load_whisper_engine(resolve_model_dir(name), cfg)
            print(f"  cpu_threads {threads} num_workers {workers}: {pairs(engine, clips):.2f}")
    print(f"\nload average {os.getloadavg()[0]:.2f} at end (other processes share the cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
