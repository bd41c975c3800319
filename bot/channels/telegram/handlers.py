"""PTB handlers of the Telegram channel: one method per kind of update.

Every private chat is one Rasa conversation (sender ``tg:<chat_id>``).  Each
handler does a cheap check (throttle), then runs the chat's turn under the
chat's lock so Rasa sees its messages in order, with a typing indicator while
Rasa works.  Group chats are ignored: the hotline talks to residents in private.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiohttp import web
from telegram import Chat, Message, Update
from telegram.constants import ChatAction
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.held_turns import HELD_TURNS
from bot.channels.telegram import intents as intents
from bot.channels.telegram.errors import AttachmentTooLarge, VoiceDecodeError
from bot.channels.telegram.flow import ChatLocks, ChatThrottle, Verdict
from bot.channels.telegram.media import AttachmentStore, attachment_of
from bot.channels.telegram.outbound import TelegramSender
from bot.channels.telegram.render import USED_MARK, used_keyboard
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.state import TelegramState
from bot.channels.telegram.voice import Transcriber, decode_to_pcm16k
from bot.channels.turns import RASA_DOWN_REPLY, chat_reply
from bot.gateway.rasa_client import BotMessage, RasaUnavailable
from speech.errors import ModelError, SpeechError
from tickets.privacy import mask_personal_data

__all__ = ["BOT_COMMANDS", "TelegramHandlers"]

log = logging.getLogger("jiesu.telegram")

WELCOME = (
    "您好，这里是12345市民服务热线。请直接告诉我您遇到的问题，"
    "比如“小区门口的路灯坏了”。也可以发送语音、位置或照片。\n"
    "查询进度请发 /status，取消当前诉求请发 /cancel。"
)
HELP = (
    "使用说明：\n"
    "• 用文字或语音描述问题，我会帮您登记工单；\n"
    "• 发送位置（📎 → 位置）可以告诉我问题发生的地点；\n"
    "• 可以附上照片或文件作为证据；\n"
    "• /status 查询工单进度，/cancel 取消当前诉求。\n"
    "紧急情况请直接拨打 110、119 或 120。"
)
THROTTLED = "您发送得太快了，请稍等片刻再发。"
UNSUPPORTED = "抱歉，我暂时只能处理文字、语音、位置、联系人、照片和文件。请用文字描述您的问题。"
UNKNOWN_COMMAND = "没有这个指令。" + HELP
VOICE_UNAVAILABLE = "抱歉，语音识别暂时不可用，请直接发送文字描述您的问题。"
VOICE_NOT_UNDERSTOOD = "抱歉，没有听清您说的话。请再说一次，或直接发送文字。"
VOICE_FAILED = "抱歉，这条语音处理失败了，请再发一次，或直接发送文字。"
VOICE_TOO_LONG = "语音太长了（最长{limit}秒），请分段发送，或直接发送文字。"
VOICE_ECHO = "您说的是：{text}"
FILE_TOO_LARGE = "文件太大了（上限{limit_mb:.0f}MB），请压缩后再发，或换一张照片。"
FILE_FAILED = "抱歉，文件接收失败，请再发一次。"
BUTTON_EXPIRED = "这个按钮已过期，请直接输入您的选择。"
BUTTON_USED = "已处理"
BUTTON_CHOSEN = "已选择：{title}"
INTERNAL_ERROR = "抱歉，系统出了点问题，您的消息可能没有处理。请稍后再发一次，或直接拨打12345。"

BOT_COMMANDS: list[tuple[str, str]] = [
    ("start", "开始使用"),
    ("help", "使用说明"),
    ("status", "查询工单进度"),
    ("cancel", "取消当前诉求"),
]

_MAX_TRACKED = 10_000
_TYPING_REPEAT_S = 4.5  # Telegram shows "typing…" for 5 s
_PRIVATE = filters.ChatType.PRIVATE


def _lru_put(table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    table[key] = value
    table.move_to_end(key)
    if len(table) > _MAX_TRACKED:
        table.popitem(last=False)


class TelegramHandlers:
    """Callbacks for PTB, bound to one gateway app and one bot."""

    def __init__(
        self,
        app: web.Application,
        settings: TelegramSettings,
        sender: TelegramSender,
        store: AttachmentStore,
        transcriber: Callable[[], Transcriber | None],
        throttle: ChatThrottle | None = None,
    ) -> None:
        """Create the handlers.

        Args:
            app: The gateway app (for ``RASA_CLIENT`` and ``CONFIG``).
            settings: Channel settings.
            sender: Sends replies to chats.
            store: Keeps photos and documents.
            transcriber: Returns the current recogniser, or ``None`` without one.
            throttle: Per-chat throttle (default: from ``settings``).
        """
        self.app = app
        self.settings = settings
        self.sender = sender
        self.store = store
        self._transcriber = transcriber
        self.throttle = throttle or ChatThrottle(settings.chat_burst, settings.chat_rate_per_min)
        self.locks = ChatLocks()
        self._phones: OrderedDict[int, str] = OrderedDict()
        self._used: OrderedDict[tuple[int, int], None] = OrderedDict()
        # Durable copies of the two tables above (set at start-up; None in unit tests).
        self.state: TelegramState | None = None

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Add every handler to ``application`` (order matters: the catch-all is last)."""
        add = application.add_handler
        add(CommandHandler("start", self.on_start, filters=_PRIVATE))
        add(CommandHandler("help", self.on_help, filters=_PRIVATE))
        add(CommandHandler("status", self.on_status, filters=_PRIVATE))
        add(CommandHandler("cancel", self.on_cancel, filters=_PRIVATE))
        add(MessageHandler(_PRIVATE & filters.COMMAND, self.on_unknown_command))
        add(MessageHandler(_PRIVATE & filters.TEXT, self.on_text))
        add(MessageHandler(_PRIVATE & (filters.LOCATION | filters.VENUE), self.on_location))
        add(MessageHandler(_PRIVATE & filters.CONTACT, self.on_contact))
        add(MessageHandler(_PRIVATE & (filters.VOICE | filters.AUDIO), self.on_voice))
        add(
            MessageHandler(
                _PRIVATE & (filters.PHOTO | filters.Document.ALL | filters.VIDEO),
                self.on_attachment,
            )
        )
        add(CallbackQueryHandler(self.on_callback))
        add(MessageHandler(_PRIVATE & filters.UpdateType.MESSAGE, self.on_unsupported))
        application.add_error_handler(self.on_error)

    # ---- plumbing ---------------------------------------------------------------

    async def _shared_phone(self, chat_id: int) -> str | None:
        phone = self._phones.get(chat_id)
        if phone is None and self.state is not None:
            phone = await asyncio.to_thread(self.state.phone, chat_id)
            if phone:
                _lru_put(self._phones, chat_id, phone)
        return phone

    async def _metadata(self, chat_id: int, user_id: int | None, **extra: Any) -> dict[str, Any]:
        meta: dict[str, Any] = {"channel": "telegram", "chat_id": chat_id, "user_id": user_id}
        phone = await self._shared_phone(chat_id)
        if phone:
            meta["phone"] = phone
        meta.update(extra)
        return meta

    async def _admit(self, chat_id: int) -> bool:
        verdict = self.throttle.check(chat_id)
        if verdict is Verdict.ALLOW:
            return True
        log.info("chat %s throttled (%s)", chat_id, verdict.value)
        if verdict is Verdict.NOTIFY:
            await self._say(chat_id, THROTTLED)
        return False

    async def _say(self, chat_id: int, text: str) -> None:
        await self.sender.send(chat_id, [{"text": text}])

    async def _typing(self, chat_id: int, done: asyncio.Event) -> None:
        """Show "typing…" after ``typing_delay_s`` until ``done`` is set."""
        delay = self.settings.typing_delay_s
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), delay)
                return
            try:
                await self.sender.bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as exc:
                log.debug("sendChatAction to %s failed: %s", chat_id, exc)
            delay = _TYPING_REPEAT_S

    async def _rasa_turn(self, chat_id: int, text: str, metadata: dict[str, Any]) -> None:
        """Send ``text`` to Rasa for the chat and deliver the replies (caller holds the lock)."""
        done = asyncio.Event()
        typing = asyncio.create_task(self._typing(chat_id, done))
        try:
            replies: list[BotMessage] = await chat_reply(self.app, f"tg:{chat_id}", text, metadata)
        except RasaUnavailable as exc:
            log.warning("rasa unavailable for chat %s: %s", chat_id, exc)
            replies = [{"text": RASA_DOWN_REPLY}]
        finally:
            done.set()
            await typing
        try:
            await self.sender.send(chat_id, replies)
        except (TimedOut, NetworkError) as exc:
            # At least once (docs/telegram.md): a ticket number must arrive, so replies
            # Telegram did not take are kept in SQL and sent again by the replay task.
            held = self.app.get(HELD_TURNS)
            if held is None:
                raise
            log.warning("replies to chat %s not delivered (%s); kept to send again", chat_id, exc)
            await asyncio.to_thread(held.park, f"tg:{chat_id}", replies, time.time())

    async def _turn(self, message: Message, text: str, **extra: Any) -> None:
        chat_id = message.chat.id
        if not await self._admit(chat_id):
            return
        user_id = message.from_user.id if message.from_user else None
        async with self.locks.hold(chat_id):
            await self._rasa_turn(chat_id, text, await self._metadata(chat_id, user_id, **extra))

    # ---- commands ---------------------------------------------------------------

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start``: greet the resident (answered by the gateway)."""
        if update.effective_chat and await self._admit(update.effective_chat.id):
            await self._say(update.effective_chat.id, WELCOME)

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/help``: how to use the bot (answered by the gateway)."""
        if update.effective_chat and await self._admit(update.effective_chat.id):
            await self._say(update.effective_chat.id, HELP)

    async def on_status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/status``: ask Rasa for the resident's ticket status."""
        if update.effective_message:
            await self._turn(update.effective_message, intents.INQUIRE_STATUS)

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/cancel``: tell Rasa to drop the complaint in progress."""
        if update.effective_message:
            await self._turn(update.effective_message, intents.CANCEL)

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Other ``/commands`` are not passed on (Rasa would read them as intents)."""
        if update.effective_chat and await self._admit(update.effective_chat.id):
            await self._say(update.effective_chat.id, UNKNOWN_COMMAND)

    # ---- message kinds ----------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Plain text: one Rasa turn."""
        msg = update.effective_message
        if msg and msg.text is not None:
            await self._turn(msg, msg.text)

    async def on_location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A location or venue: ``/share_location{...}`` plus ``lat``/``long`` metadata."""
        msg = update.effective_message
        loc = msg.location if msg else None
        if msg is None or loc is None:
            return
        lat, long = round(loc.latitude, 6), round(loc.longitude, 6)
        extra: dict[str, Any] = {"lat": lat, "long": long}
        if msg.venue:
            extra["address"] = f"{msg.venue.title} {msg.venue.address}".strip()
        await self._turn(msg, intents.location_text(lat, long), **extra)

    async def on_contact(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A shared contact: ``/share_contact{"phone": ...}``; the number is remembered."""
        msg = update.effective_message
        if msg is None or msg.contact is None:
            return
        chat_id = msg.chat.id
        phone = intents.normalise_phone(msg.contact.phone_number)
        own = bool(msg.from_user and msg.contact.user_id == msg.from_user.id)
        log.info("chat %s shared contact %s (own=%s)", chat_id, mask_personal_data(phone), own)
        if not await self._admit(chat_id):
            return
        if own:
            _lru_put(self._phones, chat_id, phone)
            if self.state is not None:
                await asyncio.to_thread(self.state.save_phone, chat_id, phone)
        user_id = msg.from_user.id if msg.from_user else None
        meta = await self._metadata(chat_id, user_id, phone=phone, phone_verified=own)
        async with self.locks.hold(chat_id):
            await self._rasa_turn(chat_id, intents.contact_text(phone), meta)

    async def on_voice(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A voice note: download, decode, transcribe, echo, then one Rasa turn."""
        msg = update.effective_message
        if msg is None:
            return
        media = msg.voice or msg.audio
        if media is None:
            return
        chat_id = msg.chat.id
        if not await self._admit(chat_id):
            return
        async with self.locks.hold(chat_id):
            text = await self._transcribe(msg.chat, media.file_id, media.file_size, media.duration)
            if text is None:
                return
            await self._say(chat_id, VOICE_ECHO.format(text=text))
            user_id = msg.from_user.id if msg.from_user else None
            await self._rasa_turn(
                chat_id, text, await self._metadata(chat_id, user_id, input="voice")
            )

    async def _transcribe(
        self, chat: Chat, file_id: str, size: int | None, duration: Any
    ) -> str | None:
        """The transcript of a voice note, or ``None`` after telling the resident why not."""
        chat_id = chat.id
        transcriber = self._transcriber()
        if transcriber is None:
            await self._say(chat_id, VOICE_UNAVAILABLE)
            return None
        seconds = duration.total_seconds() if hasattr(duration, "total_seconds") else duration
        if seconds and seconds > self.settings.max_voice_s:
            await self._say(chat_id, VOICE_TOO_LONG.format(limit=self.settings.max_voice_s))
            return None
        done = asyncio.Event()
        typing = asyncio.create_task(self._typing(chat_id, done))
        try:
            audio = await self.store.fetch(self.sender.bot, file_id, size)
            pcm = await decode_to_pcm16k(audio, self.settings.ffmpeg, self.settings.max_voice_s)
            text = (await transcriber.transcribe(pcm)).strip()
        except AttachmentTooLarge:
            await self._say(chat_id, VOICE_TOO_LONG.format(limit=self.settings.max_voice_s))
            return None
        except ModelError as exc:  # no recogniser can be loaded here: ask for text
            log.error("voice notes unavailable: %s", exc)
            await self._say(chat_id, VOICE_UNAVAILABLE)
            return None
        except (TelegramError, VoiceDecodeError, SpeechError) as exc:
            log.warning("voice note from chat %s failed: %s", chat_id, exc, exc_info=True)
            await self._say(chat_id, VOICE_FAILED)
            return None
        finally:
            done.set()
            await typing
        if not text:
            await self._say(chat_id, VOICE_NOT_UNDERSTOOD)
            return None
        return text

    async def on_attachment(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, document or video: keep it, then ``/share_attachment{"url": ...}``."""
        msg = update.effective_message
        att = attachment_of(msg) if msg else None
        if msg is None or att is None:
            return
        chat_id = msg.chat.id
        if not await self._admit(chat_id):
            return
        user_id = msg.from_user.id if msg.from_user else None
        async with self.locks.hold(chat_id):
            try:
                entry = await self.store.save(self.sender.bot, chat_id, att)
            except AttachmentTooLarge as exc:
                log.info("chat %s sent a too large %s: %s", chat_id, att.kind, exc)
                await self._say(chat_id, FILE_TOO_LARGE.format(limit_mb=exc.limit / 2**20))
                return
            except (TelegramError, OSError) as exc:
                log.warning("attachment from chat %s failed: %s", chat_id, exc, exc_info=True)
                await self._say(chat_id, FILE_FAILED)
                return
            meta = await self._metadata(chat_id, user_id, attachments=[entry])
            await self._rasa_turn(chat_id, intents.attachment_text(entry["url"]), meta)
            if msg.caption:
                await self._rasa_turn(chat_id, msg.caption, await self._metadata(chat_id, user_id))

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An inline button: answer it, mark the keyboard used, send the payload to Rasa."""
        query = update.callback_query
        if query is None or query.message is None:
            return
        chat = query.message.chat
        if chat.type != Chat.PRIVATE:
            await query.answer()
            return
        data = query.data or ""
        key = (chat.id, query.message.message_id)
        if data == USED_MARK or await self._pressed_before(key):
            await query.answer(BUTTON_USED)
            return
        payload = await self.sender.payloads.lookup(data)
        if payload is None:
            await query.answer(BUTTON_EXPIRED, show_alert=True)
            return
        if self.throttle.check(chat.id) is not Verdict.ALLOW:
            await query.answer(THROTTLED)
            return
        _lru_put(self._used, key, None)
        if self.state is not None and not await asyncio.to_thread(self.state.mark_used, *key):
            await query.answer(BUTTON_USED)  # pressed at the same moment on another gateway
            return
        title = _button_title(query.message, data) or payload
        await query.answer(BUTTON_CHOSEN.format(title=title))
        try:
            await query.edit_message_reply_markup(reply_markup=used_keyboard(title))
        except TelegramError as exc:  # e.g. message too old to edit: not worth failing for
            log.info("could not mark keyboard in chat %s: %s", chat.id, exc)
        async with self.locks.hold(chat.id):
            user_id = query.from_user.id if query.from_user else None
            await self._rasa_turn(chat.id, payload, await self._metadata(chat.id, user_id))

    async def _pressed_before(self, key: tuple[int, int]) -> bool:
        if key in self._used:
            return True
        if self.state is not None and await asyncio.to_thread(self.state.is_used, *key):
            _lru_put(self._used, key, None)
            return True
        return False

    async def on_unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, polls, dice, video notes…: a polite explanation."""
        chat = update.effective_chat
        if chat and await self._admit(chat.id):
            await self._say(chat.id, UNSUPPORTED)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one place unhandled errors end up: log them with ``exc_info``."""
        chat = update.effective_chat if isinstance(update, Update) else None
        log.error(
            "unhandled error for chat %s",
            chat.id if chat else "?",
            exc_info=context.error,
        )
        if chat is not None and chat.type == Chat.PRIVATE:
            try:
                await self._say(chat.id, INTERNAL_ERROR)
            except TelegramError as exc:
                log.warning("could not tell chat %s about the error: %s", chat.id, exc)


def _button_title(message: Any, data: str) -> str | None:
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()):
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return None
