"""The extractor actor: documents and pasted text in, resume text (or a reason) out.

DocumentReceived: size check → download (bounded) → extraction and resume/language
detection in worker processes → ResumeExtracted to the analyzer, or a localized rejection
to the outbox. Pasted text is detected here (at most a Telegram message). A text that is
not a resume is kept in memory for a while under a random token, with its detection, so
the "analyze anyway" button can still send it on. Several documents are handled at once
(`concurrency`) so every worker process stays busy.

Logs carry event names, trace ids, sizes, durations and outcomes: never text or file names.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from resumebek import metrics
from resumebek.config import Settings
from resumebek.domain.cleaning import clean_text, count_words, longer_than_resume
from resumebek.domain.detection import ResumeVerdict
from resumebek.domain.events import declared_format, event, size_bucket
from resumebek.domain.rejections import (
    analyze_anyway_label,
    anyway_expired_html,
    download_failed_html,
    rejection_html,
)
from resumebek.errors import DeliveryError, ExtractionError, MailboxClosed
from resumebek.extraction_job import classify
from resumebek.messages import (
    REJECT_REASONS,
    AnalyticsEvent,
    AnalyzeAnyway,
    CallbackButton,
    ChatAction,
    DocFormat,
    DocumentReceived,
    Outgoing,
    OutKind,
    RejectReason,
    Requester,
    RequestSettled,
    ResumeExtracted,
    TextReceived,
)
from resumebek.runtime.mailbox import Address, Mailbox
from services.ports import Clock, Detection, DocumentExtractor, Extraction

log = logging.getLogger(__name__)

MIN_WORDS = 10  # the same floor services.documents applies to files
ANYWAY_TTL_S = 3600.0  # how long a not-a-resume text waits for "analyze anyway"
ANYWAY_MAX_ITEMS = 512  # bounded: the oldest kept text is dropped first
ANYWAY_MAX_CHARS = 60_000
DOWNLOAD_TIMEOUT_S = 60.0

_DOC_FORMATS: dict[str, DocFormat] = {"pdf": "pdf", "docx": "docx", "txt": "txt", "text": "text"}

Inbound = DocumentReceived | TextReceived | AnalyzeAnyway


@dataclass(frozen=True, slots=True, kw_only=True)
class _Kept:
    """A not-a-resume text waiting for "analyze anyway"."""

    user: int = field(repr=False)
    text: str = field(repr=False)
    format: DocFormat
    pages: int
    notes: tuple[str, ...]
    detection: Detection  # "analyze anyway" sends these figures on, not computed again
    received_at: float
    expires_at: float


class AnywayCache:
    """Bounded, time-limited memory of texts that may still be analyzed on request."""

    def __init__(self, *, ttl_s: float, max_items: int) -> None:
        self._ttl_s = ttl_s
        self._max_items = max_items
        self._items: OrderedDict[str, _Kept] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def put(
        self,
        *,
        now: float,
        user: int,
        text: str,
        format: DocFormat,
        pages: int,
        notes: tuple[str, ...],
        detection: Detection,
        received_at: float,
    ) -> str:
        self._expire(now)
        token = secrets.token_hex(8)  # 16 hex characters: "anyway:<token>" fits in 64 bytes
        self._items[token] = _Kept(
            user=user,
            text=text[:ANYWAY_MAX_CHARS],
            format=format,
            pages=pages,
            notes=notes,
            detection=detection,
            received_at=received_at,
            expires_at=now + self._ttl_s,
        )
        while len(self._items) > self._max_items:
            self._items.popitem(last=False)
        return token

    def take(self, token: str, *, now: float, user: int) -> _Kept | None:
        """The kept text for `token`, once; None when unknown, expired or someone else's."""
        self._expire(now)
        kept = self._items.get(token)
        if kept is None or kept.user != user:
            return None
        del self._items[token]
        return kept

    def _expire(self, now: float) -> None:
        stale = [token for token, kept in self._items.items() if kept.expires_at <= now]
        for token in stale:
            del self._items[token]


@dataclass(slots=True, kw_only=True)
class _Deps:
    to_analyzer: Address[ResumeExtracted]
    to_outbox: Address[Outgoing | ChatAction]
    to_analytics: Address[AnalyticsEvent]
    download: Callable[[str, int], Awaitable[bytes]]
    extractor: DocumentExtractor
    clock: Clock
    settings: Settings
    cache: AnywayCache
    to_ingress: Address[RequestSettled] | None = None


async def run(
    inbox: Mailbox[DocumentReceived | TextReceived | AnalyzeAnyway],
    *,
    to_analyzer: Address[ResumeExtracted],
    to_outbox: Address[Outgoing | ChatAction],
    to_analytics: Address[AnalyticsEvent],
    download: Callable[[str, int], Awaitable[bytes]],
    extractor: DocumentExtractor,
    clock: Clock,
    settings: Settings,
    concurrency: int,
    to_ingress: Address[RequestSettled] | None = None,
) -> None:
    """`to_ingress`: told how each request was decided (the daily quota lives there)."""
    deps = _Deps(
        to_ingress=to_ingress,
        to_analyzer=to_analyzer,
        to_outbox=to_outbox,
        to_analytics=to_analytics,
        download=download,
        extractor=extractor,
        clock=clock,
        settings=settings,
        cache=AnywayCache(ttl_s=ANYWAY_TTL_S, max_items=ANYWAY_MAX_ITEMS),
    )
    async with anyio.create_task_group() as tg:
        for _ in range(max(1, concurrency)):
            tg.start_soon(_worker, inbox, deps)


async def _worker(inbox: Mailbox[Inbound], deps: _Deps) -> None:
    while True:
        try:
            async with inbox.take() as msg:
                await _handle(msg, deps)
        except anyio.EndOfStream:
            return


async def _handle(msg: Inbound, deps: _Deps) -> None:
    if isinstance(msg, DocumentReceived):
        await _on_document(msg, deps)
    elif isinstance(msg, TextReceived):
        await _on_text(msg, deps)
    else:
        await _on_anyway(msg, deps)


# ------------------------------------------------------------------ documents


async def _on_document(msg: DocumentReceived, deps: _Deps) -> None:
    settings = deps.settings
    if msg.size > settings.max_file_bytes:
        _received(msg, declared_format(msg.file_name, msg.mime_type), msg.size, deps)
        await _reject(msg.trace, msg.who, "too_large", "unknown", deps)
        return
    await _typing(msg.trace, msg.who, deps)
    started = time.perf_counter()
    try:
        with anyio.fail_after(DOWNLOAD_TIMEOUT_S):
            data = await deps.download(msg.file_id, settings.max_file_bytes)
    except ExtractionError as exc:  # the gateway refused it, e.g. larger than declared
        reason = _reason(exc.reason)
        log.info("extract.download_refused trace=%s reason=%s", msg.trace, reason)
        _received(msg, declared_format(msg.file_name, msg.mime_type), msg.size, deps)
        await _reject(msg.trace, msg.who, reason, "unknown", deps)
        return
    except (DeliveryError, OSError, TimeoutError) as exc:
        log.warning("extract.download_failed trace=%s kind=%s", msg.trace, type(exc).__name__)
        await _download_failed(msg, deps, kind=type(exc).__name__)
        return
    # the worker that extracts the text also runs the detectors on it: off the event loop
    extraction = await deps.extractor.extract(
        data, name_hint=msg.file_name, mime_type=msg.mime_type, classifier=classify
    )
    log.info(
        "extract.done trace=%s format=%s outcome=%s pages=%d bytes=%d ms=%d",
        msg.trace,
        extraction.format,
        extraction.outcome,
        extraction.pages,
        len(data),
        int((time.perf_counter() - started) * 1000),
    )
    _received(msg, str(extraction.format), len(data), deps)
    if extraction.outcome != "ok":
        await _reject(msg.trace, msg.who, extraction.outcome, str(extraction.format), deps)
        return
    await _classify(
        trace=msg.trace,
        who=msg.who,
        text=extraction.text,
        format=_DOC_FORMATS.get(str(extraction.format), "txt"),
        extraction=extraction,
        received_at=msg.received_at,
        deps=deps,
    )


def _received(msg: DocumentReceived | TextReceived, format: str, size: int, deps: _Deps) -> None:
    """resume_received: sent for every document or pasted text, before any resume_rejected,
    so stats never show more rejected than received."""
    _analytics(
        deps,
        event(
            "resume_received",
            at=deps.clock.now(),
            user=msg.who.user,
            trace=msg.trace,
            format=format,
            size_bucket=size_bucket(size),
        ),
    )


async def _download_failed(msg: DocumentReceived, deps: _Deps, *, kind: str) -> None:
    lang = msg.who.ui_language
    await _answer_without_review(
        msg.trace,
        msg.who,
        deps,
        kind="error",
        html=download_failed_html(lang),
        why="download_failed",
    )


async def _answer_without_review(
    trace: str, who: Requester, deps: _Deps, *, kind: OutKind, html: str, why: str
) -> None:
    """A reply that is not a review nor a rejection: the request is settled (no quota) and
    counted as an extractor `error` event of kind `why`."""
    await deps.to_outbox.send(
        Outgoing(trace=trace, chat=who.chat, language=who.ui_language, kind=kind, html=html)
    )
    _settle(trace, who, deps, reviewed=False)
    _analytics(
        deps,
        event(
            "error",
            at=deps.clock.now(),
            user=who.user,
            trace=trace,
            actor="extractor",
            kind=why,
        ),
    )


# ------------------------------------------------------------------ pasted text


async def _on_text(msg: TextReceived, deps: _Deps) -> None:
    cleaned = clean_text(msg.text)
    _received(msg, "text", len(msg.text.encode("utf-8")), deps)
    if not any(c.isalpha() for c in cleaned.text) or count_words(cleaned.text) < MIN_WORDS:
        await _reject(msg.trace, msg.who, "too_short", "text", deps)
        return
    await _classify(
        trace=msg.trace,
        who=msg.who,
        text=cleaned.text,
        format="text",
        extraction=Extraction(outcome="ok", format="text", pages=1, notes=cleaned.notes),
        received_at=msg.received_at,
        deps=deps,
    )


# ------------------------------------------------------------------ detection


async def _classify(
    *,
    trace: str,
    who: Requester,
    text: str,
    format: DocFormat,
    extraction: Extraction,
    received_at: float,
    deps: _Deps,
) -> None:
    if longer_than_resume(text):  # documents and pasted text alike: never to the LLM
        await _reject(trace, who, "too_many_pages", format, deps)
        return
    # a document's figures come from its worker; pasted text (no worker job) is detected
    # here, as is a document from an extractor that ran no classifier
    detection = extraction.detection if extraction.detection is not None else classify(text)
    log.info(
        "extract.detected trace=%s resume_confidence=%d language=%s",
        trace,
        detection.resume_confidence,
        detection.language,
    )
    verdict = ResumeVerdict(confidence=detection.resume_confidence, signals=detection.signals)
    if verdict.is_resume(deps.settings.resume_threshold):
        _settle(trace, who, deps, reviewed=True)
        await deps.to_analyzer.send(
            _extracted(
                trace=trace,
                who=who,
                text=text,
                format=format,
                pages=extraction.pages,
                notes=extraction.notes,
                received_at=received_at,
                detection=detection,
            )
        )
        return
    token = deps.cache.put(
        now=deps.clock.now(),
        user=who.user,
        text=text,
        format=format,
        pages=extraction.pages,
        notes=extraction.notes,
        detection=detection,
        received_at=received_at,
    )
    lang = who.ui_language
    button = CallbackButton(text=analyze_anyway_label(lang), data=f"anyway:{token}")
    await _reject(trace, who, "not_resume", format, deps, buttons=((button,),))


async def _on_anyway(msg: AnalyzeAnyway, deps: _Deps) -> None:
    kept = deps.cache.take(msg.token, now=deps.clock.now(), user=msg.who.user)
    if kept is None:
        log.info("extract.anyway_expired trace=%s", msg.trace)
        await _answer_without_review(
            msg.trace,
            msg.who,
            deps,
            kind="reply",
            html=anyway_expired_html(msg.who.ui_language),
            why="anyway_expired",
        )
        return
    log.info("extract.anyway trace=%s", msg.trace)
    _settle(msg.trace, msg.who, deps, reviewed=True)
    await deps.to_analyzer.send(
        _extracted(
            trace=msg.trace,
            who=msg.who,
            text=kept.text,
            format=kept.format,
            pages=kept.pages,
            notes=kept.notes,
            received_at=deps.clock.now(),
            detection=kept.detection,
            forced=True,
        )
    )


def _extracted(
    *,
    trace: str,
    who: Requester,
    text: str,
    format: DocFormat,
    pages: int,
    notes: tuple[str, ...],
    received_at: float,
    detection: Detection,
    forced: bool = False,
) -> ResumeExtracted:
    """What the analyzer gets: the text with its detection and language figures."""
    return ResumeExtracted(
        trace=trace,
        who=who,
        text=text,
        format=format,
        pages=pages,
        language=detection.language,
        language_confidence=detection.language_confidence,
        resume_confidence=detection.resume_confidence,
        signals=detection.signals,
        quality_notes=notes,
        forced=forced,
        received_at=received_at,
    )


# ------------------------------------------------------------------ replies


async def _reject(
    trace: str,
    who: Requester,
    reason: RejectReason,
    format: str,
    deps: _Deps,
    *,
    buttons: tuple[tuple[CallbackButton, ...], ...] = (),
) -> None:
    lang = who.ui_language
    await deps.to_outbox.send(
        Outgoing(
            trace=trace,
            chat=who.chat,
            language=lang,
            kind="rejection",
            html=rejection_html(reason, lang, format=format, max_mb=deps.settings.max_file_mb),
            buttons=buttons,
        )
    )
    _settle(trace, who, deps, reviewed=False)
    metrics.REJECTIONS.labels(reason=reason).inc()
    _analytics(
        deps,
        event(
            "resume_rejected",
            at=deps.clock.now(),
            user=who.user,
            trace=trace,
            reason=reason,
            format=format,
        ),
    )
    log.info("extract.rejected trace=%s reason=%s format=%s", trace, reason, format)


def _settle(trace: str, who: Requester, deps: _Deps, *, reviewed: bool) -> None:
    """Tell ingress how this request ended: without a review it gives the daily-quota unit
    back. Never blocks (ingress may be waiting to hand us the next request); a drop only
    leaves one unit charged."""
    if deps.to_ingress is not None and not deps.to_ingress.send_nowait(
        RequestSettled(trace=trace, user=who.user, reviewed=reviewed)
    ):
        log.warning("extract.settle_dropped trace=%s", trace)


async def _typing(trace: str, who: Requester, deps: _Deps) -> None:
    try:
        await deps.to_outbox.send(ChatAction(trace=trace, chat=who.chat, action="typing"))
    except MailboxClosed:
        pass  # shutting down: the reply itself will report the closed outbox


def _analytics(deps: _Deps, ev: AnalyticsEvent) -> None:
    deps.to_analytics.send_nowait(ev)  # never blocks a user's request; drops are counted


def _reason(value: str) -> RejectReason:
    for reason in REJECT_REASONS:
        if reason == value:
            return reason
    return "corrupt"
