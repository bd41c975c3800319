"""The error tree of the :mod:`speech` package.

Everything raised on purpose derives from :class:`SpeechError`, so the
gateway can catch one type.  Data that a handler needs (SIP status, call id,
model path, the command that fixes a missing model) travels as attributes.
"""

from __future__ import annotations

__all__ = [
    "CallFailed",
    "CodecError",
    "ModelBroken",
    "ModelError",
    "ModelFetchError",
    "ModelNotFound",
    "RecognizerError",
    "SdpError",
    "SipAuthError",
    "SipError",
    "SipParseError",
    "SpeechError",
    "TransferFailed",
    "TtsError",
]

FETCH_COMMAND = "jiesu speech fetch-model"


class SpeechError(Exception):
    """Root of every error raised on purpose by :mod:`speech`."""


class CodecError(SpeechError):
    """Audio that cannot be encoded, decoded or resampled."""


class ModelError(SpeechError):
    """A Vosk model cannot be used.

    Attributes:
        path: The model directory that was tried.
        fix: The shell command that repairs the problem.
    """

    def __init__(self, message: str, path: str, fix: str = FETCH_COMMAND) -> None:
        super().__init__(f"{message} (model dir: {path}). Fix: run `{fix}`")
        self.path = path
        self.fix = fix


class ModelNotFound(ModelError):
    """The model directory is unset, missing or lacks the model files."""


class ModelBroken(ModelError):
    """The model files exist but Vosk cannot load them (truncated/corrupt)."""


class ModelFetchError(SpeechError):
    """Downloading or unpacking a model failed (HTTP error, bad zip, checksum)."""


class RecognizerError(SpeechError):
    """The recogniser failed while decoding."""


class TtsError(SpeechError):
    """The TTS engine failed (missing binary, non-zero exit, empty audio)."""


class SipError(SpeechError):
    """A SIP-level failure.

    Attributes:
        status: The SIP status code that describes the failure (0 when none).
        call_id: The Call-ID concerned, when known.
    """

    def __init__(self, message: str, status: int = 0, call_id: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.call_id = call_id


class SipParseError(SipError):
    """A SIP message that cannot be parsed; ``status`` is the reply to send (400)."""

    def __init__(self, message: str, status: int = 400, call_id: str = "") -> None:
        super().__init__(message, status, call_id)


class SdpError(SipError):
    """An SDP body that is malformed or has no codec in common (488)."""

    def __init__(self, message: str, status: int = 488, call_id: str = "") -> None:
        super().__init__(message, status, call_id)


class CallFailed(SipError):
    """An outbound call was rejected, cancelled or timed out."""


class SipAuthError(CallFailed):
    """A digest challenge we cannot answer (no credentials, unknown algorithm, bad
    header) or that rejected our credentials; ``status`` is the 401/407 received."""


class TransferFailed(SipError):
    """A REFER (blind transfer) was rejected or its NOTIFY reported failure."""
