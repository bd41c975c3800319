"""Secure defaults: a generated desk key (0600), no public bind with a default secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.cli.secure import secure_config
from hotline.config import load_config
from hotline.secret_keys import (
    DESK_KEY_FILE,
    InsecureExposure,
    check_exposure,
    constant_time_equal,
    is_loopback,
    secret_path,
)


def test_first_start_generates_a_private_desk_key_that_every_process_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"JIESU_DATA_DIR": str(tmp_path)}
    assert load_config(env).desk_api_key == ""
    cfg = secure_config(load_config(env), env)
    path = secret_path(tmp_path, DESK_KEY_FILE)
    assert len(cfg.desk_api_key) >= 32 and cfg.desk_api_key != "change-me-desk-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path) in capsys.readouterr().out  # the path is printed once …
    again = secure_config(load_config(env), env)
    assert again.desk_api_key == cfg.desk_api_key
    assert capsys.readouterr().out == ""  # … and only once
    assert load_config(env).desk_api_key == cfg.desk_api_key  # action server, `jiesu desk`


def test_an_operator_key_wins_and_nothing_is_generated(tmp_path: Path) -> None:
    env = {"JIESU_DATA_DIR": str(tmp_path), "JIESU_DESK_API_KEY": "k" * 40}
    assert secure_config(load_config(env), env).desk_api_key == "k" * 40
    assert not secret_path(tmp_path, DESK_KEY_FILE).exists()


@pytest.mark.parametrize("key", ["change-me-desk-key", "test-desk-key", "short"])
def test_a_public_address_is_refused_while_a_secret_is_a_default(tmp_path: Path, key: str) -> None:
    env = {"JIESU_DATA_DIR": str(tmp_path), "JIESU_HOST": "0.0.0.0", "JIESU_DESK_API_KEY": key}
    with pytest.raises(InsecureExposure, match="JIESU_DESK_API_KEY"):
        secure_config(load_config(env), env)
    loopback = {**env, "JIESU_HOST": "127.0.0.1"}
    assert secure_config(load_config(loopback), loopback).desk_api_key == key


def test_a_generated_key_may_face_the_network_but_a_weak_webhook_key_may_not(
    tmp_path: Path,
) -> None:
    env = {"JIESU_DATA_DIR": str(tmp_path), "JIESU_HOST": "0.0.0.0"}
    secure_config(load_config(env), env)  # generated: long and random
    with pytest.raises(InsecureExposure, match="JIESU_WEBHOOK_KEY"):
        check_exposure("0.0.0.0", {"JIESU_WEBHOOK_KEY": "changeme", "OFF": ""})


@pytest.mark.parametrize(
    ("host", "loop"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False)],
)  # fmt: skip
def test_loopback(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop


@pytest.mark.parametrize("given", ["", "wrong", "密钥", "\udcff", None, 123])
def test_constant_time_equal_never_raises_on_what_a_client_sends(given: object) -> None:
    assert constant_time_equal(given, "the-right-key") is False
    assert constant_time_equal("the-right-key", "the-right-key") is True
    assert constant_time_equal("", "") is False  # a feature with no key is off
