"""What a sentence encoder offers the classifiers (and duplicate matching)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["EncoderError", "EncoderInfo", "SentenceEncoder"]


class EncoderError(RuntimeError):
    """An encoder cannot be loaded, or a model was trained with another encoder.

    Attributes:
        name: The encoder concerned.
    """

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class EncoderInfo:
    """Identity of an encoder, stored with every model trained on its vectors.

    Attributes:
        name: Short name (``"use-m3"``).
        version: Version of the package that carries the weights.
        sha256: SHA-256 over its weight files (in a fixed order).
        dim: Length of one vector.
    """

    name: str
    version: str
    sha256: str
    dim: int

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (model metadata)."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256, "dim": self.dim}


@runtime_checkable
class SentenceEncoder(Protocol):
    """Maps texts to unit-length float32 vectors; local files only, thread-safe."""

    @property
    def info(self) -> EncoderInfo:
        """Name, version, weight hash and dimension."""
        ...

    def encode(self, texts: list[str]) -> Any:
        """Embed texts.

        Args:
            texts: Raw texts (any length; an encoder may truncate).

        Returns:
            A ``(len(texts), dim)`` float32 array whose rows have unit L2 norm.
        """
        ...
