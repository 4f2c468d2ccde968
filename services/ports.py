"""Ports: the capabilities actors need, as Protocols. Adapters and test fakes inherit nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from resumebek.messages import (
    ChatRef,
    Check,
    DocFormat,
    Keyboard,
    Language,
    RejectReason,
    Review,
    Update,
)


class Clock(Protocol):
    """Wall-clock time in epoch seconds; tests use a fake that never sleeps for real."""

    def now(self) -> float: ...

    async def sleep_until(self, deadline: float) -> None: ...


# ---------------------------------------------------------------- Telegram


class TelegramGateway(Protocol):
    """Everything the bot does with Telegram. Errors come out as resumebek.errors.DeliveryError."""

    @property
    def connected(self) -> bool: ...

    async def start(self, on_update: Callable[[Update], Awaitable[None]]) -> None:
        """Connect and start handing updates to `on_update` (which only enqueues)."""
        ...

    async def stop(self) -> None: ...

    async def send(self, chat: ChatRef, html: str, *, buttons: Keyboard = ()) -> int:
        """Send an HTML message; returns its message id."""
        ...

    async def edit(
        self, chat: ChatRef, message_id: int, html: str, *, buttons: Keyboard = ()
    ) -> None: ...

    async def edit_buttons(self, chat: ChatRef, message_id: int, *, buttons: Keyboard = ()) -> None:
        """Replace (or with `()` remove) the inline keyboard of a message, keeping its text."""
        ...

    async def send_document(
        self, chat: ChatRef, data: bytes, *, file_name: str, caption_html: str = ""
    ) -> int: ...

    async def send_chat_action(self, chat: ChatRef, action: str) -> None: ...

    async def download(self, file_id: str, *, max_bytes: int) -> bytes:
        """The whole file in memory; raises if it would exceed `max_bytes`."""
        ...

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None: ...

    async def set_commands(self, commands: Mapping[Language, Sequence[tuple[str, str]]]) -> None:
        """Register the command menu per language (language-scoped bot commands)."""
        ...


# ---------------------------------------------------------------- documents


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    """Resume and language figures of a text, as the domain's detectors give them.
    Plain values, so a worker process can compute them and send them back."""

    resume_confidence: int  # 0–100
    signals: tuple[str, ...] = ()  # short machine strings, no personal data
    language: Language
    language_confidence: float


# a module-level function (workers import it by name) from a text to its Detection
Classifier = Callable[[str], Detection]


@dataclass(frozen=True, slots=True, kw_only=True)
class Extraction:
    """What a worker process returns for one document. Picklable, no exceptions inside."""

    outcome: Literal["ok"] | RejectReason
    format: DocFormat | str  # sniffed: "pdf", "docx", "txt", or e.g. "doc", "rtf", "image"
    text: str = field(default="", repr=False)
    pages: int = 0
    notes: tuple[str, ...] = ()  # quality notes, e.g. "glued_words", "multi_column"
    elapsed_ms: int = 0
    detection: Detection | None = None  # set on "ok" when the caller passed a classifier


class DocumentExtractor(Protocol):
    """Turns bytes into text in killable worker processes."""

    async def extract(
        self,
        data: bytes,
        *,
        name_hint: str,
        mime_type: str | None,
        classifier: Classifier | None = None,
    ) -> Extraction:
        """`classifier` runs on an "ok" text in the same worker job (no second round trip);
        its result comes back as `Extraction.detection`."""
        ...


# ---------------------------------------------------------------- LLM


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRequest:
    text: str = field(repr=False)  # cleaned resume text, already budgeted
    language: Language  # language the review must be written in
    resume_language: Language
    findings: tuple[Check, ...] = ()  # rule-based facts to ground the LLM
    quality_notes: tuple[str, ...] = ()
    trace: str = ""
    rules_score: int | None = None  # the rubric score of `findings` (the LLM score's anchor)


class ResumeReviewer(Protocol):
    """An LLM reviewer. Raises resumebek.errors.AnalysisError when it cannot give a review."""

    async def review(self, request: ReviewRequest) -> Review: ...
