"""The environment the supervisor gives Rasa and the action server."""

from __future__ import annotations

from pathlib import Path

from bot.cli.supervisor import rasa_env
from hotline.config import load_config


def test_defaults_fill_endpoints_and_pin_blas_threads(tmp_path: Path) -> None:
    cfg = load_config({"JIESU_DATA_DIR": str(tmp_path), "JIESU_ACTION_PORT": "5999"})
    env = rasa_env(cfg, {})
    assert env["JIESU_ACTION_URL"] == "http://127.0.0.1:5999/webhook"
    assert env["JIESU_TRACKER_URL"] == f"sqlite:///{tmp_path / 'tracker.db'}"
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"


def test_explicit_settings_win(tmp_path: Path) -> None:
    cfg = load_config({"JIESU_DATA_DIR": str(tmp_path)})
    base = {"OPENBLAS_NUM_THREADS": "4", "JIESU_TRACKER_URL": "postgresql://x@db/jiesu"}
    env = rasa_env(cfg, base)
    assert env["OPENBLAS_NUM_THREADS"] == "4"
    assert env["JIESU_TRACKER_URL"] == "postgresql://x@db/jiesu"
