"""Channels and the sender-id prefixes that name them: one map for every process.

Sender ids carry the channel as a prefix (``web:<id>``, ``tg:<chat_id>``,
``tel:<call id>``, ``cli:<id>``); the gateway adds it, the action server and the survey
read it back.
"""

from __future__ import annotations

from hotline.states import TextEnum

__all__ = ["Channel", "SENDER_PREFIXES", "channel_of_sender", "prefixed_sender"]


class Channel(TextEnum):
    """Where a resident talks to the hotline."""

    WEB = "web"
    TELEGRAM = "telegram"
    PHONE = "phone"
    CLI = "cli"  # jiesu chat in a terminal (talks to the gateway like the web page)


#: Sender-id prefix → channel.  ``test`` is what test drivers use; it behaves as web.
SENDER_PREFIXES: dict[str, Channel] = {
    "web": Channel.WEB,
    "tg": Channel.TELEGRAM,
    "tel": Channel.PHONE,
    "cli": Channel.CLI,
    "test": Channel.WEB,
}


def channel_of_sender(sender_id: str, default: Channel = Channel.WEB) -> Channel:
    """The channel a sender id's prefix names (``default`` without a known prefix)."""
    head, sep, _ = sender_id.partition(":")
    return SENDER_PREFIXES.get(head, default) if sep else default


def prefixed_sender(prefix: str, sender: str) -> str:
    """``sender`` with ``prefix:`` unless it already carries a known prefix."""
    head, sep, _ = sender.partition(":")
    if sep and head in SENDER_PREFIXES:
        return sender
    return f"{prefix}:{sender}"
