"""Masked log records: message, traceback and stack, whoever formats them later."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.auxil.log_scan import leaks_in
from tickets.log_privacy import install_masked_log_records

PHONE, ID = "13800138000", "110105199001011234"


@pytest.fixture
def masked_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    saved = logging.getLogRecordFactory()
    install_masked_log_records()
    install_masked_log_records()  # idempotent
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test.log_privacy")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)
    logging.setLogRecordFactory(saved)


def test_a_traceback_with_a_tracker_in_it_is_masked(
    masked_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = masked_logger
    try:
        try:
            raise ValueError(f"{{'slots': {{'phone': '{PHONE}', 'id_card': '{ID}'}}}} is not valid")
        except ValueError as inner:
            raise RuntimeError("Failed to validate Action server response") from inner
    except RuntimeError:
        logger.exception("Encountered an exception while running action %s", "action_submit")
    logger.info("caller %s, id %s", PHONE, ID)
    logger.warning("stack", stack_info=True)
    text = out.getvalue()
    assert "Traceback" in text and "action_submit" in text and "138****8000" in text
    assert PHONE not in text and ID not in text


def test_the_log_scan_finds_numbers_in_clear(tmp_path: Path) -> None:
    (tmp_path / "rasa.log").write_text(f"ok 138****8000\nleak {PHONE}\nid {ID}\n", "utf-8")
    assert leaks_in(tmp_path) == [f"rasa.log:2: {PHONE}", f"rasa.log:3: {ID}"]
