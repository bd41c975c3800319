"""Phone channel: a SIP UA whose calls talk to Rasa through speech.

The gateway wires it in with one call, ``bot.channels.phone.channel.setup(app)``, which
registers a ``cleanup_ctx`` that starts the UA when ``JIESU_SIP_PORT`` is not
0.  A missing or broken Vosk model disables only this channel, with the fix
(``jiesu speech fetch-model``) in the log.  A recogniser factory put in the
app under :data:`PHONE_RECOGNIZERS` before start-up replaces Vosk (the seam the
end-to-end tests use to run the whole gateway with a scripted recogniser).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.outbound import ChannelUnavailable, outbound
from bot.channels.phone import prompts as P
from bot.channels.phone.call_flow import CallFlow, FlowDeps
from bot.gateway.app_keys import RASA_CLIENT
from bot.gateway.rasa_client import RasaClient
from hotline.channels import Channel
from speech.asr import RecognizerFactory
from speech.asr_engine import shared_recognizer_factory
from speech.clock import Clock, MonotonicClock
from speech.errors import ModelError, SpeechError
from speech.settings import PhoneSettings, from_env
from speech.sip.call import Call
from speech.sip.ua import SipUA
from speech.tts import EspeakEngine, PromptCache, Tts

__all__ = ["PHONE", "PHONE_RECOGNIZERS", "PhoneChannel", "PhoneService", "setup"]

log = logging.getLogger("jiesu.phone")

WARM_PROMPTS = [
    P.GREETING, P.NO_INPUT + P.GREETING_QUESTION, P.NOT_UNDERSTOOD, P.GOODBYE_NO_INPUT,
    P.GOODBYE_SILENT, P.SYSTEM_BUSY, P.TRANSFER, P.TRANSFER_UNAVAILABLE, P.ANYTHING_ELSE,
    P.GOODBYE, P.LINES_BUSY,
]  # fmt: skip


def build_tts(settings: PhoneSettings) -> Tts:
    """The TTS configured by ``JIESU_TTS_*``.

    Raises:
        SpeechError: An unknown ``JIESU_TTS_ENGINE``.
    """
    if settings.tts_engine != "espeak-ng":
        raise SpeechError(f"unknown JIESU_TTS_ENGINE {settings.tts_engine!r}")
    cache_dir = Path(settings.tts_cache_dir) if settings.tts_cache_dir else None
    return Tts(EspeakEngine(settings.tts_voice, settings.tts_speed), PromptCache(512, cache_dir))


class PhoneService:
    """SIP UA + call flows.  Build with real or fake parts, then :meth:`start`."""

    def __init__(
        self,
        settings: PhoneSettings,
        rasa: RasaClient,
        recognizers: RecognizerFactory,
        tts: Tts,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.deps = FlowDeps(rasa, tts, recognizers, settings, clock or MonotonicClock())
        self.ua = SipUA(settings, self._on_call, self.deps.clock)
        self.flows: dict[str, CallFlow] = {}
        self.finished: asyncio.Queue[CallFlow] = asyncio.Queue()
        self._executor: ThreadPoolExecutor | None = None
        self.capacity = conversation_capacity(settings, recognizers)
        #: Calls answered with the busy message since start (beyond :attr:`capacity`).
        self.turned_away = 0

    @classmethod
    async def create(cls, settings: PhoneSettings, rasa: RasaClient) -> PhoneService:
        """Load the recogniser (``JIESU_ASR_ENGINE``: Vosk if its model is there, else the
        Whisper model ``make venv`` installs) off the loop and build the production service.

        Raises:
            ModelNotFound: the chosen engine's model is missing (the message names the fix).
            ModelBroken: the engine cannot load it.
        """
        recognizers = await shared_recognizer_factory(settings)
        return cls(settings, rasa, recognizers, build_tts(settings))

    async def start(self) -> None:
        """Synthesise fixed prompts, then start answering calls."""
        try:
            await self.deps.tts.warm(WARM_PROMPTS)
        except SpeechError:
            log.exception("could not pre-synthesise prompts")
        await self.ua.start()

    async def stop(self) -> None:
        """Hang up and stop."""
        await self.ua.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    async def _on_call(self, call: Call) -> None:
        if len(self.flows) >= self.capacity:
            await self._turn_away(call)
            return
        flow = CallFlow(call, self.deps)
        self.flows[call.call_id] = flow
        log.info("call %s from %s", call.call_id, call.remote_user or "unknown")
        try:
            await flow.run()
        finally:
            self.flows.pop(call.call_id, None)
            self.finished.put_nowait(flow)

    async def _turn_away(self, call: Call) -> None:
        """Beyond capacity: a polite busy message instead of silence, then hang up."""
        self.turned_away += 1
        log.warning("call %s turned away: %d conversations (capacity %d)",
                    call.call_id, len(self.flows), self.capacity)  # fmt: skip
        try:
            pcm = await self.deps.tts.synthesize(P.LINES_BUSY)
        except SpeechError:
            log.exception("TTS failed for the busy message")
        else:
            if not call.ended.is_set():
                done: asyncio.Future[Any] = call.play(pcm).done
                ended: asyncio.Future[Any] = asyncio.ensure_future(call.ended.wait())
                try:
                    await asyncio.wait([done, ended], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    ended.cancel()
        await call.hangup("busy")

    async def call_out(
        self,
        uri: str,
        intent: str,
        timeout_s: float = 30.0,
        entities: dict[str, Any] | None = None,
    ) -> CallFlow:
        """Place a call (e.g. the callback survey), start Rasa's ``intent`` and converse.

        ``entities`` go with the intent (e.g. the ticket the survey is about).

        Returns once the call is answered; the conversation runs in the background.

        Raises:
            CallFailed: The callee did not answer or rejected the call.
        """
        call = await self.ua.place_call(uri, timeout_s)
        flow = CallFlow(call, self.deps)
        initial = await self.deps.rasa.trigger_intent(flow.sender, intent, entities)
        self.flows[call.call_id] = flow

        async def _run() -> None:
            try:
                await flow.run(initial)
            finally:
                await call.hangup("handler_done")
                self.flows.pop(call.call_id, None)
                self.finished.put_nowait(flow)

        self.ua.spawn(_run())
        return flow


def conversation_capacity(settings: PhoneSettings, recognizers: RecognizerFactory) -> int:
    """How many calls get the full dialogue at once (the rest hear the busy message).

    ``JIESU_SIP_MAX_CONVERSATIONS`` when set, else the recogniser's own capacity (a
    fixed-cost decoder such as Whisper reports one), else every call SIP accepts.
    """
    if settings.max_conversations:
        return min(settings.max_conversations, settings.max_calls)
    own = getattr(recognizers, "conversation_capacity", None)
    if isinstance(own, int) and own > 0:
        return min(own, settings.max_calls)
    return settings.max_calls


class PhoneChannel:
    """Holder put in the app at setup time; ``service`` is set while running."""

    def __init__(self) -> None:
        self.service: PhoneService | None = None


PHONE = web.AppKey("phone_channel", PhoneChannel)
PHONE_RECOGNIZERS = web.AppKey("phone_recognizers", RecognizerFactory)


class _PhoneCaller:
    """The phone channel's :class:`~bot.channels.outbound.CallStarter`."""

    def __init__(self, holder: PhoneChannel) -> None:
        self.holder = holder

    async def start_call(self, uri: str, intent: str, entities: dict[str, Any]) -> None:
        service = self.holder.service
        if service is None:
            raise ChannelUnavailable("phone channel is not running")
        try:
            await service.call_out(uri, intent, entities=entities)
        except Exception as exc:  # CallFailed, SIP errors: the callee did not take the call
            raise ChannelUnavailable(str(exc) or type(exc).__name__) from exc


def setup(app: web.Application, env: Mapping[str, str] | None = None) -> None:
    """Register the phone channel on the gateway app (reads ``JIESU_SIP_*`` etc.)."""
    settings = from_env(os.environ if env is None else env)
    holder = PhoneChannel()
    app[PHONE] = holder
    outbound(app).add_caller(Channel.PHONE, _PhoneCaller(holder))

    async def phone_ctx(app: web.Application) -> AsyncIterator[None]:
        if not settings.enabled:
            log.info("phone channel disabled (JIESU_SIP_PORT=0)")
            yield
            return
        recognizers = app.get(PHONE_RECOGNIZERS)
        try:
            if recognizers is not None:
                service = PhoneService(settings, app[RASA_CLIENT], recognizers, build_tts(settings))
            else:
                service = await PhoneService.create(settings, app[RASA_CLIENT])
        except ModelError as exc:
            log.error("phone channel disabled: %s", exc, exc_info=exc)
            yield
            return
        await service.start()
        holder.service = service
        try:
            yield
        finally:
            holder.service = None
            await service.stop()

    app.cleanup_ctx.append(phone_ctx)
