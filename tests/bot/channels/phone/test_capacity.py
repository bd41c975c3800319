"""How many calls get the dialogue; the rest hear the busy message (tests/…/test_calls.py)."""

from __future__ import annotations

from typing import Any

from bot.channels.phone.channel import conversation_capacity
from speech.settings import PhoneSettings, from_env


class _Streaming:
    def create(self) -> Any:
        raise NotImplementedError


class _FixedCost(_Streaming):
    conversation_capacity = 4


def test_capacity_follows_the_recogniser_unless_configured() -> None:
    s = PhoneSettings(max_calls=20)
    assert conversation_capacity(s, _Streaming()) == 20
    assert conversation_capacity(s, _FixedCost()) == 4
    assert conversation_capacity(PhoneSettings(max_calls=3), _FixedCost()) == 3
    configured = PhoneSettings(max_calls=20, max_conversations=7)
    assert conversation_capacity(configured, _FixedCost()) == 7
    assert from_env({"JIESU_SIP_MAX_CONVERSATIONS": "2"}).max_conversations == 2
