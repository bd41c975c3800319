"""The cached action-result validator checks exactly what Rasa's own check does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.rasa_server import install_cached_action_result_validator

GOOD = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
BAD = [{"events": "not a list"}, {"events": [{"no_event_key": 1}]}, {"responses": [1]}]


def _rasa_verdict(result: dict) -> bool:
    try:
        validate(result, RemoteAction.action_response_format_spec())
        return True
    except ValidationError:
        return False


def test_same_verdicts_as_rasa() -> None:
    original = RemoteAction._validate_action_result
    install_cached_action_result_validator()
    try:
        action = RemoteAction.__new__(RemoteAction)
        assert action._validate_action_result(GOOD) is True
        for bad in BAD:
            assert _rasa_verdict(bad) is False
            with pytest.raises(ValidationError, match="Failed to validate Action server"):
                action._validate_action_result(bad)
    finally:
        RemoteAction._validate_action_result = original  # type: ignore[method-assign]
