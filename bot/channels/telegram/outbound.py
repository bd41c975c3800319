"""Send rendered replies to a chat, in order, with retries.

Rate limits and 429 ``retry_after`` are handled by PTB's ``AIORateLimiter``
installed on the bot; this layer retries transient network failures, keeps
track of chats that were shown the "share my number" keyboard (so it can be
removed with the next plain message) and never lets one failed message stop
the rest silently — failures are logged with ``exc_info``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence

from telegram import Bot, Message, ReplyKeyboardRemove
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram.render import CallbackPayloads, Outgoing, render
from bot.gateway.rasa_client import BotMessage
from hotline.states import TextEnum

__all__ = ["Delivery", "TelegramSender"]

log = logging.getLogger("jiesu.telegram")

_NETWORK_RETRIES = 2
_RETRY_BASE_S = 0.5
_MAX_TRACKED = 10_000


class Delivery(TextEnum):
    """What a ``sendMessage`` that timed out does: Telegram has no idempotency key, and a
    timeout after the request was sent may mean the message arrived."""

    #: Sent again (it may arrive twice): replies, ticket numbers.
    AT_LEAST_ONCE = "at_least_once"
    #: Not sent again (it may be missing): survey questions, re-asked by the survey's
    #: answer timeout if the resident never answers.
    AT_MOST_ONCE = "at_most_once"


class TelegramSender:
    """Sends Rasa replies to Telegram chats."""

    def __init__(self, bot: Bot, payloads: CallbackPayloads) -> None:
        """Send through ``bot``, encoding button payloads with ``payloads``."""
        self.bot = bot
        self.payloads = payloads
        self._contact_kb: OrderedDict[int, None] = OrderedDict()

    async def send(
        self,
        chat_id: int,
        messages: Sequence[BotMessage],
        delivery: Delivery = Delivery.AT_LEAST_ONCE,
    ) -> list[Message]:
        """Render ``messages`` and send them to ``chat_id`` one after another.

        Args:
            chat_id: Target chat.
            messages: Normalised Rasa replies (text, buttons, custom).
            delivery: At most once: a timed-out message is not sent again, and the
                rest are not sent either (the resident might see them out of order).

        Returns:
            The messages Telegram accepted.

        Raises:
            telegram.error.TelegramError: A message could not be sent (after retries);
                earlier messages were delivered.
        """
        sent: list[Message] = []
        items = render(messages, self.payloads)
        await self.payloads.save()  # a button must outlive this process before it is shown
        for item in items:
            try:
                sent.append(await self.send_one(chat_id, item, delivery))
            except TimedOut:
                if delivery is not Delivery.AT_MOST_ONCE:
                    raise
                log.warning(
                    "sendMessage to chat %s timed out: it may have arrived; not sent again "
                    "(at most once)",
                    chat_id,
                )
                break
        return sent

    async def send_one(
        self, chat_id: int, item: Outgoing, delivery: Delivery = Delivery.AT_LEAST_ONCE
    ) -> Message:
        """Send one rendered message, retrying network failures with back-off.

        A refused connection is always retried (nothing was sent); a timeout only for
        :attr:`Delivery.AT_LEAST_ONCE`.
        """
        markup: object = item.inline or item.contact
        if item.contact is not None:
            self._contact_kb[chat_id] = None
            if len(self._contact_kb) > _MAX_TRACKED:
                self._contact_kb.popitem(last=False)
        elif item.inline is None and chat_id in self._contact_kb:
            markup = ReplyKeyboardRemove()
            del self._contact_kb[chat_id]
        attempt = 0
        while True:
            try:
                return await self.bot.send_message(
                    chat_id,
                    item.text,
                    reply_markup=markup,  # type: ignore[arg-type]
                    link_preview_options=None,
                )
            except (BadRequest, Forbidden, RetryAfter):
                raise  # not transient (RetryAfter: the rate limiter already retried)
            except (TimedOut, NetworkError) as exc:
                if attempt >= _NETWORK_RETRIES:
                    raise
                if isinstance(exc, TimedOut) and delivery is Delivery.AT_MOST_ONCE:
                    raise
                attempt += 1
                delay = _RETRY_BASE_S * 2 ** (attempt - 1)
                log.warning(
                    "sendMessage to chat %s failed (%s); retry %d in %.1fs",
                    chat_id,
                    exc,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)
