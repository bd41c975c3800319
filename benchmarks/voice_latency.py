"""End of resident speech -> first bot audio packet, over SIP/RTP on loopback.

Default (``--asr whisper``): real recorded Mandarin (clips from ``../shared/audio/``,
through the phone band: 8 kHz PCMU) decoded by the **real Whisper recogniser** the
phone channel loads (``speech.asr_engine.shared_recognizer_factory``: Whisper base
unless a Vosk model is installed), on the real stack.  Each caller says three clips;
the clips are not complaints, so the dialogue is whatever the bot makes of them (the
first is taken as a description, answered by the category question): the figure is
latency only, and the recognised first turns are scored by CER.  The split adds the
decode wait: ``vad`` = end of speech -> the flow asks the recogniser for its result
(end-of-utterance silence), ``decode`` = -> the Rasa request is sent (what is left of
the decode after the speculative start at 160 ms of silence), then Rasa, TTS, RTP.

``--asr scripted``: the earlier set-up, described below.

Scripted (``--asr scripted --mode both``): the **real stack** first — Rasa server + action server +
gateway with the embedded desk, started by ``bot.cli.supervisor.Stack`` like ``jiesu up``
and ``tests/conftest.py`` — then the fake Rasa REST server as a comparison line.

Callers are a second SIP UA in this process streaming espeak-ng speech as PCMU at
20 ms pacing; the bot runs the real VAD, espeak-ng TTS (memory cache, cold for each
new sentence) and the scripted recogniser, the tests' only stand-in (ASR decode time
is 0 here; ``voice_asr.py`` measures it when ``JIESU_VOSK_MODEL`` is set).  Real-stack
callers go through a whole complaint: description, location, phone (key-word "按一"),
confidentiality, three corrections at the read-back, and the confirming turn that
files the ticket; every call's dialogue is checked and the tickets are counted on the
desk.  The figure includes the end-of-utterance silence (``JIESU_SIP_END_SILENCE_MS``)
and is split into VAD wait, Rasa round trip, TTS of the first sentence and the wait
for the first RTP packet.  Both ends share one monotonic clock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from voice_common import BENCH_DESK_KEY, ROOT, percentile, phone_service, real_stack

from bot.channels.phone import prompts as P
from bot.channels.phone.channel import PhoneService
from bot.gateway.rasa_client import BotMessage, RasaClient
from speech.asr import AsrResult, Recognizer, RecognizerFactory, SpeculativeRecognizer
from speech.settings import PhoneSettings
from speech.sip.rtp_session import AudioIn
from speech.sip.ua import SipUA
from speech.tts import EspeakEngine, PromptCache, Tts
from tests.auxil.sip_audio import clip_pcm, silence, synth
from tests.auxil.sip_scripted_asr import ScriptedRecognizerFactory

FAKE_UTTERANCES = ["望京西园三区", "小区楼下烧烤店晚上噪音很大", "不对", "确认", "朝阳区望京街道"]
DESCRIPTIONS = [
    "楼下烧烤店每天晚上噪音很大影响休息", "小区门口的路灯坏了一个星期了",
    "马路上有个大坑好几辆车都颠坏了", "小区垃圾好几天没人清运了", "共享单车乱停堵住了小区出口",
]  # fmt: skip
LOCATIONS = ["朝阳区望京西园四区3号楼", "海淀区中关村大街27号", "丰台区方庄芳城园一区"]
FIXES = ["丰台区方庄芳城园二区", "西城区金融街8号", "东城区和平里九区"]
# What each real-stack turn must get back; "form" turns, the read-back, the submit turn.
EXPECTED = ["location", "phone", "anonymous", "readback", "readback", "readback", "readback",
            "ticket"]  # fmt: skip
GROUP = ["form"] * 4 + ["read-back"] * 3 + ["submit"]
_SENTENCE = re.compile(r"(?<=[。！？!?])")  # as bot.channels.phone.call_flow splits replies
AUDIO = ROOT.parent / "shared" / "audio"
#: Short, clear clips without a pause of 500 ms or more inside (the end-of-utterance timer
#: would cut there; paddlespeech_zh.wav, 680 ms, is left out for that reason).
CLIPS = ["cosyvoice_zero_shot_prompt.wav", "funasr_paraformer_ex0.wav",
         "fireredtts2_chat_zh_s2.wav", "mossttsd_moon_spk2.wav", "parrots_tushuguan.wav"]  # fmt: skip
WHISPER_TURNS = 3
WHISPER_GROUP = ["opening", "answer", "answer"]


def complaint_turns(i: int) -> list[str]:
    """What caller ``i`` says, turn by turn (varied so read-backs are not cache hits)."""
    return [
        DESCRIPTIONS[i % len(DESCRIPTIONS)], LOCATIONS[i % len(LOCATIONS)], "按一", "不需要",
        f"地址不对，是{FIXES[i % len(FIXES)]}", "电话改成13900001111", "时间是昨天晚上", "确认",
    ]  # fmt: skip


def reply_kind(replies: list[BotMessage]) -> str:
    """What a bot turn asks for (mirrors tests/auxil/conversation.py)."""
    text = "\n".join(m.get("text", "") for m in replies)
    for kind, marker in (("ticket", "工单号"), ("readback", "请核对"), ("location", "什么地方"),
                         ("phone", "联系电话"), ("phone", "来电号码"), ("anonymous", "保密")):  # fmt: skip
        if marker in text:
            return kind
    return f"unexpected: {text[:60]!r}"


# -- instrumentation: Rasa and TTS timed in the task of the call flow that used them ----


@dataclass
class Event:
    """One timed Rasa request or TTS synthesis, tagged with the asyncio task (= call)."""

    kind: str
    task: int
    t0: float
    t1: float
    text: str = ""
    sender: str = ""
    replies: list[BotMessage] = field(default_factory=list)
    decode_s: float = 0.0


EVENTS: list[Event] = []


def _task_id() -> int:
    return id(asyncio.current_task())


class TimedRasa(RasaClient):
    """The production client, timing each round trip."""

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        t0 = time.monotonic()
        replies = await super().send(sender, text, metadata)
        EVENTS.append(Event("rasa", _task_id(), t0, time.monotonic(), text, sender, replies))
        return replies


class TimedTts(Tts):
    """The production TTS, timing each sentence (cache hits included)."""

    async def synthesize(self, text: str) -> bytes:
        t0 = time.monotonic()
        pcm = await super().synthesize(text)
        EVENTS.append(Event("tts", _task_id(), t0, time.monotonic(), text))
        return pcm


class TimedRecognizer:
    """A call's recogniser, timing :meth:`finish` (the decode the flow waits for)."""

    def __init__(self, inner: Recognizer) -> None:
        self.inner = inner

    async def start(self, grammar: list[str] | None = None) -> None:
        """As the wrapped recogniser."""
        await self.inner.start(grammar)

    async def accept(self, pcm16k: bytes) -> str:
        """As the wrapped recogniser."""
        return await self.inner.accept(pcm16k)

    def speculate(self) -> None:
        """As the wrapped recogniser (Whisper starts decoding at the first silence)."""
        if isinstance(self.inner, SpeculativeRecognizer):
            self.inner.speculate()

    async def finish(self) -> AsrResult:
        """The wrapped result; records the wait and the whole decode (speculation included)."""
        t0 = time.monotonic()
        result = await self.inner.finish()
        EVENTS.append(Event("asr", _task_id(), t0, time.monotonic(), result.text,
                            decode_s=result.decode_s))  # fmt: skip
        return result

    async def close(self) -> None:
        """As the wrapped recogniser."""
        await self.inner.close()


class TimedRecognizerFactory:
    """Wraps each call's recogniser in :class:`TimedRecognizer`."""

    def __init__(self, inner: RecognizerFactory) -> None:
        self.inner = inner

    def create(self) -> TimedRecognizer:
        """A timed recogniser for a new call."""
        return TimedRecognizer(self.inner.create())


# -- the caller -------------------------------------------------------------------------


@dataclass
class Sample:
    """One caller turn: end of its speech and the first loud bot packet after it."""

    call_id: str
    turn: int
    end_of_speech: float
    arrival: float

    @property
    def latency(self) -> float:
        """Caller-side figure (packet start, not its end: minus its 20 ms)."""
        return self.arrival - self.end_of_speech - 0.02


def _last_loud_frame(pcm: bytes, threshold: int = 100) -> int:
    n = len(pcm) // 320
    last = 0
    for i in range(n):
        frame = struct.unpack("<160h", pcm[i * 320 : (i + 1) * 320])
        if (sum(s * s for s in frame) / 160) ** 0.5 > threshold:
            last = i
    return last


def _loud(pcm: bytes, threshold: int = 100) -> bool:
    n = len(pcm) // 2
    samples = struct.unpack(f"<{n}h", pcm)
    return (sum(s * s for s in samples) / max(1, n)) ** 0.5 > threshold


async def one_call(caller: SipUA, uri: str, turns: list[bytes], samples: list[Sample]) -> str:
    """Place a call, say ``turns`` (8 kHz PCM; barging in 0.3 s into each reply), hang up."""
    call = await caller.place_call(uri, 5)
    q = call.media.inbound
    try:
        for turn, speech in enumerate(turns):
            pcm = speech + silence(0.05)
            pb = call.play(pcm)
            await pb.done
            assert pb.first_sent_at is not None
            end_of_speech = pb.first_sent_at + (_last_loud_frame(pcm) + 1) * 0.02
            while not q.empty():
                q.get_nowait()
            while True:
                item = await asyncio.wait_for(q.get(), 30)
                if isinstance(item, AudioIn) and item.at > end_of_speech and _loud(item.pcm):
                    samples.append(Sample(call.call_id, turn, end_of_speech, item.at))
                    break
            await asyncio.sleep(0.3)  # let the reply play a little, then barge in
    finally:
        await call.hangup()
    return call.call_id


def spoken(scripts: list[list[str]]) -> list[list[bytes]]:
    """espeak-ng PCM of each script line (synthesised before the bot runs)."""
    return [[synth(text, 220) for text in script] for script in scripts]


async def run_calls(
    service: PhoneService, scripts: list[list[bytes]], concurrency: int
) -> tuple[list[Sample], list[str], float]:
    """Run one call per script (8 kHz PCM turns), ``concurrency`` at a time;
    (samples, call ids, wall s)."""
    caller = SipUA(PhoneSettings(sip_host="127.0.0.1", sip_port=0, sip_user="+8613800001111"))
    await caller.start()
    host, port = service.ua.local_address
    gate = asyncio.Semaphore(concurrency)
    samples: list[Sample] = []

    async def gated(i: int, script: list[bytes]) -> str:
        await asyncio.sleep(0.7 * (i % concurrency))  # do not let the turns line up
        async with gate:
            return await one_call(caller, f"sip:12345@{host}:{port}", script, samples)

    t0 = time.perf_counter()
    try:
        ids = await asyncio.gather(*(gated(i, s) for i, s in enumerate(scripts)))
    finally:
        await caller.stop()
    return samples, list(ids), time.perf_counter() - t0


def _stats(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (f"p50 {percentile(values, 50) * 1e3:.0f} ms, p95 {percentile(values, 95) * 1e3:.0f}"
            f" ms, max {max(values) * 1e3:.0f} ms")  # fmt: skip


# -- real stack -----------------------------------------------------------------------------


async def dry_run(rasa: RasaClient) -> list[float]:
    """One complaint by text (warms Rasa; fails fast when the dialogue changed)."""
    buttons: list[Any] = []
    times = []
    meta = {"channel": "phone", "phone": "+8613800001111", "call_id": "bench-dry-run"}
    for text, want in zip(complaint_turns(0), EXPECTED, strict=True):
        msg = P.match_button(text, buttons) or text
        t0 = time.monotonic()
        replies = await rasa.send("tel:bench-dry-run", msg, meta)
        times.append(time.monotonic() - t0)
        _, buttons = P.spoken_reply(replies)
        if reply_kind(replies) != want:
            raise SystemExit(f"dialogue changed: {text!r} -> {reply_kind(replies)}, want {want}")
    return times


def split(samples: list[Sample]) -> list[tuple[str, dict[str, float]]]:
    """Per-turn (group, components) from the events of the call's flow task.

    ``vad`` = caller's end of speech -> Rasa request sent; ``rasa`` = round trip;
    ``tts`` = Rasa reply -> first sentence synthesised; ``rtp`` = -> first packet at the
    caller (minus its 20 ms, as the total).  They add up to the caller-side figure.
    """
    by_sender: dict[str, list[Event]] = {}
    tts_by_task: dict[int, list[Event]] = {}
    for ev in EVENTS:
        if ev.kind == "rasa" and ev.text != "/call_ended":
            by_sender.setdefault(ev.sender, []).append(ev)
        elif ev.kind == "tts":
            tts_by_task.setdefault(ev.task, []).append(ev)
    out: list[tuple[str, dict[str, float]]] = []
    for s in samples:
        rasa_events = by_sender.get(f"tel:{s.call_id}", [])
        if s.turn >= len(rasa_events):
            continue
        r = rasa_events[s.turn]
        tts = next((t for t in tts_by_task.get(r.task, []) if t.t0 >= r.t1), None)
        if tts is None:
            continue
        out.append((GROUP[s.turn], {
            "vad": r.t0 - s.end_of_speech, "rasa": r.t1 - r.t0, "tts": tts.t1 - r.t1,
            "rtp": s.arrival - 0.02 - tts.t1,
        }))  # fmt: skip
    return out


def check_dialogues(ids: list[str]) -> tuple[int, list[str]]:
    """How many calls got exactly the expected bot turns; what went wrong otherwise."""
    ok, problems = 0, []
    for call_id in ids:
        kinds = [reply_kind(e.replies) for e in EVENTS
                 if e.kind == "rasa" and e.sender == f"tel:{call_id}" and e.text != "/call_ended"]  # fmt: skip
        if kinds == EXPECTED:
            ok += 1
        else:
            problems.append(f"{call_id[:8]}: {kinds}")
    return ok, problems


async def desk_ticket_count(http: aiohttp.ClientSession, gateway: str, want: int) -> int:
    """Tickets on the embedded desk once the outbox has delivered (waits up to 15 s)."""
    url = f"{gateway}/open311/v2/requests.json"
    n, deadline = 0, time.monotonic() + 15
    while time.monotonic() < deadline:
        async with http.get(url, params={"api_key": BENCH_DESK_KEY}) as resp:
            n = len(await resp.json())
        if n >= want:
            break
        await asyncio.sleep(0.5)
    return n


async def real_mode(calls: int, concurrency: int, end_ms: int) -> list[float]:
    """Benchmark against the real stack; print its figures; return the latencies."""
    t0 = time.monotonic()
    with real_stack() as cfg:
        print(f"real stack up in {time.monotonic() - t0:.0f} s (Rasa :{cfg.rasa_port}, actions "
              f":{cfg.action_port}, gateway+desk :{cfg.port})")  # fmt: skip
        settings = PhoneSettings(sip_host="127.0.0.1", sip_port=0, tts_cache_dir="",
                                 end_silence_ms=end_ms, no_input_s=30,
                                 invite_burst=100_000)  # fmt: skip
        scripts = [complaint_turns(i) for i in range(calls)]
        async with aiohttp.ClientSession() as http:
            rasa = TimedRasa(cfg.rasa_url, http, timeout_s=60)
            dry = await dry_run(RasaClient(cfg.rasa_url, http, timeout_s=60))
            print(f"dry run by text (warm-up, dialogue check): Rasa {_stats(dry)}")
            tts = TimedTts(EspeakEngine(settings.tts_voice, settings.tts_speed), PromptCache(512))
            service = PhoneService(settings, rasa, _PerCallScripts(scripts), tts)
            await service.start()
            try:
                samples, ids, wall = await run_calls(service, spoken(scripts), concurrency)
            finally:
                await service.stop()
            ok, problems = check_dialogues(ids)
            tickets = await desk_ticket_count(http, f"http://127.0.0.1:{cfg.port}", calls + 1)
        internal = [t.latency_s for t in service.deps.timings if t.latency_s is not None]
    lat = [s.latency for s in samples]
    print(f"turns measured: {len(samples)} ({calls} calls x {len(EXPECTED)} turns, "
          f"{concurrency} at a time), {wall:.0f} s")  # fmt: skip
    print(f"dialogues as expected: {ok}/{calls}; tickets on the desk: {tickets} "
          f"(incl. 1 from the dry run)")  # fmt: skip
    for p in problems[:5]:
        print(f"  unexpected dialogue {p}")
    print(f"end-of-utterance silence setting: {end_ms} ms (included in the figures)")
    print(f"REAL STACK  caller-side, end of speech -> first bot audio packet: {_stats(lat)}")
    for group in ("form", "read-back", "submit"):
        vals = [s.latency for s in samples if GROUP[s.turn] == group]
        print(f"  {group:9} turns ({len(vals):3}): {_stats(vals)}")
    parts = split(samples)
    print(f"  split over {len(parts)} turns (p95 per turn group: form / read-back / submit):")
    names = {"vad": "VAD end-of-utterance wait + hand-off", "rasa": "Rasa round trip (NLU, "
             "policies, action server)", "tts": "TTS of the reply's first sentence",
             "rtp": "TTS done -> first loud RTP packet, -20 ms"}  # fmt: skip
    for key, name in names.items():
        every = [p[key] for _, p in parts]
        by_group = " / ".join(
            f"{percentile([p[key] for g, p in parts if g == group], 95) * 1e3:.0f}"
            for group in ("form", "read-back", "submit")
        )
        print(f"    {name:42}: {_stats(every)}  [p95 {by_group} ms]")
    print(f"  bot-side (VAD speech end -> first reply packet sent, minus ASR): {_stats(internal)}")
    return lat


class _PerCallScripts(ScriptedRecognizerFactory):
    """The scripted recogniser, with call ``n`` (in answering order) reading script ``n``.

    Calls are answered in the order they are placed only up to the gate; the per-call
    dialogue check catches any mix-up.
    """

    def __init__(self, scripts: list[list[str]]) -> None:
        super().__init__([])
        self._scripts = scripts

    def create(self) -> Any:
        """Recogniser for the next call, reading that call's lines."""
        self.script = self._scripts[len(self.created) % len(self._scripts)]
        return super().create()


async def fake_mode(end_ms: int, calls: int = 3, turns: int = 8) -> list[float]:
    """The earlier figure: fake Rasa REST server, 3 concurrent calls x 8 turns."""
    script = [FAKE_UTTERANCES[i % len(FAKE_UTTERANCES)] for i in range(turns)]
    async with phone_service(script, end_silence_ms=end_ms, no_input_s=30) as service:
        samples, _, wall = await run_calls(service, spoken([script] * calls), calls)
        internal = [t.latency_s for t in service.deps.timings if t.latency_s is not None]
    lat = [s.latency for s in samples]
    print(f"FAKE RASA   caller-side, end of speech -> first bot audio packet: {_stats(lat)} "
          f"({len(lat)} turns, {calls} concurrent calls, {wall:.0f} s); bot-side "
          f"{_stats(internal)}")  # fmt: skip
    return lat


# -- real stack, real Whisper ---------------------------------------------------------------


def reference(name: str) -> str:
    """A clip's transcript from the shared manifest."""
    import json

    for line in (AUDIO / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["file"] == name:
            return str(entry["transcript"])
    raise LookupError(name)


def whisper_scripts(calls: int) -> list[list[str]]:
    """Clip names per call: three different clips, rotated so calls differ."""
    return [[CLIPS[(i + k) % len(CLIPS)] for k in range(WHISPER_TURNS)] for i in range(calls)]


@dataclass
class Turn:
    """One measured whisper-mode turn, matched to the flow's recogniser and Rasa events."""

    sample: Sample
    clip: str
    heard: str | None = None
    parts: dict[str, float] | None = None
    decode_total: float | None = None


def match_turns(samples: list[Sample], ids: list[str], scripts: list[list[str]]) -> list[Turn]:
    """Pair each sample with the Rasa request its speech caused (the first one sent after
    the end of speech) and the recogniser result just before it, in the same task."""
    clip_of = {call_id: script for call_id, script in zip(ids, scripts, strict=True)}
    rasa: dict[str, list[Event]] = {}
    asr: dict[int, list[Event]] = {}
    tts: dict[int, list[Event]] = {}
    for ev in EVENTS:
        if ev.kind == "rasa" and ev.text != "/call_ended":
            rasa.setdefault(ev.sender, []).append(ev)
        elif ev.kind == "asr":
            asr.setdefault(ev.task, []).append(ev)
        elif ev.kind == "tts":
            tts.setdefault(ev.task, []).append(ev)
    out = []
    for s in samples:
        turn = Turn(s, clip_of[s.call_id][s.turn])
        out.append(turn)
        r = next((e for e in rasa.get(f"tel:{s.call_id}", []) if e.t0 >= s.end_of_speech), None)
        if r is None or r.t1 > s.arrival:
            continue  # no Rasa turn behind this reply (a re-prompt after an empty result)
        a = next((e for e in reversed(asr.get(r.task, [])) if e.t1 <= r.t0), None)
        t = next((e for e in tts.get(r.task, []) if e.t0 >= r.t1), None)
        if a is None or t is None or a.t0 < s.end_of_speech:
            continue
        turn.heard, turn.decode_total = r.text, a.decode_s
        turn.parts = {"vad": a.t0 - s.end_of_speech, "decode": r.t0 - a.t0, "rasa": r.t1 - r.t0,
                      "tts": t.t1 - r.t1, "rtp": s.arrival - 0.02 - t.t1}  # fmt: skip
    return out


async def whisper_mode(calls: int, concurrency: int, end_ms: int, beam: int = 5) -> list[float]:
    """Real stack, real recorded speech, the real recogniser; print the figures."""
    from speech.asr_engine import resolve_engine, shared_recognizer_factory
    from speech.transcribe import cer

    if not (AUDIO / "manifest.jsonl").is_file():
        raise SystemExit(f"no clips in {AUDIO} (the shared audio set)")
    settings = PhoneSettings(sip_host="127.0.0.1", sip_port=0, tts_cache_dir="",
                             end_silence_ms=end_ms, no_input_s=30, whisper_beam_size=beam,
                             invite_burst=100_000)  # fmt: skip
    t0 = time.monotonic()
    recognizers = await shared_recognizer_factory(settings)
    print(f"recogniser: {resolve_engine(settings).value} {settings.whisper_model}, beam "
          f"{settings.whisper_beam_size}, loaded in {time.monotonic() - t0:.1f} s")  # fmt: skip
    names = whisper_scripts(calls)
    audio = [[clip_pcm(AUDIO / n) for n in script] for script in names]
    t0 = time.monotonic()
    with real_stack() as cfg:
        print(f"real stack up in {time.monotonic() - t0:.0f} s")
        async with aiohttp.ClientSession() as http:
            await dry_run(RasaClient(cfg.rasa_url, http, timeout_s=60))  # warm-up
            await _warm_decoder(recognizers)
            rasa = TimedRasa(cfg.rasa_url, http, timeout_s=60)
            tts = TimedTts(EspeakEngine(settings.tts_voice, settings.tts_speed), PromptCache(512))
            service = PhoneService(settings, rasa, TimedRecognizerFactory(recognizers), tts)
            await service.start()
            try:
                samples, ids, wall = await run_calls(service, audio, concurrency)
            finally:
                await service.stop()
    turns = match_turns(samples, ids, names)
    lat = [s.latency for s in samples]
    print(f"turns measured: {len(samples)} ({calls} calls x {WHISPER_TURNS} recorded clips, "
          f"{concurrency} at a time), {wall:.0f} s; end-of-utterance silence {end_ms} ms")  # fmt: skip
    print(f"REAL STACK + WHISPER  caller-side, end of speech -> first bot audio: {_stats(lat)}")
    for group in ("opening", "answer"):
        vals = [s.latency for s in samples if WHISPER_GROUP[s.turn] == group]
        print(f"  {group:8} turns ({len(vals):3}): {_stats(vals)}")
    split_turns = [t for t in turns if t.parts is not None]
    print(f"  split over {len(split_turns)} turns with a Rasa reply:")
    names_of = {"vad": "VAD end-of-utterance wait", "decode": "ASR decode wait (after "
                "speculative start) + hand-off", "rasa": "Rasa round trip", "tts": "TTS of "
                "the first sentence", "rtp": "TTS done -> first loud RTP packet, -20 ms"}  # fmt: skip
    for key, label in names_of.items():
        print(f"    {label:50}: {_stats([t.parts[key] for t in split_turns if t.parts])}")
    totals = [t.decode_total for t in split_turns if t.decode_total is not None]
    print(f"    {'whole decode (speculation included)':50}: {_stats(totals)}")
    scored = [(t.clip, t.heard) for t in split_turns if t.heard is not None]
    cers = [cer(reference(c), h) for c, h in scored]
    if cers:
        print(f"  recognised clips: mean CER {sum(cers) / len(cers):.1%} over {len(cers)} turns")
    for clip in CLIPS:
        heard = sorted({h for c, h in scored if c == clip})
        if heard:
            print(f"    {clip:34} -> {' | '.join(heard)[:90]}")
    print(f"  bot-side (VAD speech end -> first reply packet sent, minus ASR): "
          f"{_stats([t.latency_s for t in service.deps.timings if t.latency_s is not None])}")  # fmt: skip
    print("  slowest turns:")
    for t in sorted(turns, key=lambda t: -t.sample.latency)[:3]:
        parts = " ".join(f"{k} {v * 1e3:.0f}" for k, v in (t.parts or {}).items())
        print(f"    {t.sample.latency * 1e3:6.0f} ms  turn {t.sample.turn} {t.clip}: {parts} ms;"
              f" heard {t.heard!r}")  # fmt: skip
    return lat


async def _warm_decoder(recognizers: RecognizerFactory) -> None:
    """One decode before the calls (the first one pays for lazy initialisation)."""
    from speech.resample import resample
    from speech.transcribe import transcribe_pcm

    await transcribe_pcm(recognizers, resample(clip_pcm(AUDIO / CLIPS[0]), 8000, 16000))


def _use_jiesu_model() -> None:
    """``JIESU_MODEL=path.tar.gz``: start Rasa on that model instead of the cached one."""
    model = os.environ.get("JIESU_MODEL")
    if model:
        from pathlib import Path

        import bot.cli.model_cache as model_cache

        model_cache.ensure_model = lambda *a, **k: Path(model)  # type: ignore[assignment]


async def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run the chosen modes."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--asr", choices=["whisper", "scripted"], default="whisper",
                    help="whisper: recorded clips, real recogniser, real stack (default)")  # fmt: skip
    ap.add_argument("--mode", choices=["both", "real", "fake"], default="both",
                    help="with --asr scripted: real stack, fake Rasa or both")  # fmt: skip
    ap.add_argument("--calls", type=int, default=None,
                    help="real-stack calls (whisper: 8 x 3 turns; scripted: 15 x 8 turns)")  # fmt: skip
    ap.add_argument("--beam", type=int, default=5, help="Whisper beam size (whisper mode)")
    ap.add_argument("--concurrency", type=int, default=None,
                    help="calls at once (whisper: 1; scripted: 3)")  # fmt: skip
    args = ap.parse_args(argv)
    end_ms = int(os.environ.get("JIESU_SIP_END_SILENCE_MS", "500"))
    _use_jiesu_model()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} cores)")  # fmt: skip
    if args.asr == "whisper":
        await whisper_mode(args.calls or 8, args.concurrency or 1, end_ms, args.beam)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return
    args.calls, args.concurrency = args.calls or 15, args.concurrency or 3
    if args.mode in ("both", "real"):
        await real_mode(args.calls, args.concurrency, end_ms)
    if args.mode in ("both", "fake"):
        await fake_mode(end_ms)
    print("ASR decode: 0 ms (scripted recogniser); see voice_asr.py with JIESU_VOSK_MODEL")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
