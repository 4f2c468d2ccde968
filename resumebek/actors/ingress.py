"""Ingress actor: every Telegram update enters here.

Consumes IncomingMessage / IncomingCallback (translated by a gateway). Answers commands,
checks private chat, duplicates, file size and the daily quota, then hands documents and
resume-length text to the extractor (with a ⏳ placeholder for the outbox), cancellations
to followup and clicks to analytics. Remembers preferences in an IngressStore. The quota is
charged when a request is accepted and given back when the extractor reports it ended
without a review (RequestSettled), so only reviews use up USER_DAILY_LIMIT. A request over
the limit while earlier ones of that user are still undecided is held until they are.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import anyio

from resumebek.config import Settings
from resumebek.domain.cleaning import count_words
from resumebek.domain.detection import detect_resume
from resumebek.domain.events import declared_format, event, size_bucket
from resumebek.domain.photo_offer import clean_campaign
from resumebek.domain.texts import LANGUAGE_NAMES, pick_language, t
from resumebek.errors import os_error_kind
from resumebek.messages import (
    LANGUAGES,
    AnalyticsEvent,
    AnalyzeAnyway,
    CallbackAnswer,
    CallbackButton,
    CancelFollowUp,
    ChatAction,
    DocumentReceived,
    IncomingCallback,
    IncomingMessage,
    Keyboard,
    Language,
    Outgoing,
    OutKind,
    Requester,
    RequestSettled,
    Scalar,
    TextReceived,
    Update,
    new_trace,
)
from resumebek.runtime.mailbox import Address, Mailbox
from services.ingress_store import FILE_NAME, IngressStore
from services.ports import Clock

log = logging.getLogger(__name__)

# Pasted text goes on to the extractor (which says "not a resume" or reviews it) when it
# could be a resume: a 3-line student resume has ~30 words, a greeting or a question far
# fewer. Shorter text gets a hint and costs no quota.
RESUME_MIN_WORDS = 15
RESUME_MIN_WORDS_MULTILINE = 8  # several lines of a few words each: a tiny resume


def looks_like_resume_text(text: str) -> bool:
    words = count_words(text)
    lines = sum(1 for line in text.splitlines() if line.strip())
    return words >= RESUME_MIN_WORDS or (lines >= 3 and words >= RESUME_MIN_WORDS_MULTILINE)


_YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|20[0-4]\d)(?!\d)")


def looks_like_resume_attempt(text: str) -> bool:
    """A short text with something of a resume in it (a section word, contacts, a title,
    a year): it is told "too short". A greeting, a question or an emoji is not: it gets
    the hint on how to send a resume."""
    if _YEAR.search(text):
        return True
    signals = detect_resume(text).signals
    return any(not s.startswith("not:") and s != "compact" for s in signals)


# Rejected requests given back per user and day. Beyond it a rejected upload counts like
# a review, so a script sending junk still stops at USER_DAILY_LIMIT + this many.
MAX_REFUNDS_PER_DAY = 30
MAX_HELD_PER_USER = 20  # over-limit requests waiting for earlier ones to be decided
UNDECIDED_TTL_S = 600.0  # a request never reported on (a dropped message) stops holding others


@dataclass(slots=True)
class _Held:
    """A request over the daily limit, waiting for the user's undecided ones."""

    who: Requester
    trace: str
    proceed: Callable[[], Awaitable[None]]


@dataclass(slots=True)
class QuotaWaits:
    """Memory only, kept by the composition root across restarts of the actor (like the
    store): charged requests not yet reported on, and the requests held behind them."""

    undecided: dict[int, dict[str, float]] = field(default_factory=dict)  # user → trace → at
    held: dict[int, deque[_Held]] = field(default_factory=dict)
    save_failing: bool = False  # the state file is not being written: said once per outage


AdminSummary = Callable[[Settings, float, Language], tuple[str, bytes]]


class _Ingress:
    def __init__(
        self,
        *,
        to_extractor: Address[DocumentReceived | TextReceived | AnalyzeAnyway],
        to_outbox: Address[Outgoing | ChatAction | CallbackAnswer],
        to_followup: Address[CancelFollowUp],
        to_analytics: Address[AnalyticsEvent],
        clock: Clock,
        settings: Settings,
        queue_depth: Callable[[], int],
        queue_note_after: int,
        store: IngressStore,
        admin_summary: AdminSummary | None,
        waits: QuotaWaits,
    ) -> None:
        self.to_extractor = to_extractor
        self.to_outbox = to_outbox
        self.to_followup = to_followup
        self.to_analytics = to_analytics
        self.clock = clock
        self.settings = settings
        self.queue_depth = queue_depth
        self.queue_note_after = queue_note_after
        self.store = store
        self.admin_summary = admin_summary
        self.waits = waits
        self.undecided = waits.undecided
        self.held = waits.held

    # ------------------------------------------------------------ helpers

    def requester(self, update: Update) -> Requester:
        prefs = self.store.prefs(update.user)
        ui = prefs.language or pick_language(update.language_code, self.settings.default_language)
        return Requester(
            chat=update.chat,
            user=update.user,
            ui_language=ui,
            review_language=prefs.language,
            campaign=prefs.campaign,
            follow_up=prefs.follow_up,
        )

    async def reply(
        self,
        who: Requester,
        trace: str,
        html: str,
        *,
        buttons: Keyboard = (),
        kind: OutKind = "reply",
        document: bytes | None = None,
        document_name: str | None = None,
    ) -> None:
        await self.to_outbox.send(
            Outgoing(
                trace=trace,
                chat=who.chat,
                language=who.ui_language,
                kind=kind,
                html=html,
                buttons=buttons,
                replace_placeholder=False,
                document=document,
                document_name=document_name,
            )
        )

    def analytics(self, name: str, who: Requester, trace: str | None, **fields: Scalar) -> None:
        self.to_analytics.send_nowait(
            event(name, at=self.clock.now(), user=who.user, trace=trace, **fields)
        )

    async def save(self) -> None:
        """Persist before acting on a request, so a re-delivered update is recognized.

        A disk that refuses (full, read-only) must not stop the bot: the state stays dirty
        and goes with the next change; meanwhile only dedup across a restart is weaker. The
        outage is logged when it starts and when it ends, and counted in analytics."""
        if not self.store.dirty:
            return
        self.store.dirty = False
        snapshot = self.store.snapshot()
        try:
            await anyio.to_thread.run_sync(self.store.save, snapshot)
        except OSError as exc:
            self.store.dirty = True
            if not self.waits.save_failing:
                self.waits.save_failing = True
                log.error("ingress.state_write_failed kind=%s", os_error_kind(exc))
                self.to_analytics.send_nowait(
                    event("error", at=self.clock.now(), actor="ingress", kind="state_write")
                )
            return
        if self.waits.save_failing:
            self.waits.save_failing = False
            log.warning("ingress.state_write_recovered")

    def today(self) -> str:
        return datetime.fromtimestamp(self.clock.now(), self.settings.zone).date().isoformat()

    def is_admin(self, who: Requester) -> bool:
        return int(who.chat) in self.settings.admin_chat_ids

    # ------------------------------------------------------------ messages

    async def on_message(self, msg: IncomingMessage) -> None:
        if msg.chat_type != "private":
            if msg.kind == "command" and msg.command == "start":
                lang = pick_language(msg.language_code, self.settings.default_language)
                who = Requester(chat=msg.chat, user=msg.user, ui_language=lang)
                await self.reply(who, new_trace(), t("private_only", lang))
            return  # groups and channels are not served
        if not self.store.first_time(msg.chat, msg.message_id):
            log.info("ingress.duplicate kind=%s", msg.kind)
            return
        try:
            await self.on_first_delivery(msg)
        except Exception:
            # The actor crashes and the supervisor redelivers this update to the next
            # incarnation, which shares this store: it must not be taken for Telegram's
            # re-delivery and dropped, or the user never gets an answer.
            self.store.unsee(msg.chat, msg.message_id)
            raise
        await self.save()

    async def on_first_delivery(self, msg: IncomingMessage) -> None:
        who = self.requester(msg)
        trace = new_trace()
        if msg.kind == "command":
            await self.on_command(msg, who, trace)
        elif msg.kind == "document" and msg.document is not None:
            await self.on_document(msg, who, trace)
        elif msg.kind == "text":
            if looks_like_resume_text(msg.text):
                await self.on_resume_text(msg, who, trace)
            elif looks_like_resume_attempt(msg.text):
                await self.reply(who, trace, t("short_text_hint", who.ui_language))
            else:  # "hi", "please check my resume", 👍: say how to send one
                await self.reply(who, trace, t("send_resume_hint", who.ui_language))
        else:  # photo, voice, video, sticker, anything else
            await self.reply(who, trace, t("send_document", who.ui_language))

    async def on_document(self, msg: IncomingMessage, who: Requester, trace: str) -> None:
        doc = msg.document
        assert doc is not None
        lang = who.ui_language
        if doc.size > self.settings.max_file_bytes:  # declared size: nothing downloaded
            size_mb = f"{doc.size / 1024 / 1024:.0f}"
            max_mb = f"{self.settings.max_file_mb:g}"
            await self.reply(who, trace, t("too_large", lang, size_mb=size_mb, max_mb=max_mb))
            # a rejected upload was still received: stats count both, as for the extractor's
            fmt = declared_format(doc.file_name, doc.mime_type)
            bucket = size_bucket(doc.size)
            self.analytics("resume_received", who, trace, format=fmt, size_bucket=bucket)
            self.analytics("resume_rejected", who, trace, reason="too_large", format=fmt)
            return
        request = DocumentReceived(
            trace=trace,
            who=who,
            message_id=msg.message_id,
            file_id=doc.file_id,
            file_name=doc.file_name,
            mime_type=doc.mime_type,
            size=doc.size,
            received_at=msg.received_at,
        )
        await self.admit(who, trace, lambda: self.forward(request))

    async def on_resume_text(self, msg: IncomingMessage, who: Requester, trace: str) -> None:
        request = TextReceived(
            trace=trace,
            who=who,
            message_id=msg.message_id,
            text=msg.text,
            received_at=msg.received_at,
        )
        await self.admit(who, trace, lambda: self.forward(request))

    async def forward(self, request: DocumentReceived | TextReceived | AnalyzeAnyway) -> None:
        await self.accepted(request.who, request.trace)
        await self.to_extractor.send(request)

    # ------------------------------------------------------------ the daily quota

    async def admit(
        self, who: Requester, trace: str, proceed: Callable[[], Awaitable[None]]
    ) -> Literal["proceeded", "held", "refused"]:
        """Charge one review and proceed; over the limit, hold the request while earlier
        ones of this user are undecided (they may be refunded), else refuse it."""
        if self.is_admin(who):
            await proceed()
            return "proceeded"
        if who.user in self.held:
            await self.release(who.user)  # the undecided ones may have been forgotten
        held = self.held.get(who.user)
        if held is not None:  # keep the order: behind the requests already waiting
            if len(held) >= MAX_HELD_PER_USER:
                await self.quota_reached(who, trace)
                return "refused"
            held.append(_Held(who=who, trace=trace, proceed=proceed))
            return "held"
        if self.charge(who, trace):
            await self.save()
            await proceed()
            return "proceeded"
        if self.waiting_on(who.user):
            self.held[who.user] = deque([_Held(who=who, trace=trace, proceed=proceed)])
            log.info("ingress.held trace=%s", trace)
            return "held"
        await self.quota_reached(who, trace)
        return "refused"

    def charge(self, who: Requester, trace: str) -> bool:
        if not self.store.take_quota(who.user, self.today(), self.settings.user_daily_limit):
            return False
        self.undecided.setdefault(who.user, {})[trace] = self.clock.now()
        return True

    def waiting_on(self, user: int) -> bool:
        """True while a charged request of `user` is undecided (and not forgotten)."""
        pending = self.undecided.get(user)
        if not pending:
            return False
        oldest_alive = self.clock.now() - UNDECIDED_TTL_S
        for trace in [key for key, at in pending.items() if at < oldest_alive]:
            del pending[trace]
        if not pending:
            del self.undecided[user]
        return bool(pending)

    async def quota_reached(self, who: Requester, trace: str) -> None:
        limit = self.settings.user_daily_limit
        await self.reply(who, trace, t("quota_reached", who.ui_language, limit=limit))
        self.analytics("quota_hit", who, trace)

    async def on_settled(self, msg: RequestSettled) -> None:
        pending = self.undecided.get(msg.user)
        if pending is not None:
            pending.pop(msg.trace, None)
        given = False
        if not msg.reviewed:
            given = self.store.refund_quota(msg.user, self.today(), MAX_REFUNDS_PER_DAY)
        log.info("ingress.settled trace=%s reviewed=%s refunded=%s", msg.trace, msg.reviewed, given)
        await self.save()
        await self.release(msg.user)

    async def release(self, user: int) -> None:
        """Held requests of `user`, in order: proceed while the quota allows, wait while
        earlier requests are undecided, and refuse the rest once none is."""
        held = self.held.get(user)
        while held:
            first = held[0]
            if self.charge(first.who, first.trace):
                held.popleft()
                await self.save()
                await first.proceed()
            elif self.waiting_on(user):
                return
            else:
                held.popleft()
                await self.quota_reached(first.who, first.trace)
        self.held.pop(user, None)

    async def accepted(self, who: Requester, trace: str) -> None:
        """Typing… and the ⏳ placeholder the review is later edited into. Sent before the
        request goes on, so the outbox always has the placeholder first."""
        html = t("analyzing", who.ui_language)
        depth = self.queue_depth()
        if depth >= self.queue_note_after:
            html += "\n" + t("queue_position", who.ui_language, n=depth + 1)
        await self.to_outbox.send(ChatAction(trace=trace, chat=who.chat))
        await self.to_outbox.send(
            Outgoing(
                trace=trace,
                chat=who.chat,
                language=who.ui_language,
                kind="progress",
                html=html,
                replace_placeholder=False,
            )
        )

    # ------------------------------------------------------------ commands

    async def on_command(self, msg: IncomingMessage, who: Requester, trace: str) -> None:
        lang = who.ui_language
        command = (msg.command or "").lower()
        if command == "start":
            campaign = clean_campaign(msg.command_args) if msg.command_args else None
            if campaign is not None:
                self.store.set_campaign(who.user, campaign)
            recorded = self.store.prefs(who.user).campaign
            self.analytics("user_started", who, trace, campaign=campaign or recorded)
            html = t("welcome", lang) + "\n\n" + t("privacy_summary", lang)
            await self.reply(who, trace, html)
        elif command == "help":
            limit = self.settings.user_daily_limit
            max_mb = f"{self.settings.max_file_mb:g}"
            await self.reply(who, trace, t("help", lang, max_mb=max_mb, limit=limit))
        elif command == "language":
            row = tuple(
                CallbackButton(text=LANGUAGE_NAMES[code], data=f"lang:{code}") for code in LANGUAGES
            )
            await self.reply(who, trace, t("language_prompt", lang), buttons=(row,))
        elif command == "privacy":
            days = self.settings.analytics_retention_days
            await self.reply(who, trace, t("privacy", lang, days=days))
        elif command == "delete":
            self.store.forget(who.user, who.chat)
            await self.to_followup.send(CancelFollowUp(trace=trace, user=who.user, reason="delete"))
            self.analytics("data_deleted", who, trace)
            await self.reply(who, trace, t("delete_done", lang))
        elif command == "stop":
            self.store.set_follow_up(who.user, False)
            await self.to_followup.send(CancelFollowUp(trace=trace, user=who.user, reason="stop"))
            await self.reply(who, trace, t("stop_done", lang))
        elif command == "stats" and self.is_admin(who):
            await self.on_stats(who, trace)
        else:  # includes /stats from non-admins: no hint that it exists
            await self.reply(who, trace, t("unknown_command", lang))

    async def on_stats(self, who: Requester, trace: str) -> None:
        if self.admin_summary is None:
            await self.reply(who, trace, t("stats_unavailable", who.ui_language), kind="admin")
            return
        now = self.clock.now()
        try:
            html, report = await anyio.to_thread.run_sync(
                self.admin_summary, self.settings, now, who.ui_language
            )
        except OSError as exc:  # unreadable analytics: tell the admin, keep serving everyone
            log.error("ingress.stats_failed trace=%s errno=%s", trace, exc.errno)
            reason = exc.strerror or type(exc).__name__
            await self.reply(
                who, trace, t("stats_failed", who.ui_language, reason=reason), kind="admin"
            )
            return
        day = datetime.fromtimestamp(now, self.settings.zone).date().isoformat()
        await self.reply(
            who,
            trace,
            html,
            kind="admin",
            document=report,
            document_name=f"resumebek-report-{day}.html",
        )

    # ------------------------------------------------------------ button presses

    async def on_callback(self, cb: IncomingCallback) -> None:
        who = self.requester(cb)
        trace = new_trace()
        kind, _, rest = cb.data.partition(":")
        if kind == "lang" and rest in LANGUAGES:
            lang = pick_language(rest)
            self.store.set_language(cb.user, lang)
            await self.answer(cb, trace, t("language_set", lang), clear=True)
            confirmed = Requester(chat=cb.chat, user=cb.user, ui_language=lang)
            await self.reply(confirmed, trace, t("language_set", lang))
        elif kind == "anyway" and rest:
            # the first answer was a rejection and was refunded: this review is charged now
            request = AnalyzeAnyway(trace=trace, who=who, token=rest)
            answered = False

            async def proceed() -> None:
                nonlocal answered
                if not answered:  # the press first, then the ⏳ placeholder
                    answered = True
                    await self.answer(cb, trace, None, clear=True)
                await self.forward(request)

            outcome = await self.admit(who, trace, proceed)
            if not answered:  # held (it goes on later) or refused (the button stays)
                answered = True
                await self.answer(cb, trace, None, clear=outcome == "held")
        elif kind == "rate":
            rating, _, tail = rest.partition(":")
            source, _, review_lang = tail.partition(":")
            if rating in ("up", "down") and self.store.first_rating(cb.chat, cb.message_id):
                fields: dict[str, Scalar] = {"rating": rating}
                if source in ("llm", "rules"):
                    fields["source"] = source
                if review_lang in LANGUAGES:
                    fields["language"] = review_lang
                self.analytics("review_rated", who, trace, **fields)
            elif rating in ("up", "down"):
                log.info("ingress.duplicate kind=rating")  # thanked again, counted once
            thanks_lang = pick_language(review_lang, who.ui_language)
            await self.answer(cb, trace, t("rate_thanks", thanks_lang), clear=True)
        else:
            await self.answer(cb, trace, None, clear=False)
        await self.save()

    async def answer(
        self, cb: IncomingCallback, trace: str, text: str | None, *, clear: bool
    ) -> None:
        await self.to_outbox.send(
            CallbackAnswer(
                trace=trace,
                callback_id=cb.callback_id,
                text=text,
                chat=cb.chat,
                clear_buttons_of=cb.message_id if clear else None,
            )
        )


async def run(
    inbox: Mailbox[Update | RequestSettled],
    *,
    to_extractor: Address[DocumentReceived | TextReceived | AnalyzeAnyway],
    to_outbox: Address[Outgoing | ChatAction | CallbackAnswer],
    to_followup: Address[CancelFollowUp],
    to_analytics: Address[AnalyticsEvent],
    clock: Clock,
    settings: Settings,
    queue_depth: Callable[[], int],
    queue_note_after: int = 5,
    dedup_window: int = 10_000,
    store: IngressStore | None = None,
    admin_summary: AdminSummary | None = None,
    waits: QuotaWaits | None = None,
) -> None:
    """Handle updates one at a time until the inbox ends. `store` and `waits` outlive a
    restart of the actor when the caller keeps them."""
    if store is None:
        store = IngressStore.load(settings.data_dir / FILE_NAME, dedup_window=dedup_window)
    ingress = _Ingress(
        to_extractor=to_extractor,
        to_outbox=to_outbox,
        to_followup=to_followup,
        to_analytics=to_analytics,
        clock=clock,
        settings=settings,
        queue_depth=queue_depth,
        queue_note_after=queue_note_after,
        store=store,
        admin_summary=admin_summary,
        waits=waits if waits is not None else QuotaWaits(),
    )
    try:
        async for update in inbox:
            if isinstance(update, RequestSettled):
                await ingress.on_settled(update)
            elif isinstance(update, IncomingCallback):
                await ingress.on_callback(update)
            else:
                await ingress.on_message(update)
    finally:
        _last_save(store)


def _last_save(store: IngressStore) -> None:
    """The state is saved with every change, so it is dirty here only after the disk refused
    it: one last try (synchronous: it runs while being cancelled too), or say it is lost."""
    if not store.dirty:
        return
    try:
        store.save()
    except OSError as exc:
        log.error("ingress.state_unsaved_at_shutdown kind=%s", os_error_kind(exc))
        return
    store.dirty = False
