"""The composition root: the whole actor tree from Settings, a gateway and the services.

Used by `resumebek run` (PyrogramGateway) and `resumebek chat` (ConsoleGateway):

    async with open_services(settings) as services:
        tree = build_tree(settings, gateway=gateway, services=services, clock=clock)
        code = await tree.supervisor.run()

Start order (stop is the reverse, so ingress stops taking work first):
analytics, followup, outbox, analyzer, extractor, ingress, telegram, http.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from resumebek.actors import analytics, analyzer, extractor, followup, ingress, outbox
from resumebek.analytics_admin import admin_summary
from resumebek.config import Settings, SupervisorConfig
from resumebek.domain.click_token import click_key, tracked_photo_url
from resumebek.domain.events import event
from resumebek.domain.photo_offer import photo_url, validate_photo_url
from resumebek.domain.privacy import pseudonym
from resumebek.domain.render import review_html
from resumebek.domain.telegram_html import machine_word
from resumebek.domain.texts import command_menu, pick_language, t
from resumebek.errors import ConfigError
from resumebek.messages import (
    AnalyticsEvent,
    AnalyzeAnyway,
    CallbackAnswer,
    CancelFollowUp,
    ChatAction,
    ChatRef,
    DocumentReceived,
    FollowUpReceipt,
    IncomingCallback,
    IncomingMessage,
    Language,
    Outgoing,
    Priority,
    Requester,
    RequestSettled,
    ResumeExtracted,
    ReviewReady,
    ScheduleFollowUp,
    TextReceived,
    Update,
    new_trace,
)
from resumebek.runtime.control import control_socket_path
from resumebek.runtime.mailbox import Mailbox
from resumebek.runtime.supervisor import Supervisor
from services.analytics_files import load_salt
from services.ingress_store import FILE_NAME as INGRESS_STATE_FILE
from services.ingress_store import IngressStore
from services.ports import Clock, DocumentExtractor, ResumeReviewer, TelegramGateway

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Services:
    """The heavy services the tree uses, opened once for the process."""

    extractor: DocumentExtractor
    reviewer: ResumeReviewer | None


def extractor_workers(settings: Settings, config: SupervisorConfig) -> int:
    """Parser worker processes: EXTRACT_WORKERS when set, else supervisor.toml
    [actors.extractor] workers, else 2."""
    if settings.extract_workers is not None:  # the operator's EXTRACT_WORKERS wins
        return settings.extract_workers
    return int(_option(config, "extractor", "workers", 2))


def extractor_concurrency(settings: Settings, config: SupervisorConfig) -> int:
    """Files the extractor actor handles at once: twice the workers, so while one file per
    worker is being parsed the next ones download and every worker stays busy."""
    return 2 * extractor_workers(settings, config)


@asynccontextmanager
async def open_services(
    settings: Settings, *, workers: int | None = None
) -> AsyncIterator[Services]:
    """The worker-process extractor pool, and the LLM reviewer when a key is configured."""
    from services.extraction_pool import ProcessExtractor
    from services.llm import OpenAIReviewer

    async with AsyncExitStack() as stack:
        pool = ProcessExtractor.from_settings(settings, workers=workers)
        await stack.enter_async_context(pool)
        reviewer = OpenAIReviewer.from_settings(settings) if settings.llm_enabled else None
        if reviewer is not None:
            stack.push_async_callback(reviewer.aclose)  # its HTTP connections, at exit
        yield Services(extractor=pool, reviewer=reviewer)


@dataclass(slots=True)
class Tree:
    supervisor: Supervisor
    gateway: TelegramGateway
    mailboxes: dict[str, Mailbox[Any]] = field(default_factory=dict)

    async def deliver(self, update: Update) -> None:
        """What the gateway calls for each update: into the ingress mailbox (back-pressure)."""
        await self.mailboxes["ingress"].send(update)

    def idle(self) -> bool:
        """Nothing queued or being worked on anywhere (follow-up timers do not count)."""
        return all(
            box.stats().depth == 0 and box.stats().in_flight == 0 for box in self.mailboxes.values()
        )

    async def wait_idle(self, *, settle_s: float = 0.3, poll_s: float = 0.05) -> None:
        """Until the tree has stayed idle for `settle_s` (real time: used by `chat`)."""
        quiet_since: float | None = None
        while True:
            now = anyio.current_time()
            if self.idle():
                quiet_since = quiet_since if quiet_since is not None else now
                if now - quiet_since >= settle_s:
                    return
            else:
                quiet_since = None
            await anyio.sleep(poll_s)


def photo_link(settings: Settings, salt: bytes) -> Callable[[Requester, Language], str]:
    """The photo button's URL: a signed click-counting /r/{token} link when PUBLIC_BASE_URL
    is set, else AI_PHOTOS_URL with UTM parameters. Never a raw Telegram id."""
    key = click_key(settings.analytics_salt.reveal(), settings.bot_token.reveal())
    base = settings.public_base_url

    def link(who: Requester, lang: Language) -> str:
        if base and key is not None:
            try:
                return tracked_photo_url(
                    base,
                    key=key,
                    user_ref=pseudonym(who.user, salt),
                    language=lang,
                    campaign=who.campaign,
                )
            except ValueError:
                pass  # a campaign a token cannot carry: the direct link still works
        return photo_url(settings.ai_photos_url, campaign=who.campaign, lang=lang)

    return link


def _who_of(message: object, default_language: Language) -> tuple[ChatRef, Language] | None:
    """Where a dead letter came from and the user's language, if it says."""
    who = getattr(message, "who", None)
    if isinstance(who, Requester):
        return who.chat, who.ui_language
    if isinstance(message, IncomingMessage | IncomingCallback):
        return message.chat, pick_language(message.language_code, default_language)
    if isinstance(message, Outgoing):
        # a reply the user waits for; never for errors (no loop) or unsolicited reminders
        if message.kind in ("progress", "reply", "rejection") and message.priority == Priority.USER:
            return message.chat, message.language
        return None
    if isinstance(message, ChatAction):
        return None  # a typing indicator: nothing the user waits for
    return None


def dead_letter_handler(
    mailboxes: Mapping[str, Mailbox[Any]], clock: Clock, *, default_language: Language = "en"
) -> Callable[[str, Any, str], Awaitable[None]]:
    """A message that crashed its actor twice: the user gets a localized "something went
    wrong, please try again" (edited into their ⏳ if there is one), analytics a dead_letter."""

    async def on_dead_letter(actor: str, message: Any, error_kind: str) -> None:
        trace = getattr(message, "trace", None)
        mailboxes["analytics"].send_nowait(
            event(
                "dead_letter",
                at=clock.now(),
                trace=trace,
                actor=machine_word(actor),
                kind=machine_word(error_kind),
            )
        )
        who = getattr(message, "who", None)
        if isinstance(who, Requester) and "ingress" in mailboxes:
            # a request that crashed on its way to a review: it uses no quota either
            settled = RequestSettled(trace=trace or new_trace(), user=who.user, reviewed=False)
            mailboxes["ingress"].send_nowait(settled)
        target = _who_of(message, default_language)
        if target is None or error_kind == "shutdown":
            return
        chat, lang = target
        reply = Outgoing(
            trace=trace or new_trace(),
            chat=chat,
            language=lang,
            kind="error",
            html=t("error_generic", lang),
            replace_placeholder=True,
        )
        if not mailboxes["outbox"].send_nowait(reply):
            log.warning("dead_letter.reply_dropped actor=%s", actor)

    return on_dead_letter


def _option(config: SupervisorConfig, actor: str, key: str, default: float) -> float:
    value = config.actor(actor).options.get(key, default)
    return float(value) if isinstance(value, int | float) else default


def build_tree(
    settings: Settings,
    *,
    gateway: TelegramGateway,
    services: Services,
    clock: Clock,
    config: SupervisorConfig,
    handle_signals: bool = True,
    control: bool = True,
    http: bool | None = None,
    extra_children: tuple[tuple[str, Callable[[], Awaitable[None]]], ...] = (),
) -> Tree:
    """Every actor under one Supervisor, wired to its mailboxes; nothing runs until
    `tree.supervisor.run()`."""
    try:
        validate_photo_url(settings.ai_photos_url)
    except ValueError as exc:
        raise ConfigError("AI_PHOTOS_URL", str(exc)) from None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    salt = load_salt(settings)
    mailboxes: dict[str, Mailbox[Any]] = {}
    sup = Supervisor(
        config,
        clock=clock,
        on_dead_letter=dead_letter_handler(
            mailboxes, clock, default_language=settings.default_language
        ),
        control_path=control_socket_path(settings.data_dir) if control else None,
        handle_signals=handle_signals,
    )
    analytics_box: Mailbox[AnalyticsEvent] = sup.mailbox("analytics")
    followup_box: Mailbox[ScheduleFollowUp | CancelFollowUp | FollowUpReceipt] = sup.mailbox(
        "followup"
    )
    outbox_box: Mailbox[Outgoing | ReviewReady | ChatAction | CallbackAnswer] = sup.mailbox(
        "outbox"
    )
    analyzer_box: Mailbox[ResumeExtracted] = sup.mailbox("analyzer")
    extractor_box: Mailbox[DocumentReceived | TextReceived | AnalyzeAnyway] = sup.mailbox(
        "extractor"
    )
    ingress_box: Mailbox[Update | RequestSettled] = sup.mailbox("ingress")
    mailboxes.update(
        analytics=analytics_box,
        followup=followup_box,
        outbox=outbox_box,
        analyzer=analyzer_box,
        extractor=extractor_box,
        ingress=ingress_box,
    )
    tree = Tree(supervisor=sup, gateway=gateway, mailboxes=mailboxes)
    store = IngressStore.load(
        settings.data_dir / INGRESS_STATE_FILE,
        dedup_window=int(_option(config, "ingress", "dedup_window", 10_000)),
    )
    link = photo_link(settings, salt)
    outbox_memory = outbox.OutboxMemory()  # survives a restart of the outbox actor
    quota_waits = ingress.QuotaWaits()  # likewise for ingress: undecided and held requests

    sup.add(
        "analytics",
        start=lambda: analytics.run(
            analytics_box,
            clock=clock,
            settings=settings,
            flush_interval_s=_option(config, "analytics", "flush_interval_s", 0.2),
            batch_max=int(_option(config, "analytics", "batch_max", 512)),
        ),
    )
    sup.add(
        "followup",
        start=lambda: followup.run(
            followup_box,
            to_outbox=outbox_box,
            to_analytics=analytics_box,
            clock=clock,
            settings=settings,
            debounce_s=_option(config, "followup", "snapshot_debounce_s", 1.0),
            max_in_flight=int(_option(config, "followup", "max_in_flight", 1)),
        ),
    )
    sup.add(
        "outbox",
        start=lambda: outbox.run(
            outbox_box,
            gateway=gateway,
            to_followup=followup_box,
            to_analytics=analytics_box,
            clock=clock,
            settings=settings,
            per_chat_per_s=_option(config, "outbox", "per_chat_per_s", 1.0),
            global_per_s=_option(config, "outbox", "global_per_s", 25.0),
            concurrency=int(_option(config, "outbox", "concurrency", 16)),
            render_review=review_html,
            photo_link=link,
            memory=outbox_memory,
        ),
    )
    sup.add(
        "analyzer",
        start=lambda: analyzer.run(
            analyzer_box,
            to_outbox=outbox_box,
            to_analytics=analytics_box,
            reviewer=services.reviewer,
            clock=clock,
            settings=settings,
            concurrency=int(_option(config, "analyzer", "concurrency", 32)),
        ),
    )
    sup.add(
        "extractor",
        start=lambda: extractor.run(
            extractor_box,
            to_analyzer=analyzer_box,
            to_outbox=outbox_box,
            to_analytics=analytics_box,
            download=lambda file_id, max_bytes: gateway.download(file_id, max_bytes=max_bytes),
            extractor=services.extractor,
            clock=clock,
            settings=settings,
            concurrency=extractor_concurrency(settings, config),
            to_ingress=ingress_box,
        ),
    )
    sup.add(
        "ingress",
        start=lambda: ingress.run(
            ingress_box,
            to_extractor=extractor_box,
            to_outbox=outbox_box,
            to_followup=followup_box,
            to_analytics=analytics_box,
            clock=clock,
            settings=settings,
            # waiting to be extracted or reviewed: where a rush of students queues up
            queue_depth=lambda: extractor_box.stats().depth + analyzer_box.stats().depth,
            queue_note_after=int(_option(config, "extractor", "queue_note_after", 5)),
            store=store,
            admin_summary=admin_summary,
            waits=quota_waits,
        ),
    )

    gateway_stopped = anyio.Event()
    connection = anyio.CancelScope()  # of the running incarnation

    async def telegram_service() -> None:
        """Connect, register the command menus, and stay until shutdown asks us to stop.
        Shutdown also cancels a connect still in progress: an unreachable Telegram must not
        hold the other actors' drain for the whole shutdown timeout."""
        nonlocal connection
        connection = anyio.CancelScope()
        if gateway_stopped.is_set():
            return
        try:
            with connection:
                await gateway.start(tree.deliver)
                await gateway.set_commands(command_menu())
                await anyio.sleep_forever()
        finally:
            await gateway.stop()

    def stop_telegram() -> None:
        gateway_stopped.set()
        connection.cancel()

    sup.add("telegram", start=telegram_service, stop_intake=stop_telegram, restart="permanent")
    if settings.http_enabled if http is None else http:
        from services.http import http_service

        sup.add(
            "http",
            start=http_service(
                settings,
                actor_status=lambda: [row.to_dict() for row in sup.status()],
                gateway_connected=lambda: gateway.connected,
                to_analytics=analytics_box,
                clock=clock,
            ),
        )
    for name, start in extra_children:
        sup.add(name, start=start, restart="transient")
    return tree
