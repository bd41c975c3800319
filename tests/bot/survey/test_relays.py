"""Channel relays without the stack: phone deferral and the outbound-call path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.channels.phone.channel import PHONE, PhoneChannel
from bot.gateway.app_keys import CONFIG, RASA_CLIENT
from bot.survey.errors import SurveyDeferred
from bot.survey.relays import SurveyRelays
from hotline.config import Config
from tickets.survey.settings import SurveySettings
from tickets.survey.store import NewSurvey, SurveyStore


@dataclass
class Flow:
    sender: str = "tel:call-1"


@dataclass
class FakePhone:
    calls: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)

    async def call_out(
        self,
        uri: str,
        intent: str,
        timeout_s: float = 30.0,
        entities: dict[str, Any] | None = None,
    ) -> Flow:
        self.calls.append((uri, intent, entities))
        return Flow()


@dataclass
class FakeRasa:
    triggered: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def trigger_intent(self, sender: str, intent: str, entities: dict[str, Any]) -> list:
        self.triggered.append((sender, intent, entities))
        return [{"text": "您好"}]


@pytest.fixture
def store(tmp_path: Path) -> SurveyStore:
    return SurveyStore(f"sqlite:///{tmp_path / 'j.db'}")


def phone_job(store: SurveyStore) -> Any:
    new = NewSurvey("BJ20261125-000009", "tel:call-0", "phone", "tel:13800138000")
    return store.schedule(new, due_at=0.0)


async def test_phone_channel_off_defers(store: SurveyStore, tmp_path: Path) -> None:
    app = web.Application()
    app[CONFIG] = Config(data_dir=tmp_path)
    app[PHONE] = PhoneChannel()
    relays = SurveyRelays(app, store, SurveySettings(call_uri="sip:{phone}@pbx"))
    with pytest.raises(SurveyDeferred, match="phone channel"):
        await relays(phone_job(store))


async def test_phone_calls_out_and_names_the_ticket(store: SurveyStore, tmp_path: Path) -> None:
    app = web.Application()
    app[CONFIG] = Config(data_dir=tmp_path)
    holder, phone, rasa = PhoneChannel(), FakePhone(), FakeRasa()
    holder.service = phone  # type: ignore[assignment]
    app[PHONE] = holder
    app[RASA_CLIENT] = rasa  # type: ignore[assignment, misc]
    await SurveyRelays(app, store, SurveySettings(call_uri="sip:{phone}@pbx"))(phone_job(store))
    assert phone.calls == [
        ("sip:13800138000@pbx", "start_survey", {"ticket_id": "BJ20261125-000009"})
    ]
    assert rasa.triggered == []  # the call itself starts the survey, with the ticket
