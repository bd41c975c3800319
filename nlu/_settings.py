"""Environment settings read by the NLU library (``JIESU_*`` variables)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DATA_DIR = PACKAGE_DIR / "data"
DICTIONARY_DIR = PACKAGE_DIR / "dictionary"
TAXONOMY_FILE = PACKAGE_DIR / "taxonomy.yml"

DEFAULT_TICKET_PREFIX = "BJ"
DEFAULT_HISTORY_MODEL = Path("models") / "category" / "history.joblib"


DEFAULT_CATEGORY_MIN_CONFIDENCE = 0.4


def category_min_confidence() -> float:
    """``JIESU_CATEGORY_MIN_CONFIDENCE`` (default 0.4): the one category threshold.

    A prediction below it is flagged ``low_confidence`` and the dialogue asks the resident
    with buttons of the top candidates instead of taking it.
    """
    raw = os.environ.get("JIESU_CATEGORY_MIN_CONFIDENCE", "")
    try:
        value = float(raw) if raw else DEFAULT_CATEGORY_MIN_CONFIDENCE
    except ValueError:
        return DEFAULT_CATEGORY_MIN_CONFIDENCE
    return min(1.0, max(0.0, value))


def ticket_prefixes() -> tuple[str, ...]:
    """Ticket prefixes from ``JIESU_TICKET_PREFIX`` (comma separated, default ``BJ``)."""
    raw = os.environ.get("JIESU_TICKET_PREFIX", DEFAULT_TICKET_PREFIX)
    prefixes = tuple(p.strip().upper() for p in raw.split(",") if p.strip().isalpha())
    return prefixes or (DEFAULT_TICKET_PREFIX,)


def models_dir() -> Path:
    """Directory for cached models (``JIESU_MODELS_DIR``, default ``<repo>/models``)."""
    raw = os.environ.get("JIESU_MODELS_DIR")
    return Path(raw) if raw else REPO_DIR / "models"


def category_model_path() -> Path | None:
    """Path of a history-trained category model, or None to use the built-in one.

    ``JIESU_CATEGORY_MODEL`` wins if set (an empty value disables history models);
    otherwise ``models/category/history.joblib`` is used when it exists, looked up
    in the working directory and then in the repository.
    """
    raw = os.environ.get("JIESU_CATEGORY_MODEL")
    if raw is not None:
        return Path(raw) if raw.strip() else None
    for base in (Path.cwd(), REPO_DIR):
        candidate = base / DEFAULT_HISTORY_MODEL
        if candidate.is_file():
            return candidate
    return None
