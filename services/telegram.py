"""TelegramGateway on pyrogram (kurigram): the only module that imports pyrogram.

The Client is built inside the running loop (in `start`), with a file session in DATA_DIR,
and started under a deadline; no `idle()` (the supervisor owns the signals). Handlers only
translate pyrogram updates into IncomingMessage / IncomingCallback and hand them to
`on_update` (the ingress mailbox). pyrogram's errors are translated here, at the boundary,
into resumebek.errors.DeliveryError subclasses.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
from pyrogram import Client, enums, filters, types
from pyrogram import errors as tg
from pyrogram.errors.rpc_error import RPCError
from pyrogram.handlers import CallbackQueryHandler, MessageHandler

from resumebek.config import Settings
from resumebek.errors import (
    BadButtonUrl,
    DeliveryError,
    ExtractionError,
    FloodWait,
    MailboxClosed,
    MessageNotModified,
    MessageTooLong,
    RecipientGone,
)
from resumebek.messages import (
    CallbackButton,
    ChatRef,
    ChatType,
    DocumentInfo,
    IncomingCallback,
    IncomingMessage,
    Keyboard,
    Language,
    Update,
    UpdateKind,
    UserRef,
)
from services.ports import Clock

log = logging.getLogger(__name__)

SESSION_NAME = "resumebek"
# pyrogram sleeps through FloodWaits up to `sleep_threshold` seconds inside invoke(), holding
# one outbox concurrency slot and hiding the wait from metrics. 0: every FloodWait reaches the
# outbox, which waits exactly `retry_after` for that one message while others keep flowing.
SLEEP_THRESHOLD_S = 0
NETWORK_RETRY_S = 2.0  # a dropped connection: try the same call again after this

_CHAT_TYPES: dict[Any, ChatType] = {
    enums.ChatType.PRIVATE: "private",
    enums.ChatType.BOT: "bot",
    enums.ChatType.GROUP: "group",
    enums.ChatType.SUPERGROUP: "supergroup",
    enums.ChatType.CHANNEL: "channel",
}


# ---------------------------------------------------------------- update translation


def translate_message(message: types.Message, *, received_at: float) -> IncomingMessage | None:
    """A pyrogram Message as an IncomingMessage; None for what ingress never handles
    (channel posts, service messages, messages from bots)."""
    user = message.from_user
    if user is None or user.is_bot or message.chat is None or message.chat.id is None:
        return None
    chat_type = _CHAT_TYPES.get(message.chat.type, "group")
    text = message.text or message.caption or ""
    kind: UpdateKind = "other"
    command: str | None = None
    args = ""
    document: DocumentInfo | None = None
    if message.document is not None:
        doc = message.document
        kind = "document"
        document = DocumentInfo(
            file_id=doc.file_id,
            file_unique_id=doc.file_unique_id,
            file_name=doc.file_name or "",
            mime_type=doc.mime_type,
            size=int(doc.file_size or 0),
        )
    elif message.photo is not None:
        kind = "photo"
    elif message.voice is not None or message.audio is not None:
        kind = "voice"
    elif message.video is not None or message.video_note is not None:
        kind = "video"
    elif message.sticker is not None or message.animation is not None:
        kind = "sticker"
    elif message.text is not None:
        stripped = message.text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, args = stripped[1:].partition(" ")
            command = head.split("@", 1)[0].lower()
            args = args.strip()
            kind = "command"
        else:
            kind = "text"
    return IncomingMessage(
        chat=ChatRef(message.chat.id),
        user=UserRef(user.id),
        chat_type=chat_type,
        message_id=message.id,
        language_code=user.language_code,
        kind=kind,
        text=text,
        command=command,
        command_args=args,
        document=document,
        received_at=received_at,
    )


def translate_callback(
    query: types.CallbackQuery, *, received_at: float
) -> IncomingCallback | None:
    """A button press as an IncomingCallback; None for presses on inline-mode messages."""
    chat = query.message.chat if query.message is not None else None
    if query.message is None or chat is None or chat.id is None or query.from_user is None:
        return None
    data = query.data
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return IncomingCallback(
        callback_id=str(query.id),
        chat=ChatRef(chat.id),
        user=UserRef(query.from_user.id),
        message_id=query.message.id,
        data=str(data or ""),
        language_code=query.from_user.language_code,
        received_at=received_at,
    )


def keyboard_markup(buttons: Keyboard) -> types.InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = [
        [
            types.InlineKeyboardButton(b.text, callback_data=b.data)
            if isinstance(b, CallbackButton)
            else types.InlineKeyboardButton(b.text, url=b.url)
            for b in row
        ]
        for row in buttons
    ]
    return types.InlineKeyboardMarkup(rows)


# ---------------------------------------------------------------- error translation


@asynccontextmanager
async def translate_errors() -> AsyncIterator[None]:
    """pyrogram/network errors → resumebek.errors (no ids or text in the messages)."""
    try:
        yield
    except (tg.FloodWait, tg.FloodPremiumWait, tg.SlowmodeWait) as exc:
        raise FloodWait(float(exc.value if isinstance(exc.value, int) else 1)) from None
    except tg.UserIsBlocked:
        raise RecipientGone("blocked") from None
    except (tg.InputUserDeactivated, tg.UserDeactivated):
        raise RecipientGone("deactivated") from None
    except tg.PeerIdInvalid:
        raise RecipientGone("peer_unknown") from None
    except (tg.MessageTooLong, tg.MediaCaptionTooLong):
        raise MessageTooLong() from None
    except tg.MessageNotModified:
        raise MessageNotModified() from None
    except tg.ButtonUrlInvalid:
        raise BadButtonUrl() from None
    except RPCError as exc:
        raise DeliveryError(type(exc).__name__) from None
    except (OSError, TimeoutError) as exc:
        # a dropped connection: the same call is worth retrying shortly (pyrogram reconnects)
        log.warning("telegram.network kind=%s", type(exc).__name__)
        raise FloodWait(NETWORK_RETRY_S) from None


async def _discard(client: Client) -> None:
    """Best-effort cleanup of a Client whose start() failed: its sqlite session must be
    closed, or the next Client on the same file meets "database is locked"."""
    with anyio.move_on_after(5, shield=True):
        try:
            await client.stop()
        except Exception:  # cleanup only: "already terminated" and the like; re-raised above
            try:
                await client.storage.close()  # type: ignore[no-untyped-call]
            except Exception:  # nothing more we can release
                log.debug("telegram.discard storage_close_failed")


# ---------------------------------------------------------------- the gateway


class PyrogramGateway:
    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, start_timeout_s: float = 30.0
    ) -> None:
        missing = settings.telegram_missing()
        if missing:
            raise ValueError("missing " + ", ".join(missing))
        self._settings = settings
        self._start_timeout_s = start_timeout_s
        self._client: Client | None = None
        self._on_update: Callable[[Update], Awaitable[None]] | None = None
        self._now: Callable[[], float] = clock.now if clock is not None else time.time

    @property
    def connected(self) -> bool:
        return self._client is not None and bool(self._client.is_connected)

    @property
    def client(self) -> Client:
        if self._client is None:
            raise DeliveryError("not started")
        return self._client

    def build_client(self) -> Client:
        """The Client, made inside the running loop (pyrogram binds the loop it sees)."""
        s = self._settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        return Client(
            SESSION_NAME,
            api_id=s.api_id,
            api_hash=s.api_hash.reveal(),
            bot_token=s.bot_token.reveal(),
            workdir=str(s.data_dir),  # the session file lives on the data volume
            sleep_threshold=SLEEP_THRESHOLD_S,
            parse_mode=enums.ParseMode.HTML,
            skip_updates=False,  # catch up after a restart; ingress drops re-deliveries
            fetch_replies=False,  # we never look at replied-to messages: save API calls
            fetch_topics=False,
            fetch_stories=False,
            fetch_stickers=False,
        )

    async def register_handlers(self, client: Client) -> None:
        client.add_handler(MessageHandler(self._handle_message, filters.incoming))
        client.add_handler(CallbackQueryHandler(self._handle_callback))
        await anyio.lowlevel.checkpoint()  # kurigram registers handlers in a task

    async def start(self, on_update: Callable[[Update], Awaitable[None]]) -> None:
        self._on_update = on_update
        client = self.build_client()
        await self.register_handlers(client)
        try:
            with anyio.fail_after(self._start_timeout_s):
                await client.start()
        except BaseException:
            await _discard(client)  # release the session file before the supervisor retries
            raise
        self._client = client
        log.info("telegram.started")

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with anyio.move_on_after(10, shield=True):
            try:
                await client.stop()
            except ConnectionError:  # "Client is already terminated"
                pass

    # ------------------------------------------------------------ handlers

    async def _handle_message(self, client: Client, message: types.Message) -> None:
        update = translate_message(message, received_at=self._now())
        if update is not None:
            await self._deliver(update)

    async def _handle_callback(self, client: Client, query: types.CallbackQuery) -> None:
        update = translate_callback(query, received_at=self._now())
        if update is not None:
            await self._deliver(update)

    async def _deliver(self, update: Update) -> None:
        if self._on_update is None:
            return
        try:
            await self._on_update(update)
        except MailboxClosed:  # shutting down: Telegram re-delivers it after the restart
            log.info("telegram.update_refused reason=shutdown")

    # ------------------------------------------------------------ outgoing

    async def send(self, chat: ChatRef, html: str, *, buttons: Keyboard = ()) -> int:
        async with translate_errors():
            sent = await self.client.send_message(
                chat,
                html,
                parse_mode=enums.ParseMode.HTML,
                link_preview_options=types.LinkPreviewOptions(is_disabled=True),
                reply_markup=keyboard_markup(buttons),
            )
        if sent is None:
            raise DeliveryError("no message returned")
        return int(sent.id)

    async def edit(
        self, chat: ChatRef, message_id: int, html: str, *, buttons: Keyboard = ()
    ) -> None:
        async with translate_errors():
            await self.client.edit_message_text(
                chat,
                message_id,
                html,
                parse_mode=enums.ParseMode.HTML,
                link_preview_options=types.LinkPreviewOptions(is_disabled=True),
                reply_markup=keyboard_markup(buttons),
            )

    async def edit_buttons(self, chat: ChatRef, message_id: int, *, buttons: Keyboard = ()) -> None:
        async with translate_errors():
            await self.client.edit_message_reply_markup(
                chat, message_id, reply_markup=keyboard_markup(buttons)
            )

    async def send_document(
        self, chat: ChatRef, data: bytes, *, file_name: str, caption_html: str = ""
    ) -> int:
        buffer = io.BytesIO(data)
        buffer.name = file_name
        async with translate_errors():
            sent = await self.client.send_document(
                chat,
                buffer,
                file_name=file_name,
                caption=caption_html,
                parse_mode=enums.ParseMode.HTML,
            )
        if sent is None:
            raise DeliveryError("no message returned")
        return int(sent.id)

    async def send_chat_action(self, chat: ChatRef, action: str) -> None:
        kind = (
            enums.ChatAction.UPLOAD_DOCUMENT
            if action == "upload_document"
            else enums.ChatAction.TYPING
        )
        async with translate_errors():
            await self.client.send_chat_action(chat, kind)

    async def download(self, file_id: str, *, max_bytes: int) -> bytes:
        """Stream into memory, stopping as soon as the size passes `max_bytes` (ingress
        already refused files whose declared size is over the limit)."""
        chunks: list[bytes] = []
        total = 0
        async with translate_errors():
            async for chunk in self.client.stream_media(file_id):
                total += len(chunk)
                if total > max_bytes:
                    raise ExtractionError("too_large")
                chunks.append(bytes(chunk))
        return b"".join(chunks)

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        async with translate_errors():
            await self.client.answer_callback_query(callback_id, text=text)

    async def set_commands(self, commands: Mapping[Language, Sequence[tuple[str, str]]]) -> None:
        """Language-scoped menus (BotCommandScopeDefault + language_code); English is also
        the default for every other client language."""
        scope = types.BotCommandScopeDefault()  # type: ignore[no-untyped-call]
        async with translate_errors():
            for lang, menu in commands.items():
                listed = [types.BotCommand(cmd, desc) for cmd, desc in menu]
                await self.client.set_bot_commands(listed, scope=scope, language_code=lang)
                if lang == "en":
                    await self.client.set_bot_commands(listed, scope=scope)
