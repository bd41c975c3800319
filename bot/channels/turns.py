"""What every channel shares: one resident turn through Rasa, and the replies that do not
come from Rasa (empty input, a message over the length limit, Rasa unavailable).

Web, Telegram and the terminal chat call :func:`chat_reply`; the phone channel speaks its
own prompts (``bot.channels.phone.prompts``) but uses :data:`RASA_DOWN_REPLY`'s rule too.
While Rasa is down, :func:`chat_reply` keeps the resident's words in the held-turn store
(:mod:`bot.channels.held_turns`) and replays them when Rasa is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bot.channels.held_turns import (
    HELD_TURNS,
    Deliver,
    HeldTurns,
    StackDown,
    replay_held,
    replay_loop,
)
from bot.channels.outbound import ChannelUnavailable, outbound
from bot.gateway.app_keys import CONFIG, HTTP_SESSION, RASA_CLIENT
from bot.gateway.health import action_server_ready
from bot.gateway.rasa_client import BotMessage, RasaUnavailable
from hotline.channels import channel_of_sender
from tickets.db import in_thread_retrying

__all__ = [
    "EMPTY_INPUT_REPLY",
    "RASA_DOWN_REPLY",
    "REPLAY_EVERY_S",
    "chat_reply",
    "setup",
    "too_long_reply",
]

log = logging.getLogger("jiesu.turns")

EMPTY_INPUT_REPLY = "您好像没有输入内容。请直接说说您遇到的问题，比如“小区门口的路灯坏了”。"
RASA_DOWN_REPLY = (
    "系统繁忙，请稍后再试。您刚才的话已经记下，系统恢复后会自动接着处理，不用重发；"
    "紧急情况请直接拨打110、119或120。"
)
#: How often the gateway looks for held turns to replay (seconds).
REPLAY_EVERY_S = 1.0


def too_long_reply(length: int, max_chars: int) -> str:
    """The answer to a message over ``JIESU_MAX_MESSAGE_CHARS``."""
    return (
        f"您的消息有{length}字，超过了单条{max_chars}字的上限。"
        "请分几段发送，或先用一两句话说明主要问题。"
    )


async def chat_reply(
    app: web.Application, sender: str, text: str, metadata: dict[str, Any]
) -> list[BotMessage]:
    """One resident turn through Rasa, with the input rules every text channel applies.

    Turns held while Rasa was down go first (the same words again are not sent twice),
    and replies to turns replayed in the background come before the new ones.

    Raises:
        RasaUnavailable: Rasa did not answer; the words are held and the caller replies
            :data:`RASA_DOWN_REPLY`.
    """
    if not text.strip():
        return [{"text": EMPTY_INPUT_REPLY}]
    max_chars = app[CONFIG].max_message_chars
    if len(text) > max_chars:
        return [{"text": too_long_reply(len(text), max_chars)}]
    rasa = CheckedRasa(app)
    held = app.get(HELD_TURNS)
    if held is None:
        return await rasa.send(sender, text, metadata)
    async with held.locks.hold(sender):
        earlier = await in_thread_retrying(held.waiting, sender)
        repeat = bool(earlier) and earlier[-1].text == text
        sent = False
        try:
            out = await replay_held(held, rasa, sender, earlier)
            if not repeat:
                sent = True
                out.extend(await rasa.send(sender, text, metadata))
        except RasaUnavailable as exc:
            if not repeat:
                # Sent and then no answer (a timeout): Rasa may have it; the replay asks
                # the tracker first, so the turn is processed exactly once.
                uncertain = sent and exc.maybe_processed
                await in_thread_retrying(held.hold, sender, text, metadata, time.time(), uncertain)
                log.info("rasa down: holding a turn of %s (uncertain: %s)", sender, uncertain)
            raise
        answered = await in_thread_retrying(held.take_answers, sender, time.time())
    return [*answered, *out]


class CheckedRasa:
    """Rasa, where an empty reply while the action server is down counts as no answer.

    With the action server down Rasa still answers 200, with no messages: the form's
    actions did not run and the resident would get silence.  That turn is held and
    replayed like one Rasa never got (the failed action's events were dropped by Rasa).
    """

    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def _actions_up(self) -> bool:
        return await action_server_ready(self.app[HTTP_SESSION], self.app[CONFIG].action_port)

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        rasa = self.app[RASA_CLIENT]
        replies = await rasa.send(sender, text, metadata)
        if replies:
            return replies
        if not await self._actions_up():
            raise StackDown("empty reply while the action server is down")
        # It may have come back between Rasa's failed call and our check: once more.
        return await rasa.send(sender, text, metadata)

    async def processed_since(
        self, sender: str, text: str, since: float
    ) -> list[BotMessage] | None:
        return await self.app[RASA_CLIENT].processed_since(sender, text, since)

    async def ready(self) -> bool:
        # The action server is checked only for an empty reply (send): fake-Rasa setups
        # and remote action servers have none on this host.
        return await self.app[RASA_CLIENT].ready()


def _deliverer(app: web.Application) -> Deliver:
    async def deliver(sender: str, messages: list[BotMessage]) -> bool:
        pusher = outbound(app).pusher(channel_of_sender(sender))
        if pusher is None:  # the web page fetches them (GET /api/chat/pending)
            return False
        try:
            await pusher.push(sender, messages)
        except ChannelUnavailable as exc:
            log.info("replayed answers for %s wait: %s", sender, exc)
            return False
        return True

    return deliver


async def _held_ctx(app: web.Application) -> AsyncIterator[None]:
    held = await asyncio.to_thread(HeldTurns, app[CONFIG].effective_outbox_db_url)
    app[HELD_TURNS] = held
    task = asyncio.create_task(
        replay_loop(held, CheckedRasa(app), _deliverer(app), REPLAY_EVERY_S), name="held-replay"
    )
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    held.close()


def setup(app: web.Application) -> None:
    """Keep turns while Rasa is down and replay them (after the HTTP session is set up)."""
    app.cleanup_ctx.append(_held_ctx)
