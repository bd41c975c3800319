"""Channel relays without the stack: phone deferral and the outbound-call path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.channels.outbound import ChannelUnavailable, outbound
from bot.channels.phone import channel as phone_channel
from bot.gateway.app_keys import CONFIG, RASA_CLIENT
from bot.survey.errors import SurveyDeferred
from bot.survey.relays import SurveyRelays
from hotline.channels import Channel
from hotline.config import Config
from tickets.survey.settings import SurveySettings
from tickets.survey.store import NewSurvey, SurveyStore


@dataclass
class FakeCaller:
    """A registered phone :class:`CallStarter` that records its calls."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    refuse: bool = False

    async def start_call(self, uri: str, intent: str, entities: dict[str, Any]) -> None:
        if self.refuse:
            raise ChannelUnavailable("486 Busy Here")
        self.calls.append((uri, intent, entities))


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
    relays = SurveyRelays(app, store, SurveySettings(call_uri="sip:{phone}@pbx"))
    with pytest.raises(SurveyDeferred, match="phone channel"):
        await relays(phone_job(store))


async def test_registered_but_stopped_phone_channel_defers(
    store: SurveyStore, tmp_path: Path
) -> None:
    app = web.Application()
    app[CONFIG] = Config(data_dir=tmp_path)
    phone_channel.setup(app, env={"JIESU_SIP_PORT": "0"})  # registers its caller, not started
    relays = SurveyRelays(app, store, SurveySettings(call_uri="sip:{phone}@pbx"))
    with pytest.raises(SurveyDeferred, match="phone channel is not running"):
        await relays(phone_job(store))


async def test_refused_call_defers(store: SurveyStore, tmp_path: Path) -> None:
    app = web.Application()
    app[CONFIG] = Config(data_dir=tmp_path)
    outbound(app).add_caller(Channel.PHONE, FakeCaller(refuse=True))
    relays = SurveyRelays(app, store, SurveySettings(call_uri="sip:{phone}@pbx"))
    with pytest.raises(SurveyDeferred, match="486"):
        await relays(phone_job(store))


async def test_phone_calls_out_and_names_the_ticket(store: SurveyStore, tmp_path: Path) -> None:
    app = web.Application()
    app[CONFIG] = Config(data_dir=tmp_path)
    caller, rasa = FakeCaller(), FakeRasa()
    outbound(app).add_caller(Channel.PHONE, caller)
    app[RASA_CLIENT] = rasa  # type: ignore[assignment, misc]
    await SurveyRelays(app, store, SurveySettings(call_uri="sip:{phone}@pbx"))(phone_job(store))
    assert caller.calls == [
        ("sip:13800138000@pbx", "start_survey", {"ticket_id": "BJ20261125-000009"})
    ]
    assert rasa.triggered == []  # the call itself starts the survey, with the ticket
