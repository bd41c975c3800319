"""Photos and documents a resident sends: download, size-limit and keep them.

Files are stored as ``<attachment dir>/<chat id>/<file_unique_id><ext>``.  No
part of the path comes from the resident (file names are ignored; the
extension comes from a fixed MIME table), and writes run in a worker thread.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from telegram import Bot, Message

from bot.channels.telegram.errors import AttachmentTooLarge

__all__ = ["Attachment", "AttachmentStore", "attachment_of"]

Kind = Literal["photo", "document", "video"]

_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "text/plain": ".txt",
}
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Attachment:
    """What the resident sent, before download."""

    kind: Kind
    file_id: str
    file_unique_id: str
    size: int | None
    mime_type: str


def attachment_of(message: Message) -> Attachment | None:
    """The photo (largest size), document or video in ``message``, if any."""
    if message.photo:
        p = message.photo[-1]
        return Attachment("photo", p.file_id, p.file_unique_id, p.file_size, "image/jpeg")
    if message.document:
        d = message.document
        mime = d.mime_type or "application/octet-stream"
        return Attachment("document", d.file_id, d.file_unique_id, d.file_size, mime)
    if message.video:
        v = message.video
        mime = v.mime_type or "video/mp4"
        return Attachment("video", v.file_id, v.file_unique_id, v.file_size, mime)
    return None


class AttachmentStore:
    """Downloads attachments through the Bot API into a directory."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        """Keep files under ``root``, refusing any larger than ``max_bytes``."""
        self.root = root
        self.max_bytes = max_bytes

    def check_size(self, size: int | None) -> None:
        """Raise :class:`AttachmentTooLarge` if an announced size is over the limit."""
        if size is not None and size > self.max_bytes:
            raise AttachmentTooLarge(size, self.max_bytes)

    async def fetch(self, bot: Bot, file_id: str, announced: int | None = None) -> bytes:
        """Download a file's bytes (``getFile`` + file URL), enforcing the size limit.

        Raises:
            AttachmentTooLarge: The file is over the limit.
            telegram.error.TelegramError: The Bot API refused or failed.
        """
        self.check_size(announced)
        tg_file = await bot.get_file(file_id)
        self.check_size(tg_file.file_size)
        data = bytes(await tg_file.download_as_bytearray())
        self.check_size(len(data))
        return data

    async def save(self, bot: Bot, chat_id: int, att: Attachment) -> dict[str, Any]:
        """Download ``att`` and store it; return its metadata entry for Rasa.

        Raises:
            AttachmentTooLarge: The file is over the limit.
            telegram.error.TelegramError: The Bot API refused or failed.
            OSError: The file could not be written.
        """
        data = await self.fetch(bot, att.file_id, att.size)
        ext = _EXTENSIONS.get(att.mime_type, ".bin")
        path = self.root / str(int(chat_id)) / f"{_SAFE_ID.sub('_', att.file_unique_id)}{ext}"
        url = await asyncio.to_thread(_write, path, data)
        return {
            "kind": att.kind,
            "file_id": att.file_id,
            "file_unique_id": att.file_unique_id,
            "mime_type": att.mime_type,
            "size": len(data),
            "path": str(path),
            "url": url,
        }


def _write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path.resolve().as_uri()
