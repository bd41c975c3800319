"""Fixtures for the NLU tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TIPDM = REPO.parent / "shared" / "eval" / "tipdm2020_dev.jsonl"


@pytest.fixture(scope="session")
def hard_cases() -> dict[str, Any]:
    """The hand-written hard cases with their reference time."""
    with (HERE / "hard_cases.yml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    data["now"] = datetime.fromisoformat(data["reference_now"])
    return data


@pytest.fixture(scope="session")
def now() -> datetime:
    """A fixed reference time (Beijing)."""
    return datetime.fromisoformat("2026-11-25T14:30:00+08:00")
