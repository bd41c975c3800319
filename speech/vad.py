"""Voice activity detection and end-of-utterance detection (pure, synchronous).

:class:`Endpointer` turns a stream of 16-bit PCM into events: speech
started (used for barge-in), utterance ended (with its audio), and no input
(the caller said nothing before the deadline).  It does no I/O and reads no
clock: callers pass ``now`` (from :mod:`speech.clock`) with every call, so
tests can replay audio at any speed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

import webrtcvad

__all__ = [
    "EndpointConfig",
    "Endpointer",
    "NoInput",
    "SpeechStarted",
    "Utterance",
    "VadEvent",
    "WebRtcVad",
]


class FrameClassifier(Protocol):
    """Says whether one frame of PCM is speech."""

    def is_speech(self, frame: bytes, sample_rate: int) -> bool:
        """Return True when ``frame`` contains speech."""
        ...


# webrtcvad keeps saying "voiced" for a few frames after speech ends (its overhang,
# kOverHangMax1* in common_audio/vad/vad_core.c), per mode and frame length 10/20/30 ms.
# The shorter overhang (after short bursts) is the one it always adds.
_OVERHANG_FRAMES = {0: (8, 4, 3), 1: (8, 4, 3), 2: (6, 3, 2), 3: (6, 3, 2)}


class WebRtcVad:
    """:class:`FrameClassifier` backed by ``webrtcvad`` (GMM, 10/20/30 ms frames)."""

    def __init__(self, aggressiveness: int) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        self._mode = aggressiveness

    def overhang_frames(self, frame_ms: int) -> int:
        """Frames webrtcvad still calls voiced after speech has stopped (at least)."""
        return _OVERHANG_FRAMES[self._mode][(10, 20, 30).index(frame_ms)]

    def is_speech(self, frame: bytes, sample_rate: int) -> bool:
        """Classify one frame."""
        return bool(self._vad.is_speech(frame, sample_rate))


@dataclass(frozen=True)
class EndpointConfig:
    """Tunable VAD/endpointing parameters.

    Attributes:
        sample_rate: PCM rate fed in (8000 for G.711 calls).
        frame_ms: Analysis frame (10, 20 or 30 ms; webrtcvad's limits).
        aggressiveness: webrtcvad mode 0 (lenient) .. 3 (strict about noise).
        onset_window_ms: Window in which voiced frames are counted for onset.
        onset_ms: Voiced audio within the window that starts an utterance.
        end_silence_ms: Trailing silence that ends an utterance.
        preroll_ms: Audio kept from before the onset (word starts are soft).
        no_input_s: Time after :meth:`Endpointer.arm` without speech -> NoInput.
        max_utterance_s: An utterance longer than this is cut (reason ``max_length``).
    """

    sample_rate: int = 8000
    frame_ms: int = 20
    aggressiveness: int = 3
    onset_window_ms: int = 200
    onset_ms: int = 120
    end_silence_ms: int = 500
    preroll_ms: int = 300
    no_input_s: float = 7.0
    max_utterance_s: float = 30.0

    @property
    def frame_bytes(self) -> int:
        """Bytes in one analysis frame of 16-bit mono PCM."""
        return self.sample_rate * self.frame_ms // 1000 * 2


@dataclass(frozen=True)
class SpeechStarted:
    """Onset detected.

    Attributes:
        at: When the first voiced frame of the onset began.
        audio: Pre-roll and onset audio so far (for streaming recognisers).
    """

    at: float
    audio: bytes = b""


@dataclass(frozen=True)
class Utterance:
    """A complete utterance.

    Attributes:
        audio: 16-bit PCM at the config's rate, pre-roll included.
        started_at: Time the speech began.
        speech_ended_at: End of the last voiced frame (the resident stopped talking).
        detected_at: When the endpoint was declared (``speech_ended_at`` + silence).
        reason: ``silence`` or ``max_length``.
    """

    audio: bytes
    started_at: float
    speech_ended_at: float
    detected_at: float
    reason: Literal["silence", "max_length"]


@dataclass(frozen=True)
class NoInput:
    """Nothing was said before the no-input deadline."""

    at: float


VadEvent = SpeechStarted | Utterance | NoInput


class Endpointer:
    """Stateful end-of-utterance detector; one per call.

    Feed PCM of any length with :meth:`feed`; it is cut into analysis frames.
    ``now`` is the time at the *end* of the chunk being fed.
    """

    def __init__(self, config: EndpointConfig, vad: FrameClassifier | None = None) -> None:
        self.config = config
        self._vad = vad or WebRtcVad(config.aggressiveness)
        self._pending = b""
        fm = config.frame_ms
        self._onset_frames = max(1, config.onset_ms // fm)
        self._window: deque[bool] = deque(maxlen=max(1, config.onset_window_ms // fm))
        self._preroll: deque[bytes] = deque(maxlen=max(1, config.preroll_ms // fm))
        # Trailing silence is counted from where speech really stopped: the classifier's
        # overhang frames are already silence (without this, 500 ms waited 560-620 ms).
        overhang = getattr(self._vad, "overhang_frames", None)
        self._overhang = int(overhang(fm)) if callable(overhang) else 0
        self._end_frames = max(1, config.end_silence_ms // fm - self._overhang)
        self._max_frames = int(config.max_utterance_s * 1000 // fm)
        self._in_speech = False
        self._frames: list[bytes] = []
        self._silent_run = 0
        self._started_at = 0.0
        self._deadline: float | None = None

    @property
    def in_speech(self) -> bool:
        """True between onset and end of an utterance."""
        return self._in_speech

    @property
    def trailing_silence_ms(self) -> int:
        """Milliseconds of silence since the caller last spoke (0 while speaking or idle)."""
        if not self._in_speech or self._silent_run == 0:
            return 0
        return (self._silent_run + self._overhang) * self.config.frame_ms

    def arm(self, now: float, timeout_s: float | None = None) -> None:
        """Start the no-input timer (call when the bot starts waiting for an answer)."""
        self._deadline = now + (self.config.no_input_s if timeout_s is None else timeout_s)

    def disarm(self) -> None:
        """Stop the no-input timer (e.g. while the bot is talking)."""
        self._deadline = None

    def poll(self, now: float) -> list[VadEvent]:
        """Check the no-input deadline without new audio (RTP may stop entirely)."""
        if self._deadline is not None and not self._in_speech and now >= self._deadline:
            self._deadline = None
            return [NoInput(now)]
        return []

    def flush(self, now: float) -> Utterance | None:
        """End a half-spoken utterance now (the caller hung up mid-sentence)."""
        if not self._in_speech:
            return None
        return self._finish(now, now, "max_length")

    def reset(self) -> None:
        """Drop any partial utterance and buffered audio."""
        self._pending = b""
        self._window.clear()
        self._preroll.clear()
        self._in_speech = False
        self._frames = []
        self._silent_run = 0

    def feed(self, pcm: bytes, now: float) -> list[VadEvent]:
        """Analyse ``pcm`` (ending at time ``now``) and return the events it caused."""
        cfg = self.config
        data = self._pending + pcm
        n = len(data) // cfg.frame_bytes
        self._pending = data[n * cfg.frame_bytes :]
        frame_s = cfg.frame_ms / 1000
        # Time at the end of frame i (pending bytes are after the last full frame).
        tail_s = len(self._pending) / 2 / cfg.sample_rate
        events: list[VadEvent] = []
        for i in range(n):
            frame = data[i * cfg.frame_bytes : (i + 1) * cfg.frame_bytes]
            end_t = now - tail_s - (n - 1 - i) * frame_s
            events.extend(self._frame(frame, end_t, frame_s))
        events.extend(self.poll(now))
        return events

    def _frame(self, frame: bytes, end_t: float, frame_s: float) -> list[VadEvent]:
        voiced = self._vad.is_speech(frame, self.config.sample_rate)
        if not self._in_speech:
            self._preroll.append(frame)
            self._window.append(voiced)
            if sum(self._window) >= self._onset_frames:
                self._in_speech = True
                self._deadline = None
                self._frames = list(self._preroll)
                self._preroll.clear()
                self._window.clear()
                self._silent_run = 0
                voiced_run = min(len(self._frames), self._onset_frames)
                self._started_at = end_t - voiced_run * frame_s
                return [SpeechStarted(self._started_at, b"".join(self._frames))]
            return []
        self._frames.append(frame)
        self._silent_run = 0 if voiced else self._silent_run + 1
        if self._silent_run >= self._end_frames:
            silent_s = (self._silent_run + self._overhang) * frame_s
            return [self._finish(end_t, end_t - silent_s, "silence")]
        if len(self._frames) >= self._max_frames:
            return [self._finish(end_t, end_t, "max_length")]
        return []

    def _finish(
        self, now: float, speech_end: float, reason: Literal["silence", "max_length"]
    ) -> Utterance:
        utt = Utterance(b"".join(self._frames), self._started_at, speech_end, now, reason)
        self._in_speech = False
        self._frames = []
        self._silent_run = 0
        return utt
