"""A simulated Telegram for N users: a TelegramGateway that records everything and checks limits.

Used by the proving-ground tests and by bench/load.py:

    sim = SimTelegram(clock=clock)
    doc = sim.add_document(pdf_bytes, file_name="cv.pdf")          # served by download()
    await sim.user_sends_document(user=42, doc=doc)                 # → the bot's ingress
    ...
    assert sim.answers(42) ...; report = sim.rate_report()          # limits never exceeded

Every send/edit/action is an `Action` with the clock time it reached "Telegram". The final
state of each message (after edits) is kept per (chat, message id), so "exactly one review
per user" is a question about final messages, not about how many edits it took.
Faults: `flood_wait(...)` makes the next calls raise FloodWait; `gone(chat)` makes a chat
raise RecipientGone (blocked); `fail_downloads` raises on download.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import anyio
from anyio.lowlevel import checkpoint

from resumebek.errors import ExtractionError, FloodWait, RecipientGone
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

Op = Literal["send", "edit", "edit_buttons", "document", "action", "answer"]
MESSAGE_OPS: frozenset[Op] = frozenset({"send", "edit", "edit_buttons", "document"})
# What the outbox's global window counts (every call to the send API except callback answers)
GLOBAL_OPS: frozenset[Op] = MESSAGE_OPS | {"action"}


@dataclass(frozen=True, slots=True)
class Action:
    op: Op
    at: float  # clock time the call reached the gateway
    chat: int | None
    message_id: int | None = None
    html: str = field(default="", repr=False)
    buttons: Keyboard = ()
    outcome: str = "ok"  # ok | flood_wait | blocked | ...


@dataclass(slots=True)
class Message:
    """The current state of one bot message (after any edits)."""

    chat: int
    message_id: int
    html: str = field(repr=False)
    buttons: Keyboard
    sent_at: float
    edited_at: float | None = None
    edits: int = 0

    @property
    def callback_data(self) -> tuple[str, ...]:
        return tuple(b.data for row in self.buttons for b in row if isinstance(b, CallbackButton))

    @property
    def is_review(self) -> bool:
        """A review carries the 👍/👎 rating buttons (callback data `rate:...`)."""
        return any(d.startswith("rate:") for d in self.callback_data)


@dataclass(frozen=True, slots=True)
class RateReport:
    per_chat_limit: float
    global_limit: float
    tolerance_s: float
    per_chat_violations: int  # pairs of message calls to one chat closer than 1/limit - tol
    global_violations: int  # windows with more than `global_limit` calls in 1 s - tol
    max_per_chat_in_1s: int
    max_global_in_1s: int
    max_global_messages_in_1s: int  # the same without chat actions ("typing…")
    calls: int

    @property
    def ok(self) -> bool:
        return self.per_chat_violations == 0 and self.global_violations == 0


def _max_in_window(times: Sequence[float], span: float) -> int:
    """The most events inside any half-open window [t, t + span)."""
    best, lo = 0, 0
    for hi, now in enumerate(times):
        while times[lo] <= now - span:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class SimTelegram:
    """TelegramGateway for many simulated users (user id == private chat id)."""

    def __init__(
        self,
        *,
        clock: Clock,
        per_chat_per_s: float = 1.0,
        global_per_s: float = 25.0,
    ) -> None:
        self.clock = clock
        self.per_chat_per_s = per_chat_per_s
        self.global_per_s = global_per_s
        self.actions: list[Action] = []
        self.messages: dict[tuple[int, int], Message] = {}
        self.incoming: list[Update] = []
        self.documents: dict[str, bytes] = {}
        self.downloads = 0
        self.fail_downloads = False
        self._on_update: Callable[[Update], Awaitable[None]] | None = None
        self._next_id: dict[int, int] = defaultdict(int)
        self._files = itertools.count(1)
        self._callbacks = itertools.count(1)
        self._floods: list[tuple[int | None, float]] = []  # (chat or any, retry_after)
        self._gone: dict[int, str] = {}
        self._by_chat: dict[int, list[Message]] = defaultdict(list)
        self.started = False
        self._started_event = anyio.Event()
        self.commands: Mapping[Language, Sequence[tuple[str, str]]] = {}

    # ------------------------------------------------------------ faults

    def flood_wait(self, *, retry_after: float, chat: int | None = None, times: int = 1) -> None:
        """The next `times` message calls (to `chat`, or to anyone) raise FloodWait."""
        self._floods.extend([(chat, retry_after)] * times)

    def gone(self, chat: int, kind: str = "blocked") -> None:
        """From now on every message call to `chat` raises RecipientGone(kind)."""
        self._gone[chat] = kind

    def _fault(self, op: Op, chat: int) -> None:
        kind = self._gone.get(chat)
        if kind is not None:
            self._record(op, chat, outcome=kind)
            raise RecipientGone(kind)
        for i, (target, retry_after) in enumerate(self._floods):
            if target is None or target == chat:
                del self._floods[i]
                self._record(op, chat, outcome="flood_wait")
                raise FloodWait(retry_after)

    # ------------------------------------------------------------ the user side

    def add_document(
        self, data: bytes, *, file_name: str, mime_type: str | None = None
    ) -> DocumentInfo:
        """Upload a file to "Telegram": the bot downloads it by the returned file_id."""
        n = next(self._files)
        file_id = f"sim-file-{n}"
        self.documents[file_id] = data
        return DocumentInfo(
            file_id=file_id,
            file_unique_id=f"sim-unique-{n}",
            file_name=file_name,
            mime_type=mime_type,
            size=len(data),
        )

    def _new_id(self, chat: int) -> int:
        self._next_id[chat] += 1
        return self._next_id[chat]

    async def deliver(self, update: Update) -> None:
        self.incoming.append(update)
        if self._on_update is None:
            raise RuntimeError("the bot has not started the gateway yet")
        await self._on_update(update)

    async def user_sends_document(
        self, user: int, doc: DocumentInfo, *, language_code: str | None = "ru"
    ) -> IncomingMessage:
        msg = IncomingMessage(
            chat=ChatRef(user),
            user=UserRef(user),
            chat_type="private",
            message_id=self._new_id(user),
            language_code=language_code,
            kind="document",
            document=doc,
            received_at=self.clock.now(),
        )
        await self.deliver(msg)
        return msg

    async def user_sends_text(
        self, user: int, text: str, *, language_code: str | None = "ru"
    ) -> IncomingMessage:
        command = text[1:].split()[0].lower() if text.startswith("/") and len(text) > 1 else None
        msg = IncomingMessage(
            chat=ChatRef(user),
            user=UserRef(user),
            chat_type="private",
            message_id=self._new_id(user),
            language_code=language_code,
            kind="command" if command else "text",
            text=text,
            command=command,
            received_at=self.clock.now(),
        )
        await self.deliver(msg)
        return msg

    async def user_presses(self, user: int, message_id: int, data: str) -> IncomingCallback:
        cb = IncomingCallback(
            callback_id=f"sim-cb-{next(self._callbacks)}",
            chat=ChatRef(user),
            user=UserRef(user),
            message_id=message_id,
            data=data,
            received_at=self.clock.now(),
        )
        await self.deliver(cb)
        return cb

    # ------------------------------------------------------------ TelegramGateway

    @property
    def connected(self) -> bool:
        return self.started

    async def start(self, on_update: Callable[[Update], Awaitable[None]]) -> None:
        self._on_update = on_update
        self.started = True
        self._started_event.set()

    async def wait_started(self) -> None:
        """Until the bot has connected (its telegram service called start())."""
        await self._started_event.wait()

    async def stop(self) -> None:
        self.started = False

    def _record(
        self,
        op: Op,
        chat: int | None,
        message_id: int | None = None,
        html: str = "",
        buttons: Keyboard = (),
        outcome: str = "ok",
    ) -> None:
        self.actions.append(
            Action(op, self.clock.now(), chat, message_id, html, buttons, outcome=outcome)
        )

    async def send(self, chat: ChatRef, html: str, *, buttons: Keyboard = ()) -> int:
        self._fault("send", chat)
        mid = self._new_id(chat)
        self._record("send", chat, mid, html, buttons)
        message = Message(chat, mid, html, buttons, sent_at=self.clock.now())
        self.messages[(chat, mid)] = message
        self._by_chat[chat].append(message)
        await checkpoint()
        return mid

    async def edit(
        self, chat: ChatRef, message_id: int, html: str, *, buttons: Keyboard = ()
    ) -> None:
        self._fault("edit", chat)
        self._record("edit", chat, message_id, html, buttons)
        message = self.messages.get((chat, message_id))
        if message is None:
            raise RuntimeError("edit of a message the bot never sent")
        message.html, message.buttons = html, buttons
        message.edited_at = self.clock.now()
        message.edits += 1
        await checkpoint()

    async def edit_buttons(self, chat: ChatRef, message_id: int, *, buttons: Keyboard = ()) -> None:
        self._fault("edit_buttons", chat)
        self._record("edit_buttons", chat, message_id, buttons=buttons)
        message = self.messages.get((chat, message_id))
        if message is not None:
            message.buttons = buttons
        await checkpoint()

    async def send_document(
        self, chat: ChatRef, data: bytes, *, file_name: str, caption_html: str = ""
    ) -> int:
        self._fault("document", chat)
        mid = self._new_id(chat)
        self._record("document", chat, mid, caption_html)
        message = Message(chat, mid, caption_html, (), sent_at=self.clock.now())
        self.messages[(chat, mid)] = message
        self._by_chat[chat].append(message)
        await checkpoint()
        return mid

    async def send_chat_action(self, chat: ChatRef, action: str) -> None:
        self._record("action", chat)
        await checkpoint()

    async def download(self, file_id: str, *, max_bytes: int) -> bytes:
        await checkpoint()
        self.downloads += 1
        data = self.documents.get(file_id)
        if data is None or self.fail_downloads:
            raise ExtractionError("corrupt")
        if len(data) > max_bytes:
            raise ExtractionError("too_large")
        return data

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        await checkpoint()
        self._record("answer", None, html=text or "")

    async def set_commands(self, commands: Mapping[Language, Sequence[tuple[str, str]]]) -> None:
        await checkpoint()
        self.commands = commands

    # ------------------------------------------------------------ what the users saw

    def chat_messages(self, chat: int) -> list[Message]:
        return list(self._by_chat.get(chat, ()))

    def reviews(self, chat: int) -> list[Message]:
        return [m for m in self._by_chat.get(chat, ()) if m.is_review]

    def answers(self, chat: int, *, placeholder_prefixes: Iterable[str]) -> list[Message]:
        """Messages in `chat` whose final text is not a ⏳ placeholder."""
        prefixes = tuple(placeholder_prefixes)
        return [m for m in self._by_chat.get(chat, ()) if not m.html.startswith(prefixes)]

    def chats(self) -> list[int]:
        return sorted(self._by_chat)

    def rate_report(self, *, tolerance_s: float = 0.05) -> RateReport:
        """Were the per-chat (message calls) and global (all send-API calls) limits kept?

        Calls are stamped when they reach us. The outbox stamps its windows when it
        dispatches, and a call reaches us one event-loop turn later: under load that turn
        can take tens of milliseconds, so calls exactly 1/limit apart can look up to
        `tolerance_s` closer here. `max_*_in_1s` are the strict counts with no tolerance."""
        per_chat: dict[int, list[float]] = defaultdict(list)
        every: list[float] = []
        messages: list[float] = []
        for a in self.actions:
            if a.op in GLOBAL_OPS:
                every.append(a.at)
            if a.op in MESSAGE_OPS:
                messages.append(a.at)
            if a.op in MESSAGE_OPS and a.chat is not None:
                per_chat[a.chat].append(a.at)
        gap = 1.0 / self.per_chat_per_s - tolerance_s
        chat_violations = 0
        max_chat = 0
        for times in per_chat.values():
            times.sort()
            chat_violations += sum(1 for a, b in itertools.pairwise(times) if b - a < gap)
            max_chat = max(max_chat, _max_in_window(times, 1.0))
        every.sort()
        n = round(self.global_per_s)
        span = n / self.global_per_s - tolerance_s
        global_violations = sum(1 for i in range(len(every) - n) if every[i + n] - every[i] < span)
        return RateReport(
            per_chat_limit=self.per_chat_per_s,
            global_limit=self.global_per_s,
            tolerance_s=tolerance_s,
            per_chat_violations=chat_violations,
            global_violations=global_violations,
            max_per_chat_in_1s=max_chat,
            max_global_in_1s=_max_in_window(every, 1.0),
            max_global_messages_in_1s=_max_in_window(sorted(messages), 1.0),
            calls=len(every),
        )
