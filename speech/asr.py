"""Streaming speech-recogniser interface, independent of the engine.

A :class:`RecognizerFactory` is shared per process (it owns the model); each
call gets its own :class:`Recognizer` from :meth:`RecognizerFactory.create`.
Per utterance: :meth:`Recognizer.start` (optionally with a phrase grammar for
short answers), :meth:`Recognizer.accept` for each chunk of 16 kHz PCM (returns
the partial text), then :meth:`Recognizer.finish` for the final result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "AsrResult",
    "DIGIT_WORDS",
    "Recognizer",
    "RecognizerFactory",
    "SpeculativeRecognizer",
    "UNKNOWN",
    "Word",
    "short_answer_grammar",
]

UNKNOWN = "[unk]"
DIGIT_WORDS: tuple[str, ...] = (
    "零",
    "幺",
    "一",
    "二",
    "两",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
)


def short_answer_grammar(words: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Return the phrase list for a short-answer turn: ``words`` (the dialogue's words,
    e.g. button titles and the phone prompts' short answers), then the digit words.

    The list always ends with ``[unk]`` so out-of-grammar speech is reported as
    unknown instead of being forced onto the nearest phrase.
    """
    phrases: list[str] = []
    for p in (*words, *DIGIT_WORDS):
        p = p.strip()
        if p and p not in phrases:
            phrases.append(p)
    phrases.append(UNKNOWN)
    return phrases


@dataclass(frozen=True)
class Word:
    """One recognised word with times in seconds from the utterance start."""

    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class AsrResult:
    """Final result of one utterance.

    Attributes:
        text: The transcript (Chinese, spaces between words removed).
        words: Word timings when the engine provides them.
        decode_s: Wall time spent in the decoder for this utterance.
    """

    text: str
    words: tuple[Word, ...] = field(default_factory=tuple)
    decode_s: float = 0.0


class Recognizer(Protocol):
    """One call's streaming recogniser."""

    async def start(self, grammar: list[str] | None = None) -> None:
        """Begin an utterance, restricted to ``grammar`` phrases when given."""
        ...

    async def accept(self, pcm16k: bytes) -> str:
        """Decode a chunk of 16 kHz 16-bit mono PCM; return the partial transcript."""
        ...

    async def finish(self) -> AsrResult:
        """End the utterance and return the final result."""
        ...

    async def close(self) -> None:
        """Release engine resources (end of call)."""
        ...


@runtime_checkable
class SpeculativeRecognizer(Protocol):
    """A recogniser that can start its final decode early (Whisper decodes only at the end).

    The call flow calls :meth:`speculate` when the endpointer hears silence begin;
    :meth:`Recognizer.finish` then reuses that decode if no audio arrived since.
    Check with ``isinstance(rec, SpeculativeRecognizer)``.
    """

    def speculate(self) -> None:
        """Start decoding the audio buffered so far."""
        ...


class RecognizerFactory(Protocol):
    """Process-wide owner of the model; makes one recogniser per call."""

    def create(self) -> Recognizer:
        """Return a new recogniser for one call."""
        ...
