"""Masking of personal data in logs and public ticket views."""

from __future__ import annotations

import logging

import pytest

from bot.gateway.log_masking import MaskingFilter
from tickets.privacy import mask_names, mask_personal_data


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("电话13800138000", "电话138****8000"),
        ("+8613800138000", "+86138****8000"),
        ("座机010-12345678", "座机010-****5678"),
        ("身份证110101199003077777", "身份证110101********7777"),
        ("身份证11010119900307123X", "身份证110101********123X"),
        ("工单BJ20261125-000123", "工单BJ20261125-000123"),
    ],
)
def test_mask_personal_data(raw: str, masked: str) -> None:
    assert mask_personal_data(raw) == masked


def test_mask_names() -> None:
    assert mask_names("我叫王小明，住在望京", "王小明", None) == "我叫王**，住在望京"


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("jiesu.test.masking")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="jiesu.test.masking"):
        logger.info("caller %s id %s", "13800138000", "110101199003077777")
    assert "13800138000" not in caplog.text and "138****8000" in caplog.text
    assert "110101199003077777" not in caplog.text


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("contact +8613800138000 ok", "contact +86138****8000 ok"),
        ("call 138 0013 8000", "call 138****8000"),
        ("chat 123456789", "chat 123456789"),
    ],
)
def test_phone_like_numbers_in_other_shapes(raw: str, masked: str) -> None:
    assert mask_personal_data(raw) == masked


def test_secrets_are_replaced(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("jiesu.test.secrets")
    caplog.handler.addFilter(MaskingFilter(["1:SECRET"]))
    with caplog.at_level(logging.INFO, logger="jiesu.test.secrets"):
        logger.info("GET /bot%s/getMe", "1:SECRET")
    assert "SECRET" not in caplog.text and "/bot***/getMe" in caplog.text
