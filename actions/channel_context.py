"""Who the resident is on their channel, read from the sender id and metadata.

Sender ids carry the channel as a prefix (``web:``, ``tg:``, ``tel:``);
channel details (caller number, shared contact) travel in message metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.channels import channel_of_sender
from nlu import normalize_phone

__all__ = ["ChannelContext", "channel_context"]


@dataclass(frozen=True)
class ChannelContext:
    channel: str
    channel_user: str
    phone: str | None


def channel_context(sender_id: str, metadata: dict[str, Any] | None) -> ChannelContext:
    """Channel name, the resident's stable identity on it, and a known phone number."""
    meta = metadata or {}
    channel = str(meta.get("channel") or channel_of_sender(sender_id).value)
    raw_phone = meta.get("phone")
    phone = normalize_phone(str(raw_phone)) if raw_phone else None
    if channel == "phone" and phone:
        channel_user = f"tel:{phone}"
    else:
        channel_user = sender_id
    return ChannelContext(channel=channel, channel_user=channel_user, phone=phone)
