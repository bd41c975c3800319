"""The only stand-in of the phone tests: a recogniser that returns a known transcript.

It receives the real audio the VAD cut out of the RTP stream and answers, per
utterance, the next line of its script.  Each call gets its own position.
"""

from __future__ import annotations

import asyncio

from speech.asr import AsrResult

__all__ = ["ScriptedRecognizer", "ScriptedRecognizerFactory"]


class ScriptedRecognizer:
    """Returns ``script[i]`` for the i-th utterance; records the audio it was fed."""

    def __init__(self, script: list[str], factory: ScriptedRecognizerFactory) -> None:
        self._script = list(script)
        self._factory = factory
        self._buf = bytearray()
        self.grammars: list[list[str] | None] = []
        self.utterance_bytes: list[int] = []

    async def start(self, grammar: list[str] | None = None) -> None:
        """Begin an utterance."""
        self._buf.clear()
        self.grammars.append(grammar)

    async def accept(self, pcm16k: bytes) -> str:
        """Buffer audio (16 kHz PCM)."""
        self._buf.extend(pcm16k)
        return ""

    async def finish(self) -> AsrResult:
        """Return the next transcript (``""`` when the script is exhausted)."""
        self.utterance_bytes.append(len(self._buf))
        text = self._script.pop(0) if self._script else ""
        self._factory.heard.put_nowait((len(self._buf) / 32000, text))
        return AsrResult(text, (), 0.0)

    async def close(self) -> None:
        """Nothing to release."""


class ScriptedRecognizerFactory:
    """Creates a :class:`ScriptedRecognizer` per call, all reading the same script."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.created: list[ScriptedRecognizer] = []
        self.heard: asyncio.Queue[tuple[float, str]] = asyncio.Queue()

    def create(self) -> ScriptedRecognizer:
        """New recogniser for a call."""
        rec = ScriptedRecognizer(self.script, self)
        self.created.append(rec)
        return rec
