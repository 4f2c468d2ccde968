"""Fakes for the Telegram side: a recording gateway that can be told to fail, and a clock
that jumps straight to the next deadline someone sleeps until (no real sleeping)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

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
