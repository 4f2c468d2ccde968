"""TelegramGateway on a console, for `resumebek chat`: the whole bot without Telegram.

Input lines become updates (`feed`): `/send PATH` a document, `/paste PATH` the file's text
as a message, `/as N` switch to user N, `/press DATA` press an inline button (DATA, or the
button's text), any other `/...` a command, anything else a text message.
Every outgoing action is printed: readable blocks by default, or with `jsonl=True` one JSON
object per action with keys action, chat_id, message_id, text (plain), html, buttons, ts.
"""

from __future__ import annotations

import codecs
import mimetypes
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import anyio
import anyio.from_thread
import anyio.lowlevel
import orjson

from resumebek.domain.telegram_html import strip_tags
from resumebek.errors import ExtractionError
from resumebek.messages import (
    CallbackButton,
    ChatRef,
    DocumentInfo,
    IncomingCallback,
    IncomingMessage,
    Keyboard,
    Language,
    Update,
    UserRef,
)
from services.ports import Clock


class LineReader:
    """Lines from a file descriptor (stdin), read by a daemon thread of its own.

    A read blocked on a terminal or an open pipe cannot be interrupted; in an ordinary
    worker thread it keeps the interpreter alive after the event loop is done (the process
    would outlive SIGTERM until stdin closes). A daemon thread does not, and it reads the
    raw descriptor so no buffered-file lock is held while the interpreter exits."""

    def __init__(self, fd: int, *, encoding: str = "utf-8") -> None:
        self._fd = fd
        self._encoding = encoding
        self._send, self._receive = anyio.create_memory_object_stream[str](max_buffer_size=16)
        self._thread: threading.Thread | None = None

    async def readline(self) -> str:
        """The next line with its newline; "" at end of input."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._pump,
                args=(anyio.lowlevel.current_token(),),
                name="resumebek stdin",
                daemon=True,
            )
            self._thread.start()
        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            return ""

    def _pump(self, token: anyio.lowlevel.EventLoopToken) -> None:
        decoder = codecs.getincrementaldecoder(self._encoding)(errors="replace")
        pending = ""
        try:
            while True:
                chunk = os.read(self._fd, 65536)
                pending += decoder.decode(chunk, final=not chunk)
                *lines, pending = pending.split("\n")
                for line in lines:
                    anyio.from_thread.run(self._send.send, line + "\n", token=token)
                if not chunk:
                    if pending:
                        anyio.from_thread.run(self._send.send, pending, token=token)
                    break
        except (OSError, RuntimeError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # stdin unreadable, or the loop is gone: nobody is listening any more
        try:
            anyio.from_thread.run_sync(self._send.close, token=token)
        except RuntimeError:
            pass  # the event loop has already finished


@dataclass(slots=True)
class _Sent:
    html: str
    buttons: Keyboard


def _flat_buttons(buttons: Keyboard) -> list[dict[str, str]]:
    return [
        {"text": b.text, "data": b.data}
        if isinstance(b, CallbackButton)
        else {"text": b.text, "url": b.url}
        for row in buttons
        for b in row
    ]


class ConsoleGateway:
    def __init__(
        self,
        *,
        clock: Clock,
        out: TextIO | None = None,
        notes: TextIO | None = None,
        jsonl: bool = False,
        user_id: int = 1000,
        language_code: Language | None = None,
    ) -> None:
        self._clock = clock
        self._out = out or sys.stdout
        self._notes = notes or sys.stderr  # remarks for the person at the console
        self._jsonl = jsonl
        self.user_id = user_id
        self.language_code = language_code
        self._on_update: Callable[[Update], Awaitable[None]] | None = None
        # Message ids go on from where an earlier session left off, as a chat's do on
        # Telegram: the bot remembers (chat, message id) pairs across runs to drop
        # redelivered updates, so ids from 1 again would be dropped as seen.
        self._first_id = int(clock.now() * 1000)
        self._next_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], _Sent] = {}
        self._callbacks = 0
        self._started = False
        self.actions = 0  # printed so far

    # ------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        return self._started

    async def start(self, on_update: Callable[[Update], Awaitable[None]]) -> None:
        self._on_update = on_update
        self._started = True

    async def stop(self) -> None:
        self._started = False

    # ------------------------------------------------------------ input

    def _message_id(self, chat: int) -> int:
        self._next_id[chat] = self._next_id.get(chat, self._first_id) + 1
        return self._next_id[chat]

    def parse(self, line: str) -> Update | None:
        """One console line as an update (None: handled here, e.g. `/as N`)."""
        line = line.rstrip("\r\n")
        if not line.strip():
            return None
        user, chat = UserRef(self.user_id), ChatRef(self.user_id)
        now = self._clock.now()
        common: dict[str, Any] = {
            "chat": chat,
            "user": user,
            "chat_type": "private",
            "language_code": self.language_code,
            "received_at": now,
        }
        word, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if word == "/as":
            try:
                self.user_id = int(rest)
            except ValueError:
                self._note("usage: /as USER_ID")
            else:
                self._note("switched to that user")
            return None
        if word == "/send" and rest:
            path = Path(rest).expanduser()
            try:
                size = path.stat().st_size
            except OSError:
                self._note("/send: cannot read that file")
                return None
            mime, _ = mimetypes.guess_type(path.name)
            doc = DocumentInfo(
                file_id=str(path.resolve()),
                file_unique_id=f"{path.stat().st_ino}-{size}",
                file_name=path.name,
                mime_type=mime,
                size=size,
            )
            return IncomingMessage(
                message_id=self._message_id(chat), kind="document", document=doc, **common
            )
        if word == "/paste" and rest:
            try:
                text = Path(rest).expanduser().read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._note("/paste: cannot read that file")
                return None
            return IncomingMessage(
                message_id=self._message_id(chat), kind="text", text=text, **common
            )
        if word == "/press" and rest:
            return self._press(rest, chat, user, now)
        if word.startswith("/") and len(word) > 1:
            return IncomingMessage(
                message_id=self._message_id(chat),
                kind="command",
                text=line,
                command=word[1:].split("@", 1)[0].lower(),
                command_args=rest,
                **common,
            )
        return IncomingMessage(message_id=self._message_id(chat), kind="text", text=line, **common)

    def _press(self, wanted: str, chat: ChatRef, user: UserRef, now: float) -> Update | None:
        """The newest message in this chat with a button whose data (or text) is `wanted`;
        `anyway` also matches `anyway:<token>`, `rate:up` matches `rate:up:llm:kk`."""
        for (c, mid), sent in sorted(self._messages.items(), key=lambda kv: -kv[0][1]):
            if c != chat:
                continue
            for row in sent.buttons:
                for b in row:
                    if isinstance(b, CallbackButton) and (
                        wanted in (b.data, b.text) or b.data.startswith(wanted + ":")
                    ):
                        self._callbacks += 1
                        return IncomingCallback(
                            callback_id=f"console-{self._callbacks}",
                            chat=chat,
                            user=user,
                            message_id=mid,
                            data=b.data,
                            language_code=self.language_code,
                            received_at=now,
                        )
        self._note(f"no button {wanted!r} in this chat")
        return None

    async def feed(self, line: str) -> None:
        update = self.parse(line)
        if update is not None and self._on_update is not None:
            await self._on_update(update)

    # ------------------------------------------------------------ output

    def _note(self, text: str) -> None:
        print(text, file=self._notes, flush=True)

    def _emit(
        self,
        action: str,
        chat: int | None,
        message_id: int | None,
        html: str = "",
        buttons: Keyboard = (),
        **extra: Any,
    ) -> None:
        self.actions += 1
        text = strip_tags(html).strip()
        if self._jsonl:
            record: dict[str, Any] = {
                "action": action,
                "chat_id": chat,
                "message_id": message_id,
                "text": text,
                "html": html,
                "buttons": _flat_buttons(buttons),
                "ts": self._clock.now(),
            }
            record.update(extra)
            self._out.write(orjson.dumps(record).decode() + "\n")
        else:
            if action == "chat_action":
                self._out.write(f"── ({extra.get('chat_action', 'typing')}…)\n\n")
                self._out.flush()
                return
            head = f"── {action}"
            if message_id is not None:  # counted from this session's start, for reading
                head += f" #{message_id - self._first_id}"
            extras = " ".join(f"{k}={v}" for k, v in extra.items())
            lines = [f"{head} {extras}".rstrip()]
            if text:
                lines.append(text)
            for b in _flat_buttons(buttons):
                lines.append(f"[{b['text']} → {b.get('url') or '/press ' + b['data']}]")
            self._out.write("\n".join(lines) + "\n\n")
        self._out.flush()

    async def send(self, chat: ChatRef, html: str, *, buttons: Keyboard = ()) -> int:
        mid = self._message_id(chat)
        self._messages[(chat, mid)] = _Sent(html, buttons)
        self._emit("send", chat, mid, html, buttons)
        await anyio.lowlevel.checkpoint()
        return mid

    async def edit(
        self, chat: ChatRef, message_id: int, html: str, *, buttons: Keyboard = ()
    ) -> None:
        self._messages[(chat, message_id)] = _Sent(html, buttons)
        self._emit("edit", chat, message_id, html, buttons)
        await anyio.lowlevel.checkpoint()

    async def edit_buttons(self, chat: ChatRef, message_id: int, *, buttons: Keyboard = ()) -> None:
        sent = self._messages.get((chat, message_id), _Sent("", ()))
        self._messages[(chat, message_id)] = _Sent(sent.html, buttons)
        self._emit("edit", chat, message_id, sent.html, buttons)
        await anyio.lowlevel.checkpoint()

    async def send_document(
        self, chat: ChatRef, data: bytes, *, file_name: str, caption_html: str = ""
    ) -> int:
        mid = self._message_id(chat)
        self._emit("send_document", chat, mid, caption_html, file_name=file_name, size=len(data))
        await anyio.lowlevel.checkpoint()
        return mid

    async def send_chat_action(self, chat: ChatRef, action: str) -> None:
        self._emit("chat_action", chat, None, chat_action=action)
        await anyio.lowlevel.checkpoint()

    async def download(self, file_id: str, *, max_bytes: int) -> bytes:
        """`file_id` is a local path here; the limit is checked before reading."""

        def read() -> bytes:
            if os.path.getsize(file_id) > max_bytes:
                raise ExtractionError("too_large")
            with open(file_id, "rb") as f:
                data = f.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise ExtractionError("too_large")
            return data

        return await anyio.to_thread.run_sync(read)

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        self._emit("answer_callback", None, None, text or "")
        await anyio.lowlevel.checkpoint()

    async def set_commands(self, commands: Mapping[Language, Sequence[tuple[str, str]]]) -> None:
        await anyio.lowlevel.checkpoint()  # a console has no menu
