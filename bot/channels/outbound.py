"""Bot-initiated turns: the registry through which other parts reach a channel.

The satisfaction callback (``bot.survey``) must reach a resident on the channel their
complaint came from, but it must not import the channels (import-linter contract). Each
channel registers what it can do in the app's :data:`OUTBOUND` registry at setup time:

- a :class:`MessagePusher` sends bot messages into an existing conversation (Telegram);
- a :class:`CallStarter` places a call that starts an intent and converses (phone).

The web channel has no push: its pending messages are kept by the survey store and shown
when the page next polls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from aiohttp import web

from bot.gateway.rasa_client import BotMessage
from hotline.channels import Channel

__all__ = [
    "OUTBOUND",
    "CallStarter",
    "ChannelUnavailable",
    "MessagePusher",
    "OutboundRegistry",
    "outbound",
]


class ChannelUnavailable(RuntimeError):
    """The channel cannot deliver now (not configured, not running, refused)."""


class MessagePusher(Protocol):
    """Sends bot messages into a resident's conversation on one channel."""

    def check_ready(self) -> None:
        """Raise :class:`ChannelUnavailable` if nothing can be sent now."""
        ...

    async def push(
        self, sender_id: str, messages: Sequence[BotMessage], at_most_once: bool = False
    ) -> None:
        """Deliver ``messages`` to ``sender_id``; :class:`ChannelUnavailable` if not."""
        ...


class CallStarter(Protocol):
    """Places an outbound call that triggers ``intent`` and then converses."""

    async def start_call(self, uri: str, intent: str, entities: dict[str, Any]) -> None:
        """Call ``uri``; :class:`ChannelUnavailable` if the call cannot be made or is refused."""
        ...


class OutboundRegistry:
    """What each running channel offers for bot-initiated turns."""

    def __init__(self) -> None:
        self._pushers: dict[Channel, MessagePusher] = {}
        self._callers: dict[Channel, CallStarter] = {}

    def add_pusher(self, channel: Channel, pusher: MessagePusher) -> None:
        self._pushers[channel] = pusher

    def add_caller(self, channel: Channel, caller: CallStarter) -> None:
        self._callers[channel] = caller

    def pusher(self, channel: Channel) -> MessagePusher | None:
        return self._pushers.get(channel)

    def caller(self, channel: Channel) -> CallStarter | None:
        return self._callers.get(channel)


OUTBOUND = web.AppKey("outbound_channels", OutboundRegistry)


def outbound(app: web.Application) -> OutboundRegistry:
    """The app's registry, created on first use (channels register during setup)."""
    registry = app.get(OUTBOUND)
    if registry is None:
        registry = OutboundRegistry()
        app[OUTBOUND] = registry
    return registry
