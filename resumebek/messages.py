"""Every message that crosses a mailbox: frozen, slotted, keyword-only dataclasses.

Fields that can carry personal data (chat and user ids, names, resume text, HTML bodies)
are `repr=False`, so a stray `log.info("%r", msg)` or a traceback never leaks them. The
only id that is ever logged is `trace` (uuid4 hex), created by ingress per user request.

Flow (DESIGN.md §1):
    ingress ──DocumentReceived/TextReceived/AnalyzeAnyway──► extractor
    extractor ──ResumeExtracted──► analyzer ──ReviewReady──► outbox
    extractor/ingress/followup ──Outgoing──► outbox ──FollowUpReceipt──► followup
    outbox ──ScheduleFollowUp──► followup;  ingress ──CancelFollowUp──► followup
    every actor ──AnalyticsEvent──► analytics
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Literal, NewType

ChatRef = NewType("ChatRef", int)  # a Telegram chat id: opaque, never logged
UserRef = NewType("UserRef", int)  # a Telegram user id: opaque, never logged
Language = Literal["kk", "ru", "en"]
LANGUAGES: tuple[Language, ...] = ("kk", "ru", "en")

DocFormat = Literal["pdf", "docx", "txt", "text"]  # "text": pasted into the chat

# Why a document gets no review. Each has a localized message (domain/rejections.py).
RejectReason = Literal[
    "too_large",
    "too_many_pages",
    "unsupported_format",
    "encrypted",
    "no_text",
    "corrupt",
    "timeout",
    "too_short",
    "not_resume",
]
REJECT_REASONS: tuple[RejectReason, ...] = (
    "too_large",
    "too_many_pages",
    "unsupported_format",
    "encrypted",
    "no_text",
    "corrupt",
    "timeout",
    "too_short",
    "not_resume",
)


def new_trace() -> str:
    """A fresh trace id: the only identifier that logs carry."""
    return uuid.uuid4().hex


# ---------------------------------------------------------------- requests from users


@dataclass(frozen=True, slots=True, kw_only=True)
class Requester:
    """Who asked, and in which language to answer. Travels with every request."""

    chat: ChatRef = field(repr=False)
    user: UserRef = field(repr=False)
    ui_language: Language  # language of the bot's own texts for this user
    review_language: Language | None = None  # chosen with /language; None: the resume's
    campaign: str | None = None  # deep-link campaign recorded at /start, if any
    follow_up: bool = True  # False after /stop: the outbox schedules no reminder


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentReceived:
    """ingress → extractor: a document to download and extract (size already checked)."""

    trace: str
    who: Requester
    message_id: int = field(repr=False)
    file_id: str = field(repr=False)  # gateway-specific reference for download()
    file_name: str = field(repr=False)  # a hint only: the format is sniffed from bytes
    mime_type: str | None = None
    size: int  # bytes, as Telegram declared it
    received_at: float  # epoch seconds when the update arrived (latency measurements)


@dataclass(frozen=True, slots=True, kw_only=True)
class TextReceived:
    """ingress → extractor: resume-length text pasted into the chat."""

    trace: str
    who: Requester
    message_id: int = field(repr=False)
    text: str = field(repr=False)
    received_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyzeAnyway:
    """ingress → extractor: the user pressed "analyze anyway" under a not-a-resume reply."""

    trace: str
    who: Requester
    token: str  # opaque key of the text the extractor kept in memory


# ---------------------------------------------------------------- extraction → analysis


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeExtracted:
    """extractor → analyzer: cleaned text that is (or is accepted as) a resume."""

    trace: str
    who: Requester
    text: str = field(repr=False)
    format: DocFormat
    pages: int
    language: Language  # detected language of the resume
    language_confidence: float
    resume_confidence: int  # 0–100
    signals: tuple[str, ...] = ()  # short machine strings, no personal data
    quality_notes: tuple[str, ...] = ()  # e.g. "glued_words", "multi_column" for the LLM
    forced: bool = False  # the user chose "analyze anyway"
    received_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TextSuggestion:
    original: str
    suggested: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One rule-based finding with its evidence (no personal data in `evidence`)."""

    name: str  # e.g. "contacts", "sections", "length", "quantified", "oversharing"
    passed: bool
    detail: str = ""  # short, language-neutral machine text, e.g. "missing=experience,skills"


@dataclass(frozen=True, slots=True, kw_only=True)
class Review:
    """One review structure whatever produced it (LLM or rules)."""

    summary: str
    strengths: tuple[str, ...]  # 3–5
    improvements: tuple[str, ...]  # 3–5, each concrete and actionable
    text_suggestions: tuple[TextSuggestion, ...]
    score: int  # 1–10
    language: Language
    source: Literal["llm", "rules"]
    checks: tuple[Check, ...] = ()
    model: str | None = None
    tokens: int | None = None  # prompt + completion tokens, when the LLM answered
    latency_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewReady:
    """analyzer → outbox: deliver this review (editing the ⏳ placeholder of `trace`)."""

    trace: str
    who: Requester
    review: Review = field(repr=False)
    received_at: float


# ---------------------------------------------------------------- outbox


class Priority(IntEnum):
    USER = 0  # replies to something a user just did
    BACKGROUND = 1  # follow-ups and other unsolicited messages


@dataclass(frozen=True, slots=True, kw_only=True)
class UrlButton:
    text: str
    url: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackButton:
    text: str
    data: str  # <= 64 bytes, no personal data


Button = UrlButton | CallbackButton
Keyboard = tuple[tuple[Button, ...], ...]  # rows of buttons

OutKind = Literal["progress", "reply", "rejection", "followup", "error", "admin"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """→ outbox: one message to send. `html` is Telegram HTML where every user- and
    LLM-supplied string is already escaped; it may be longer than 4096: the outbox splits.
    With `replace_placeholder`, the ⏳ message of `trace` (if any) is edited instead."""

    trace: str
    chat: ChatRef = field(repr=False)
    language: Language
    kind: OutKind
    html: str = field(repr=False)
    buttons: Keyboard = ()
    priority: Priority = Priority.USER
    replace_placeholder: bool = True
    receipt: str | None = None  # follow-up job id: the outbox reports the outcome to followup
    document: bytes | None = field(default=None, repr=False)  # an attachment (admin report)
    document_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatAction:
    """→ outbox: show "typing…" (or another action) in a chat."""

    trace: str
    chat: ChatRef = field(repr=False)
    action: Literal["typing", "upload_document"] = "typing"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackAnswer:
    """→ outbox: acknowledge a button press; optionally drop the buttons of that message."""

    trace: str
    callback_id: str = field(repr=False)
    text: str | None = field(default=None, repr=False)
    chat: ChatRef | None = field(default=None, repr=False)
    clear_buttons_of: int | None = field(default=None, repr=False)  # message id


# ---------------------------------------------------------------- follow-ups


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleFollowUp:
    """outbox → followup: a review was delivered; (re)schedule this user's reminder."""

    trace: str
    who: Requester
    delivered_at: float  # epoch seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelFollowUp:
    """ingress → followup: /stop or /delete."""

    trace: str
    user: UserRef = field(repr=False)
    reason: Literal["stop", "delete"]


FollowUpOutcome = Literal["sent", "blocked", "deactivated", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpReceipt:
    """outbox → followup: what happened to the Outgoing whose `receipt` was `job_id`."""

    job_id: str
    outcome: FollowUpOutcome


# ---------------------------------------------------------------- analytics

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyticsEvent:
    """every actor → analytics. `user` is pseudonymized by the analytics actor (HMAC);
    `fields` hold only scalars with no personal data (validated by the writer)."""

    name: str  # one of domain/events.py EVENT_NAMES
    at: datetime  # time-zone-aware
    user: UserRef | None = field(default=None, repr=False)
    trace: str | None = None
    fields: Mapping[str, Scalar] = field(default_factory=dict)


# ---------------------------------------------------------------- Telegram updates


ChatType = Literal["private", "group", "supergroup", "channel", "bot"]
UpdateKind = Literal["text", "command", "document", "photo", "voice", "video", "sticker", "other"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentInfo:
    file_id: str = field(repr=False)
    file_unique_id: str = field(repr=False)
    file_name: str = field(repr=False)
    mime_type: str | None = None
    size: int  # declared by Telegram, checked before any download


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingMessage:
    """gateway → ingress: one user message, already translated from pyrogram/console."""

    chat: ChatRef = field(repr=False)
    user: UserRef = field(repr=False)
    chat_type: ChatType
    message_id: int = field(repr=False)
    language_code: str | None = None  # Telegram's client language, e.g. "ru", "kk", "en-US"
    kind: UpdateKind
    text: str = field(default="", repr=False)  # text or caption
    command: str | None = None  # "start", "help", ... without the slash and @botname
    command_args: str = field(default="", repr=False)  # e.g. the deep-link payload of /start
    document: DocumentInfo | None = None
    received_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingCallback:
    """gateway → ingress: an inline button press."""

    callback_id: str = field(repr=False)
    chat: ChatRef = field(repr=False)
    user: UserRef = field(repr=False)
    message_id: int = field(repr=False)
    data: str
    language_code: str | None = None
    received_at: float


Update = IncomingMessage | IncomingCallback
