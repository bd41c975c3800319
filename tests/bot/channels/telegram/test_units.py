"""Pure parts of the Telegram channel: settings, rendering, throttling, masking, intents."""

from __future__ import annotations

import json
import logging

import pytest

from bot.channels.telegram.flow import ChatThrottle, Verdict
from bot.channels.telegram.intents import (
    attachment_text,
    contact_text,
    location_text,
    normalise_phone,
)
from bot.channels.telegram.render import (
    CONTACT_PROMPT,
    MAX_TEXT,
    CallbackPayloads,
    render,
    split_text,
)
from bot.channels.telegram.settings import TelegramSettings
from bot.gateway.log_masking import MaskingFilter
from hotline.config import ConfigError
from tickets.privacy import mask_personal_data


class TestSettings:
    def test_defaults_without_env(self) -> None:
        s = TelegramSettings.from_env({})
        assert not s.enabled and not s.webhook_mode
        assert s.base_url == "https://api.telegram.org/bot"
        assert s.max_attachment_bytes == 10 * 1024 * 1024

    def test_reads_env(self) -> None:
        s = TelegramSettings.from_env(
            {
                "TELEGRAM_BOT_TOKEN": "1:abc",
                "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",
                "TELEGRAM_WEBHOOK_URL": "https://example.org/telegram/webhook",
                "TELEGRAM_WEBHOOK_SECRET": "abc_DEF-1",
                "TELEGRAM_MAX_ATTACHMENT_BYTES": "1000",
                "TELEGRAM_RATE_PER_S": "0",
            }
        )
        assert s.enabled and s.webhook_mode
        assert s.base_url == "http://127.0.0.1:9/bot"
        assert s.max_attachment_bytes == 1000 and s.overall_rate_per_s == 0.0

    @pytest.mark.parametrize(
        "env",
        [
            {"TELEGRAM_MAX_ATTACHMENT_BYTES": "ten"},
            {"TELEGRAM_CHAT_BURST": "0"},
            {"TELEGRAM_WEBHOOK_SECRET": "has space"},
            {"TELEGRAM_WEBHOOK_URL": "example.org/hook"},
        ],
    )
    def test_rejects_bad_values(self, env: dict[str, str]) -> None:
        with pytest.raises(ConfigError):
            TelegramSettings.from_env(env)


class TestRender:
    def test_split_prefers_line_breaks_and_respects_limit(self) -> None:
        text = "\n".join(f"第{i}行：" + "路灯坏了" * 20 for i in range(200))
        parts = split_text(text)
        assert len(parts) > 1
        assert all(0 < len(p) <= MAX_TEXT for p in parts)
        assert "".join(parts).replace("\n", "") == text.replace("\n", "")
        assert all(p.startswith("第") for p in parts)

    def test_split_hard_cuts_without_breaks(self) -> None:
        parts = split_text("字" * 9000)
        assert [len(p) for p in parts] == [4096, 4096, 808]

    def test_short_payloads_pass_long_ones_are_mapped(self) -> None:
        table = CallbackPayloads()
        assert table.encode("/affirm") == "/affirm"
        long = '/choose{"category": "路灯照明-朝阳区望京街道-望京西园三区-东门外"}'
        key = table.encode(long)
        assert key.startswith("#") and len(key.encode()) <= 64
        assert table.encode(long) == key
        assert table.decode(key) == long and table.decode("/affirm") == "/affirm"
        assert table.decode("#nope") is None

    def test_payload_table_is_bounded(self) -> None:
        table = CallbackPayloads(capacity=2)
        keys = [table.encode("/x" + "y" * 70 + str(i)) for i in range(3)]
        assert table.decode(keys[0]) is None and table.decode(keys[2]) is not None

    def test_buttons_become_inline_keyboard_on_last_part(self) -> None:
        out = render(
            [{"text": "长" * 5000, "buttons": [{"title": "是", "payload": "/affirm"}]}],
            CallbackPayloads(),
        )
        assert len(out) == 2 and out[0].inline is None
        assert out[1].inline is not None
        assert out[1].inline.inline_keyboard[0][0].callback_data == "/affirm"

    def test_ask_phone_gets_contact_keyboard(self) -> None:
        out = render([{"custom": {"ask": "phone"}}], CallbackPayloads())
        assert out[0].text == CONTACT_PROMPT
        assert out[0].contact is not None
        assert out[0].contact.keyboard[0][0].request_contact is True


class TestThrottle:
    def test_burst_then_notify_once_then_refill(self) -> None:
        now = [0.0]
        throttle = ChatThrottle(burst=2, rate_per_min=6, clock=lambda: now[0])
        verdicts = [throttle.check(1) for _ in range(4)]
        assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.NOTIFY, Verdict.DROP]
        assert throttle.check(2) is Verdict.ALLOW  # other chats unaffected
        now[0] = 10.0  # 6/min = one token per 10 s
        assert throttle.check(1) is Verdict.ALLOW
        assert throttle.check(1) is Verdict.NOTIFY


class TestPrivacy:
    def test_mask_personal_data(self) -> None:
        assert mask_personal_data("contact +8613800138000 ok") == "contact +86138****8000 ok"
        assert mask_personal_data("call 13800138000") == "call 138****8000"
        assert mask_personal_data("chat 123456789") == "chat 123456789"

    def test_filter_masks_records_and_token(self, caplog: pytest.LogCaptureFixture) -> None:
        logger = logging.getLogger("jiesu.telegram.test")
        logger.addFilter(MaskingFilter(["1:SECRET"]))
        with caplog.at_level(logging.INFO, logger="jiesu.telegram.test"):
            logger.info("phone %s via /bot%s/sendMessage", "13800138000", "1:SECRET")
        assert "13800138000" not in caplog.text and "SECRET" not in caplog.text


class TestIntents:
    def test_texts_are_rasa_intent_syntax(self) -> None:
        assert location_text(39.99, 116.47) == '/share_location{"lat": 39.99, "long": 116.47}'
        assert contact_text("+8613800138000") == '/share_contact{"phone": "+8613800138000"}'
        url = "file:///var/telegram/1/U1.jpg"
        assert json.loads(attachment_text(url)[len("/share_attachment") :]) == {"url": url}

    def test_normalise_phone(self) -> None:
        assert normalise_phone("8613800138000") == "+8613800138000"
        assert normalise_phone("+86 138-0013-8000") == "+8613800138000"
