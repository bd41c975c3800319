"""Telegram channel: residents talk to the hotline through a Telegram bot.

:func:`setup` adds the channel to the gateway when ``TELEGRAM_BOT_TOKEN`` is
set.  A ``cleanup_ctx`` starts python-telegram-bot's ``Application`` in the
background (the gateway keeps serving the web channel while Telegram is
unreachable) using long polling, or — when ``TELEGRAM_WEBHOOK_URL`` is set —
registers a webhook that the gateway serves at ``TELEGRAM_WEBHOOK_PATH``,
checking ``X-Telegram-Bot-Api-Secret-Token``.

Bot-initiated messages (e.g. the satisfaction survey) go out through
:func:`send_to_chat`.  The behaviour per update kind is in
:mod:`bot.channels.telegram.handlers`; docs in ``docs/telegram.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiohttp import web
from telegram import BotCommand, Message, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.channels.outbound import ChannelUnavailable, outbound
from bot.channels.telegram.errors import TelegramDisabled
from bot.channels.telegram.handlers import BOT_COMMANDS, TelegramHandlers
from bot.channels.telegram.media import AttachmentStore
from bot.channels.telegram.outbound import Delivery, TelegramSender
from bot.channels.telegram.render import CallbackPayloads
from bot.channels.telegram.request import AiohttpRequest
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.state import TelegramState
from bot.channels.telegram.voice import TRANSCRIBER, Transcriber
from bot.gateway.app_keys import CONFIG
from bot.gateway.errors import json_error
from bot.gateway.log_masking import MaskingFilter
from bot.gateway.rasa_client import BotMessage
from hotline.channels import Channel
from hotline.secret_keys import constant_time_equal

__all__ = ["SECRET_HEADER", "TELEGRAM_CHANNEL", "TelegramChannel", "send_to_chat", "setup"]

log = logging.getLogger("jiesu.telegram")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_START_BACKOFF_MAX_S = 60.0
_CONCURRENT_UPDATES = 256
_POOL_SIZE = 100


class TelegramChannel:
    """The running bot: PTB application, handlers and sender for one gateway."""

    def __init__(
        self,
        app: web.Application,
        settings: TelegramSettings,
        transcriber: Transcriber | None = None,
    ) -> None:
        """Build (without any I/O) the PTB application for ``settings``.

        Args:
            app: The gateway app; ``RASA_CLIENT``/``CONFIG`` are read from it per turn.
            settings: Channel settings with a bot token.
            transcriber: Recogniser for voice notes; if ``None``, the ``TRANSCRIBER``
                app key is consulted per voice note.
        """
        self.settings = settings
        self.ready = asyncio.Event()
        self.secret = settings.webhook_secret or secrets.token_urlsafe(32)
        self._app = app
        self._transcriber = transcriber
        self._task: asyncio.Task[None] | None = None
        builder = (
            ApplicationBuilder()
            .token(settings.bot_token)
            .base_url(settings.base_url)
            .base_file_url(settings.base_file_url)
            .rate_limiter(
                AIORateLimiter(
                    overall_max_rate=settings.overall_rate_per_s,
                    max_retries=settings.max_retries,
                )
            )
            .concurrent_updates(_CONCURRENT_UPDATES)
            .request(
                AiohttpRequest(
                    pool_size=_POOL_SIZE,
                    read_timeout=settings.request_timeout_s,
                    write_timeout=settings.request_timeout_s,
                )
            )
            .get_updates_request(AiohttpRequest(pool_size=1))
        )
        if settings.webhook_mode:
            builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.sender = TelegramSender(self.application.bot, CallbackPayloads())
        attachment_dir = settings.attachment_dir or app[CONFIG].data_dir / "telegram"
        self.handlers = TelegramHandlers(
            app,
            settings,
            self.sender,
            AttachmentStore(attachment_dir, settings.max_attachment_bytes),
            self.transcriber,
        )
        self.handlers.register(self.application)

    def attach_state(self, state: TelegramState) -> None:
        """Use ``state`` for button payloads, shared numbers and pressed keyboards."""
        self.sender.payloads.store = state
        self.handlers.state = state

    def transcriber(self) -> Transcriber | None:
        """The recogniser passed in, else the one under the ``TRANSCRIBER`` app key."""
        return self._transcriber or self._app.get(TRANSCRIBER)

    async def send(
        self,
        chat_id: int,
        messages: Sequence[BotMessage],
        delivery: Delivery = Delivery.AT_LEAST_ONCE,
    ) -> list[Message]:
        """Push bot-initiated ``messages`` (text, buttons, custom) to ``chat_id``.

        ``delivery`` says what a timed-out ``sendMessage`` does (``Delivery``).

        Raises:
            TelegramDisabled: The bot has not started (yet).
            telegram.error.TelegramError: Telegram refused a message.
        """
        if not self.ready.is_set():
            raise TelegramDisabled("the Telegram bot is not running")
        async with self.handlers.locks.hold(chat_id):
            return await self.sender.send(chat_id, messages, delivery)

    async def _start_once(self) -> None:
        ptb = self.application
        await ptb.initialize()
        me = ptb.bot.username
        try:
            await ptb.bot.set_my_commands([BotCommand(c, d) for c, d in BOT_COMMANDS])
        except TelegramError as exc:
            log.warning("setMyCommands failed: %s", exc)
        await ptb.start()
        if self.settings.webhook_mode:
            await ptb.bot.set_webhook(
                self.settings.webhook_url,
                secret_token=self.secret,
                allowed_updates=Update.ALL_TYPES,
            )
            log.info("telegram bot @%s receives updates by webhook", me)
        else:
            assert ptb.updater is not None
            await ptb.updater.start_polling(
                timeout=self.settings.poll_timeout_s,
                allowed_updates=Update.ALL_TYPES,
                bootstrap_retries=3,
            )
            log.info("telegram bot @%s polls for updates", me)
        self.ready.set()

    async def run(self) -> None:
        """Start the bot, retrying while Telegram is unreachable; give up on a bad token."""
        delay = 1.0
        while True:
            try:
                await self._start_once()
                return
            except InvalidToken:
                log.error("TELEGRAM_BOT_TOKEN was rejected; the Telegram channel stays off")
                return
            except NetworkError as exc:  # includes TimedOut
                log.warning("telegram start failed (%s); retrying in %.0fs", exc, delay)
                await self._stop_ptb()
                await asyncio.sleep(delay)
                delay = min(delay * 2, _START_BACKOFF_MAX_S)

    async def _stop_ptb(self) -> None:
        ptb = self.application
        with contextlib.suppress(RuntimeError, TelegramError):
            if ptb.updater is not None and ptb.updater.running:
                await ptb.updater.stop()
            if ptb.running:
                await ptb.stop()
            await ptb.shutdown()

    async def close(self) -> None:
        """Stop fetching updates, finish the updates in hand and release connections."""
        self.ready.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._stop_ptb()

    async def webhook(self, request: web.Request) -> web.Response:
        """``POST <webhook path>``: one update from Telegram (403 on a wrong secret)."""
        given = request.headers.get(SECRET_HEADER, "")
        if not constant_time_equal(given, self.secret):
            log.warning("webhook post with a wrong secret from %s", request.remote)
            return json_error(403, "forbidden", f"missing or wrong {SECRET_HEADER}")
        if not self.ready.is_set():  # Telegram retries later
            return json_error(503, "starting", "the Telegram channel is starting")
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return json_error(400, "invalid_json", "request body must be JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return json_error(400, "not_an_update", "body must be an Update with an update_id")
        try:
            update = Update.de_json(data, self.application.bot)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # Telegram never sends this; whoever has the secret and does gets a 400.
            log.warning("webhook update %s does not parse: %s", data.get("update_id"), exc)
            return json_error(400, "invalid_update", "the update does not have Telegram's shape")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")


TELEGRAM_CHANNEL = web.AppKey("telegram_channel", TelegramChannel)


async def send_to_chat(
    app: web.Application,
    chat_id: int,
    messages: Sequence[BotMessage],
    delivery: Delivery = Delivery.AT_LEAST_ONCE,
) -> list[Message]:
    """Push bot-initiated messages (e.g. the satisfaction survey) to a Telegram chat.

    Buttons become an inline keyboard; pressing one sends its payload to Rasa
    as sender ``tg:<chat_id>``, like any other button.

    Args:
        app: The gateway app.
        chat_id: The chat (``metadata["chat_id"]`` of the conversation).
        messages: Messages as Rasa returns them (``text``, ``buttons``, ``custom``).

    Raises:
        TelegramDisabled: The channel is not configured or not running.
        telegram.error.TelegramError: Telegram refused a message.
    """
    channel = app.get(TELEGRAM_CHANNEL)
    if channel is None:
        raise TelegramDisabled("TELEGRAM_BOT_TOKEN is not set")
    return await channel.send(chat_id, messages, delivery)


class _TelegramPusher:
    """The Telegram channel's :class:`~bot.channels.outbound.MessagePusher`."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel

    def check_ready(self) -> None:
        if not self.channel.ready.is_set():
            raise ChannelUnavailable("Telegram channel is not running")

    async def push(
        self, sender_id: str, messages: Sequence[BotMessage], at_most_once: bool = False
    ) -> None:
        from telegram.error import TelegramError

        try:
            chat_id = int(sender_id.partition(":")[2])
        except ValueError as exc:
            raise ChannelUnavailable(f"not a Telegram chat: {sender_id}") from exc
        try:
            delivery = Delivery.AT_MOST_ONCE if at_most_once else Delivery.AT_LEAST_ONCE
            await self.channel.send(chat_id, messages, delivery)
        except (TelegramDisabled, TelegramError) as exc:
            raise ChannelUnavailable(str(exc) or type(exc).__name__) from exc


def _mask_logs(token: str) -> None:
    """Add the masking filter to our logger and to every PTB/httpx logger created so far.

    Filters of a parent logger do not apply to records its children propagate, so
    each existing logger gets its own (PTB creates its loggers at import and build).
    """
    mask = MaskingFilter([token])
    names = [n for n in logging.root.manager.loggerDict if n.startswith(("telegram", "httpx"))]
    for name in ["jiesu.telegram", "httpx", "telegram", *names]:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, MaskingFilter)]:
            logger.removeFilter(old)
        logger.addFilter(mask)


def setup(
    app: web.Application,
    settings: TelegramSettings | None = None,
    transcriber: Transcriber | None = None,
) -> None:
    """Add the Telegram channel to the gateway if a bot token is configured.

    Args:
        app: The gateway app (``CONFIG`` must be set; ``RASA_CLIENT`` is set by the
            time updates arrive).
        settings: Channel settings (default: ``TelegramSettings.from_env(os.environ)``).
        transcriber: Voice recogniser (default: the ``TRANSCRIBER`` app key, if any).
    """
    settings = settings or TelegramSettings.from_env(os.environ)
    if not settings.enabled:
        log.info("TELEGRAM_BOT_TOKEN not set: Telegram channel off")
        return
    if transcriber is None and app.get(TRANSCRIBER) is None:
        # Voice notes go through the same recogniser as the phone (loaded on first use).
        from speech.transcribe import SharedTranscriber

        transcriber = SharedTranscriber()
    channel = TelegramChannel(app, settings, transcriber)
    _mask_logs(settings.bot_token)
    app[TELEGRAM_CHANNEL] = channel
    outbound(app).add_pusher(Channel.TELEGRAM, _TelegramPusher(channel))
    if settings.webhook_mode:
        app.router.add_post(settings.webhook_path, channel.webhook)

    async def _ctx(_: web.Application) -> AsyncIterator[None]:
        # Buttons, shared numbers and pressed keyboards survive a restart (state.py).
        state = await asyncio.to_thread(TelegramState, app[CONFIG].effective_outbox_db_url)
        channel.attach_state(state)
        channel._task = asyncio.create_task(channel.run(), name="telegram-start")
        yield
        await channel.close()
        state.close()

    app.cleanup_ctx.append(_ctx)
