"""Who the resident is on their channel, read from the sender id and metadata.

Sender ids carry the channel as a prefix (``web:``, ``tg:``, ``tel:``);
channel details (caller number, shared contact) travel in message metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actions.parsing import valid_phone

__all__ = ["ChannelContext", "channel_context"]

_CHANNELS = {"web": "web", "tg": "telegram", "tel": "phone", "cli": "cli", "test": "web"}


@dataclass(frozen=True)
class ChannelContext:
    channel: str
    channel_user: str
    phone: str | None


def channel_context(sender_id: str, metadata: dict[str, Any] | None) -> ChannelContext:
    """Channel name, the resident's stable identity on it, and a known phone number."""
    meta = metadata or {}
    prefix = sender_id.split(":", 1)[0] if ":" in sender_id else "web"
    channel = str(meta.get("channel") or _CHANNELS.get(prefix, "web"))
    raw_phone = meta.get("phone")
    phone = valid_phone(str(raw_phone)) if raw_phone else None
    if channel == "phone" and phone:
        channel_user = f"tel:{phone}"
    else:
        channel_user = sender_id
    return ChannelContext(channel=channel, channel_user=channel_user, phone=phone)
