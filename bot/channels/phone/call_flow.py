"""The dialogue of one phone call: listen, recognise, ask Rasa, speak.

Greeting -> (VAD endpoint -> ASR -> Rasa -> TTS) per turn, with barge-in
(speech or a key during a prompt stops it), DTMF as an alternative to
speech, no-input reprompts and a polite close, ``/call_ended`` when the
caller hangs up with something unfiled, REFER for 转人工, and after the
ticket is filed one "anything else?" before a goodbye (which the caller can
talk over) and BYE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Any

from bot.channels.phone import prompts as P
from bot.channels.phone.prompts import PhoneAction, WrapUpAnswer
from bot.gateway.rasa_client import BotButton, BotMessage, RasaClient, RasaUnavailable
from speech.asr import Recognizer, RecognizerFactory, SpeculativeRecognizer, short_answer_grammar
from speech.clock import Clock
from speech.errors import SpeechError, TransferFailed
from speech.resample import Resampler
from speech.settings import PhoneSettings
from speech.sip.call import Call
from speech.sip.rtp_session import AudioIn, DtmfIn, Playback
from speech.tts import Tts
from speech.vad import EndpointConfig, Endpointer, NoInput, SpeechStarted, Utterance

__all__ = ["CallPhase", "CALL_ENDED", "CallFlow", "FlowDeps", "TurnTiming"]

log = logging.getLogger("jiesu.phone")

CALL_ENDED = "/call_ended"
#: Silence after speech before a fixed-cost recogniser starts decoding (of the 500 ms end).
SPECULATE_AFTER_MS = 160
DIGIT_TIMEOUT_S = 3.0
# Spacing of the retries of a turn while Rasa is down (doubling), see _retry_send.
RASA_RETRY_FIRST_S = 0.5
RASA_RETRY_MAX_S = 2.0


class CallPhase(Enum):
    """Where a call stands; one value instead of a set of flags.

    ``LISTENING`` → (a turn reaches Rasa) → ``UNFILED`` → (the ticket reply) → ``WRAP_UP``
    → (没有 / silence) → ``CLOSING`` → (goodbye played) → ``FINISHED``.  At ``WRAP_UP`` "有"
    goes back to ``LISTENING`` and a new problem straight to ``UNFILED``; talking over the
    goodbye goes back to ``WRAP_UP``.  A hang-up or no-input close sends ``/call_ended``
    only in ``UNFILED`` (something was said that no ticket has filed yet).
    """

    LISTENING = auto()  # nothing unfiled: the greeting, or after "有" at the wrap-up
    UNFILED = auto()  # something was sent to Rasa that no ticket has filed yet
    WRAP_UP = auto()  # the ticket is filed and ANYTHING_ELSE was asked
    CLOSING = auto()  # the goodbye is playing; speech cancels it, its end hangs up
    FINISHED = auto()


@dataclass
class TurnTiming:
    """Latency of one voice turn.

    Attributes:
        speech_ended_at: When the resident stopped talking (clock time).
        decode_s: Time spent in the recogniser for this utterance.
        playback: The reply's first prompt; its ``first_sent_at`` is the first packet.
    """

    speech_ended_at: float
    decode_s: float
    playback: Playback | None = None

    @property
    def latency_s(self) -> float | None:
        """End of speech -> first reply packet, minus ASR decode time."""
        if self.playback is None or self.playback.first_sent_at is None:
            return None
        return self.playback.first_sent_at - self.speech_ended_at - self.decode_s


@dataclass
class FlowDeps:
    """What a call flow needs; shared by all calls of one phone service."""

    rasa: RasaClient
    tts: Tts
    recognizers: RecognizerFactory
    settings: PhoneSettings
    clock: Clock
    timings: list[TurnTiming] = field(default_factory=list)


class CallFlow:
    """Runs one call until it ends; create one per :class:`speech.Call`."""

    def __init__(self, call: Call, deps: FlowDeps) -> None:
        self.call = call
        self.deps = deps
        s = deps.settings
        self.endpointer = Endpointer(
            EndpointConfig(aggressiveness=s.vad_mode, end_silence_ms=s.end_silence_ms,
                           no_input_s=s.no_input_s, max_utterance_s=s.max_utterance_s)
        )  # fmt: skip
        self.sender = f"tel:{call.call_id}"
        self.metadata: dict[str, Any] = {
            "channel": "phone", "phone": call.remote_user, "call_id": call.call_id,
        }  # fmt: skip
        self.buttons: list[BotButton] = []
        self.question = P.GREETING_QUESTION
        self.user_turns = 0
        self.no_input = 0
        self.phase = CallPhase.LISTENING
        # The ticket reply + ANYTHING_ELSE, for * during the wrap-up.
        self._wrap_up_text = ""
        self._rec: Recognizer | None = None
        self._asr_active = False
        self._resampler = Resampler(8000, 16000)
        # Early decoding at the start of the end-of-speech silence (see _feed_asr).
        self._held: list[bytes] = []
        self._speculated = False
        self._armed = False
        self._digits = ""
        self._digit_deadline = 0.0

    @property
    def finished(self) -> bool:
        return self.phase is CallPhase.FINISHED

    @property
    def wrapping_up(self) -> bool:
        """The ticket is filed and ANYTHING_ELSE was asked (the goodbye may be playing)."""
        return self.phase in (CallPhase.WRAP_UP, CallPhase.CLOSING)

    def _finish(self) -> None:
        self.phase = CallPhase.FINISHED

    # -- main loop -----------------------------------------------------------
    async def run(self, initial: list[BotMessage] | None = None) -> None:
        """Greet (or speak ``initial`` bot messages for an outbound call) and converse."""
        self._rec = self.deps.recognizers.create()
        try:
            if initial is None:
                await self.say(P.GREETING)
            else:
                await self._speak_replies(initial, None)
            await self._loop()
        finally:
            await self._rec.close()

    async def _loop(self) -> None:
        clock, ep, media = self.deps.clock, self.endpointer, self.call.media
        while not self.finished:
            if self.call.ended.is_set():
                await self._caller_hung_up()
                return
            item = await self._next(0.1)
            now = clock.now()
            events: list[SpeechStarted | Utterance | NoInput] = []
            if isinstance(item, AudioIn):
                was_speech = ep.in_speech
                events = ep.feed(item.pcm, item.at)
                if was_speech and self._asr_active and self._rec is not None:
                    await self._feed_asr(self._resampler.convert(item.pcm))
            elif isinstance(item, DtmfIn):
                await self._on_digit(item.digit, now)
            events += ep.poll(now)
            if self._digits and now >= self._digit_deadline:
                digits, self._digits = self._digits, ""
                await self._turn(digits, None)
            for ev in events:
                if isinstance(ev, SpeechStarted):
                    await self._on_speech_started(ev)
                elif isinstance(ev, Utterance):
                    await self._on_utterance(ev)
                elif isinstance(ev, NoInput):
                    self._armed = False
                    await self._on_no_input()
                if self.finished or self.call.ended.is_set():
                    break
            closing = self.phase is CallPhase.CLOSING
            if closing and not (media.playing or ep.in_speech or self._asr_active):
                self._finish()
                await self.call.hangup("completed")
                return
            if not (media.playing or ep.in_speech or self._armed or self._digits):
                ep.arm(clock.now())
                self._armed = True

    async def _next(self, timeout: float) -> AudioIn | DtmfIn | None:
        q = self.call.media.inbound
        if not q.empty():
            return q.get_nowait()
        try:
            return await asyncio.wait_for(q.get(), timeout)
        except asyncio.TimeoutError:
            return None

    # -- speech --------------------------------------------------------------
    async def _on_speech_started(self, ev: SpeechStarted) -> None:
        self.call.media.stop_playback()  # barge-in
        self._armed = False
        if self.phase is CallPhase.CLOSING:
            # Talking over the goodbye: the caller has more to say after all.  Still
            # at the wrap-up, so a real problem goes to Rasa and 嗯 is asked again.
            self.phase = CallPhase.WRAP_UP
        grammar = None
        if self.buttons and all(len(b["title"]) <= 6 for b in self.buttons):
            grammar = short_answer_grammar(
                [*(b["title"] for b in self.buttons), *P.SHORT_ANSWER_PHRASES]
            )
        assert self._rec is not None
        self._resampler = Resampler(8000, 16000)
        await self._rec.start(grammar)
        self._asr_active = True
        await self._rec.accept(self._resampler.convert(ev.audio))

    async def _feed_asr(self, pcm16k: bytes) -> None:
        """Pass audio to the recogniser; start decoding early once the caller falls silent.

        A recogniser with a fixed decode cost (Whisper) starts on the audio so far after
        :data:`SPECULATE_AFTER_MS` of silence; the silence that follows is held back, so its
        result is used when the utterance ends.  Speech before the end hands the held audio
        over and the early decode is discarded.
        """
        rec = self._rec
        assert rec is not None
        if self._speculated and not self.endpointer.in_speech:
            return  # the frame that ended the utterance: silence, the early decode stands
        silent = self.endpointer.trailing_silence_ms >= SPECULATE_AFTER_MS
        if silent and isinstance(rec, SpeculativeRecognizer):
            if not self._speculated:
                rec.speculate()
                self._speculated = True
            self._held.append(pcm16k)
            return
        if self._held:
            for chunk in self._held:
                await rec.accept(chunk)
            self._held.clear()
        self._speculated = False
        await rec.accept(pcm16k)

    async def _finish_asr(self) -> tuple[str, float]:
        assert self._rec is not None
        self._held.clear()
        self._speculated = False
        self._asr_active = False
        result = await self._rec.finish()
        return result.text.strip(), result.decode_s

    async def _on_utterance(self, utt: Utterance) -> None:
        if not self._asr_active:
            return
        text, decode_s = await self._finish_asr()
        log.info("call %s heard %r (%.0f ms decode)", self.call.call_id, text, decode_s * 1e3)
        if not text:
            self._armed = False
            await self.say(P.NOT_UNDERSTOOD + P.button_options(self.buttons))
            return
        self.no_input = 0
        if self.wrapping_up and await self._wrap_up_locally(text):
            return
        if P.wants_human(text):
            await self._send(text)
            await self._transfer()
            return
        await self._turn(
            P.match_button(text, self.buttons) or text, TurnTiming(utt.speech_ended_at, decode_s)
        )

    async def _wrap_up_locally(self, text: str) -> bool:
        """Answer 请问还有其他问题吗？ without Rasa unless the caller said a problem.

        Rasa would open a new complaint with 没什么了 or 有 as its description, so
        only substance goes there; False = send ``text`` to Rasa as a normal turn.
        """
        answer = P.wrap_up_answer(text)
        if answer is WrapUpAnswer.DONE:
            await self._goodbye()
        elif answer is WrapUpAnswer.AGAIN:
            await self.say(P.ANYTHING_ELSE)
        elif answer is WrapUpAnswer.MORE:
            # The next utterance is the new problem: a fresh report for Rasa.
            self.phase = CallPhase.LISTENING
            self.question = P.GREETING_QUESTION
            await self.say(P.GO_AHEAD)
        return answer is not WrapUpAnswer.TALK

    async def _on_no_input(self) -> None:
        if self.wrapping_up:
            await self._goodbye()
            return
        self.no_input += 1
        if self.no_input <= self.deps.settings.max_reprompts:
            await self.say(P.NO_INPUT + self.question)
            return
        if self.phase is CallPhase.UNFILED:
            replies = await self._send(CALL_ENDED, end_reason="no_input")
            text, _ = P.spoken_reply(replies or [])
            await self.say(text or P.GOODBYE_NO_INPUT, wait=True)
        else:
            await self.say(P.GOODBYE_SILENT, wait=True)
        self._finish()
        await self.call.hangup("no_input")

    async def _on_digit(self, digit: str, now: float) -> None:
        self.call.media.stop_playback()
        self.endpointer.disarm()
        self._armed = False
        if self.buttons and digit.isdigit() and 1 <= int(digit) <= len(self.buttons):
            self._digits = ""
            await self._turn(self.buttons[int(digit) - 1]["payload"], None)
        elif digit == "*":
            # At the wrap-up the ticket number is what the caller wants to hear again.
            await self.say(self._wrap_up_text if self.wrapping_up else self.question)
        elif digit == "#":
            digits, self._digits = self._digits, ""
            if digits:
                await self._turn(digits, None)
        else:
            self._digits += digit
            self._digit_deadline = now + DIGIT_TIMEOUT_S

    async def _caller_hung_up(self) -> None:
        utt = self.endpointer.flush(self.deps.clock.now())
        if utt is not None and self._asr_active:
            text, _ = await self._finish_asr()
            # At the wrap-up only a real problem is worth keeping: 没什么了 sent to Rasa
            # would open a complaint.  Either way nothing new is filed (below).
            talk = P.wrap_up_answer(text) is WrapUpAnswer.TALK
            if text and not (self.wrapping_up and not talk):
                await self._send(text, unfiled=not self.wrapping_up)
        # After the wrap-up question nothing is pending: the complaint is already filed.
        if self.phase is CallPhase.UNFILED:
            await self._send(CALL_ENDED, end_reason="caller_hangup")

    # -- Rasa ----------------------------------------------------------------
    async def _send(self, text: str, unfiled: bool = True, **extra: Any) -> list[BotMessage] | None:
        """Send one message to Rasa; None when Rasa is unavailable.

        ``unfiled=False`` sends a turn that must not be filed by /call_ended (the
        caller's last words after the wrap-up question).
        """
        try:
            replies = await self.deps.rasa.send(self.sender, text, {**self.metadata, **extra})
        except RasaUnavailable as exc:
            log.error("Rasa unavailable during call %s: %s", self.call.call_id, exc)
            return None
        if text != CALL_ENDED:
            self.user_turns += 1
            if unfiled and self.phase is CallPhase.LISTENING:
                self.phase = CallPhase.UNFILED
        return replies

    async def _turn(self, message: str, timing: TurnTiming | None) -> None:
        # At the wrap-up a turn files nothing until Rasa opens a new complaint form
        # (see _speak_replies); 再见 → utter_goodbye must not become a callback ticket.
        replies = await self._send(message, unfiled=not self.wrapping_up)
        if replies is None:
            replies = await self._retry_send(message, unfiled=not self.wrapping_up)
        if replies is None:
            await self.say(P.SYSTEM_BUSY, wait=True)
            self._finish()
            await self.call.hangup("rasa_unavailable")
            return
        await self._speak_replies(replies, timing)

    async def _retry_send(self, text: str, unfiled: bool) -> list[BotMessage] | None:
        """Rasa did not answer: apologise once and retry for ``rasa_retry_s`` seconds.

        A restarted Rasa server (the supervisor brings it back in seconds) then answers
        the same turn, and the call goes on where it was.
        """
        limit = self.deps.settings.rasa_retry_s
        if limit <= 0 or self.call.ended.is_set():
            return None
        await self.say(P.SYSTEM_HOLD)
        delay, waited = RASA_RETRY_FIRST_S, 0.0
        while not self.call.ended.is_set() and waited < limit:
            wait = min(delay, limit - waited)
            waited += wait
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.call.ended.wait(), wait)
                return None  # the caller hung up while waiting
            replies = await self._send(text, unfiled=unfiled)
            if replies is not None:
                log.info("call %s: Rasa answered again", self.call.call_id)
                return replies
            delay = min(delay * 2, RASA_RETRY_MAX_S)
        return None

    async def _speak_replies(self, replies: list[BotMessage], timing: TurnTiming | None) -> None:
        text, self.buttons = P.spoken_reply(replies)
        action = P.phone_action(replies)
        if action is PhoneAction.WRAP_UP:
            # Without this the call would wait forever after the ticket number.
            text += P.ANYTHING_ELSE
            self.buttons = []
            self.phase = CallPhase.WRAP_UP
            self._wrap_up_text = text
        elif self.wrapping_up and P.opens_form(replies):
            # A new problem: from here on it is an ordinary complaint call.
            self.phase = CallPhase.UNFILED
        if text:
            self.question = P.ANYTHING_ELSE if self.wrapping_up else text
        pb = await self.say(text)
        if timing is not None:
            timing.playback = pb
            self.deps.timings.append(timing)
        if action is PhoneAction.HANGUP:
            await self._wait_played()
            self._finish()
            await self.call.hangup("bot_hangup")
        elif action is PhoneAction.TRANSFER:
            await self._transfer()

    async def _goodbye(self) -> None:
        """End a call whose business is done: a short goodbye, then BYE.

        The loop hangs up once the goodbye has played; a caller who talks over it
        (谢谢… 我还想问一下) cancels the hang-up instead of being cut off.
        """
        await self.say(P.GOODBYE)
        self.phase = CallPhase.CLOSING

    async def _transfer(self) -> None:
        uri = self.deps.settings.transfer_uri
        if not uri:
            await self.say(P.TRANSFER_UNAVAILABLE + self.question)
            return
        await self.say(P.TRANSFER, wait=True)
        try:
            await self.call.transfer(uri)
            self._finish()
        except TransferFailed as exc:
            log.warning("transfer of %s failed: %s", self.call.call_id, exc)
            await self.say(P.TRANSFER_UNAVAILABLE, wait=True)
            await self._send(CALL_ENDED, end_reason="transfer_failed")
            self._finish()
            await self.call.hangup("transfer_failed")

    # -- output --------------------------------------------------------------
    async def say(self, text: str, wait: bool = False) -> Playback | None:
        """Speak ``text`` sentence by sentence; the first sentence starts at once."""
        self.endpointer.disarm()
        self._armed = False
        first: Playback | None = None
        for sentence in P.speech_chunks(text):
            try:
                pcm = await self.deps.tts.synthesize(sentence)
            except SpeechError:
                log.exception("TTS failed for %r", sentence)
                continue
            if self.call.ended.is_set():
                break
            pb = self.call.play(pcm)
            first = first or pb
        if wait:
            await self._wait_played()
        return first

    async def _wait_played(self) -> None:
        """Wait until the queued prompts are sent or the call ends."""
        while self.call.media.playing and not self.call.ended.is_set():
            ended: asyncio.Future[Any] = asyncio.ensure_future(self.call.ended.wait())
            pending: list[asyncio.Future[Any]] = [pb.done for pb in self.call.media.pending()]
            try:
                await asyncio.wait([ended, *pending], return_when=asyncio.FIRST_COMPLETED)
            finally:
                ended.cancel()
