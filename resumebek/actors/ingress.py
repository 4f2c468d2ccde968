"""Ingress actor: every Telegram update enters here.

Consumes IncomingMessage / IncomingCallback (translated by a gateway). Answers commands,
checks private chat, duplicates, file size and the daily quota, then hands documents and
resume-length text to the extractor (with a ⏳ placeholder for the outbox), cancellations
to followup and clicks to analytics. Remembers preferences in an IngressStore.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import anyio

from resumebek.config import Settings
from resumebek.domain.events import event
from resumebek.domain.photo_offer import clean_campaign
from resumebek.domain.texts import LANGUAGE_NAMES, pick_language, t
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
    words = len(text.split())
    lines = sum(1 for line in text.splitlines() if line.strip())
    return words >= RESUME_MIN_WORDS or (lines >= 3 and words >= RESUME_MIN_WORDS_MULTILINE)


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
        """Persist before acting on a request, so a re-delivered update is recognized."""
        if self.store.dirty:
            self.store.dirty = False
            snapshot = self.store.snapshot()
            await anyio.to_thread.run_sync(self.store.save, snapshot)

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
        who = self.requester(msg)
        trace = new_trace()
        if msg.kind == "command":
            await self.on_command(msg, who, trace)
        elif msg.kind == "document" and msg.document is not None:
            await self.on_document(msg, who, trace)
        elif msg.kind == "text":
            if looks_like_resume_text(msg.text):
                await self.on_resume_text(msg, who, trace)
            else:
                await self.reply(who, trace, t("short_text_hint", who.ui_language))
        else:  # photo, voice, video, sticker, anything else
            await self.reply(who, trace, t("send_document", who.ui_language))
        await self.save()

    async def on_document(self, msg: IncomingMessage, who: Requester, trace: str) -> None:
        doc = msg.document
        assert doc is not None
        lang = who.ui_language
        if doc.size > self.settings.max_file_bytes:  # declared size: nothing downloaded
            size_mb = f"{doc.size / 1024 / 1024:.0f}"
            max_mb = f"{self.settings.max_file_mb:g}"
            await self.reply(who, trace, t("too_large", lang, size_mb=size_mb, max_mb=max_mb))
            self.analytics("resume_rejected", who, trace, reason="too_large")
            return
        if not await self.take_quota(who, trace):
            return
        await self.save()
        await self.accepted(who, trace)
        await self.to_extractor.send(
            DocumentReceived(
                trace=trace,
                who=who,
                message_id=msg.message_id,
                file_id=doc.file_id,
                file_name=doc.file_name,
                mime_type=doc.mime_type,
                size=doc.size,
                received_at=msg.received_at,
            )
        )

    async def on_resume_text(self, msg: IncomingMessage, who: Requester, trace: str) -> None:
        if not await self.take_quota(who, trace):
            return
        await self.save()
        await self.accepted(who, trace)
        await self.to_extractor.send(
            TextReceived(
                trace=trace,
                who=who,
                message_id=msg.message_id,
                text=msg.text,
                received_at=msg.received_at,
            )
        )

    async def take_quota(self, who: Requester, trace: str) -> bool:
        limit = self.settings.user_daily_limit
        if self.is_admin(who) or self.store.take_quota(who.user, self.today(), limit):
            return True
        await self.reply(who, trace, t("quota_reached", who.ui_language, limit=limit))
        self.analytics("quota_hit", who, trace)
        return False

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
        html, report = await anyio.to_thread.run_sync(
            self.admin_summary, self.settings, now, who.ui_language
        )
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
            await self.answer(cb, trace, None, clear=True)
            await self.accepted(who, trace)
            await self.to_extractor.send(AnalyzeAnyway(trace=trace, who=who, token=rest))
        elif kind == "rate":
            rating, _, tail = rest.partition(":")
            source, _, review_lang = tail.partition(":")
            if rating in ("up", "down"):
                fields: dict[str, Scalar] = {"rating": rating}
                if source in ("llm", "rules"):
                    fields["source"] = source
                if review_lang in LANGUAGES:
                    fields["language"] = review_lang
                self.analytics("review_rated", who, trace, **fields)
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
    inbox: Mailbox[Update],
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
) -> None:
    """Handle updates one at a time until the inbox ends."""
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
    )
    async for update in inbox:
        if isinstance(update, IncomingCallback):
            await ingress.on_callback(update)
        else:
            await ingress.on_message(update)
