"""Fakes for the Telegram side: a recording gateway that can be told to fail, and a clock
that jumps straight to the next deadline someone sleeps until (no real sleeping)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from anyio.lowlevel import checkpoint

from resumebek.messages import ChatRef, Keyboard, Language, Update
from tests.fakes import FakeClock


@dataclass(frozen=True, slots=True)
class Call:
    op: str  # send | edit | edit_buttons | action | document | answer
    chat: int
    at: float
    html: str = ""
    buttons: Keyboard = ()
    message_id: int = 0
    text: str | None = None


class FakeTelegram:
    """Records every call. `fail[chat]` is a list of exceptions raised by the next calls to
    that chat (send/edit/document), one per call; `answers_fail` likewise for callbacks."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[Call] = []
        self.fail: dict[int, list[Exception]] = defaultdict(list)
        self.files: dict[str, bytes] = {}
        self._next_id: dict[int, int] = defaultdict(lambda: 100)
        self.started = False
        self.commands: Mapping[Language, Sequence[tuple[str, str]]] = {}

    @property
    def connected(self) -> bool:
        return self.started

    async def start(self, on_update: Callable[[Update], Awaitable[None]]) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def _maybe_fail(self, chat: int) -> None:
        if self.fail.get(chat):
            raise self.fail[chat].pop(0)

    async def send(self, chat: ChatRef, html: str, *, buttons: Keyboard = ()) -> int:
        await checkpoint()
        self.calls.append(Call("send", chat, self.clock.now(), html, buttons))
        self._maybe_fail(chat)
        self._next_id[chat] += 1
        mid = self._next_id[chat]
        self.calls[-1] = Call("send", chat, self.clock.now(), html, buttons, mid)
        return mid

    async def edit(
        self, chat: ChatRef, message_id: int, html: str, *, buttons: Keyboard = ()
    ) -> None:
        await checkpoint()
        self.calls.append(Call("edit", chat, self.clock.now(), html, buttons, message_id))
        self._maybe_fail(chat)

    async def edit_buttons(self, chat: ChatRef, message_id: int, *, buttons: Keyboard = ()) -> None:
        await checkpoint()
        self.calls.append(Call("edit_buttons", chat, self.clock.now(), "", buttons, message_id))
        self._maybe_fail(chat)

    async def send_document(
        self, chat: ChatRef, data: bytes, *, file_name: str, caption_html: str = ""
    ) -> int:
        await checkpoint()
        self.calls.append(Call("document", chat, self.clock.now(), caption_html))
        self._maybe_fail(chat)
        self._next_id[chat] += 1
        return self._next_id[chat]

    async def send_chat_action(self, chat: ChatRef, action: str) -> None:
        await checkpoint()
        self.calls.append(Call("action", chat, self.clock.now(), text=action))

    async def download(self, file_id: str, *, max_bytes: int) -> bytes:
        await checkpoint()
        data = self.files[file_id]
        if len(data) > max_bytes:
            raise ValueError("too large")
        return data

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        await checkpoint()
        self.calls.append(Call("answer", 0, self.clock.now(), text=text))

    async def set_commands(self, commands: Mapping[Language, Sequence[tuple[str, str]]]) -> None:
        self.commands = commands

    def of(self, op: str) -> list[Call]:
        return [c for c in self.calls if c.op == op]


class JumpClock(FakeClock):
    """A FakeClock that remembers the deadlines being waited for, so a driver can jump
    straight to the earliest one once every task is blocked."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        super().__init__(start)
        self.deadlines: list[float] = []

    async def sleep_until(self, deadline: float) -> None:
        self.deadlines.append(deadline)
        try:
            await super().sleep_until(deadline)
        finally:
            self.deadlines.remove(deadline)

    def jump(self) -> bool:
        """Advance to the earliest pending deadline; False when nobody waits for time."""
        future = [d for d in self.deadlines if d > self.now()]
        if not future:
            return False
        self.advance(min(future) - self.now())
        return True


async def drive(clock: JumpClock, done: Callable[[], bool], *, max_steps: int = 100_000) -> None:
    """Let tasks run; whenever all are blocked, jump the clock; until `done()`."""
    for _ in range(max_steps):
        await anyio.wait_all_tasks_blocked()
        if done():
            return
        if not clock.jump():
            raise AssertionError("stuck: nothing runs and nobody waits for time")
    raise AssertionError("too many steps")


# ---------------------------------------------------------------- hand-built pyrogram objects


def pyrogram_message(data: dict[str, Any], client: Any = None) -> Any:
    """A pyrogram types.Message from a ../shared/cases tg_*.json message (or a dict like it)."""
    from pyrogram import enums, types

    chat_types = {"private": enums.ChatType.PRIVATE, "group": enums.ChatType.GROUP,
                  "supergroup": enums.ChatType.SUPERGROUP, "channel": enums.ChatType.CHANNEL}  # fmt: skip
    sender = data.get("from_user")
    user = (
        types.User(
            id=sender["id"],
            is_bot=sender.get("is_bot", False),
            first_name=sender.get("first_name", "Test"),
            language_code=sender.get("language_code"),
        )
        if sender
        else None
    )
    chat = types.Chat(id=data["chat"]["id"], type=chat_types[data["chat"]["type"]])
    date = datetime.fromisoformat(data.get("date", "2025-03-01T12:00:00+05:00"))
    fields: dict[str, Any] = {}
    if "document" in data:
        d = data["document"]
        fields["document"] = types.Document(
            file_id=d["file_id"],
            file_unique_id=d["file_unique_id"],
            file_name=d.get("file_name"),
            mime_type=d.get("mime_type"),
            file_size=d.get("file_size"),
        )
    if "photo" in data:
        p = data["photo"]
        fields["photo"] = types.Photo(
            file_id=p["file_id"],
            file_unique_id=p.get("file_unique_id", "P1"),
            width=p["width"],
            height=p["height"],
            file_size=p["file_size"],
            date=date,
        )
    if "voice" in data:
        fields["voice"] = types.Voice(file_id="V", file_unique_id="V1", duration=3)
    if "sticker" in data:
        fields["sticker"] = types.Sticker(
            file_id="S", file_unique_id="S1", type=enums.StickerType.REGULAR,
            width=512, height=512, is_animated=False, is_video=False,
        )  # fmt: skip
    return types.Message(
        id=data["id"],
        from_user=user,
        chat=chat,
        date=date,
        text=data.get("text"),
        caption=data.get("caption"),
        client=client,
        **fields,
    )


def pyrogram_callback(
    data: str, *, user_id: int = 42, message_id: int = 9, lang: str = "ru"
) -> Any:
    from pyrogram import enums, types

    user = types.User(id=user_id, is_bot=False, first_name="A", language_code=lang)
    chat = types.Chat(id=user_id, type=enums.ChatType.PRIVATE)
    message = types.Message(id=message_id, chat=chat, date=datetime.now(UTC))
    return types.CallbackQuery(id="cbq-1", from_user=user, message=message, data=data)
