"""Outbox actor: the only sender to Telegram.

Consumes Outgoing / ReviewReady / ChatAction / CallbackAnswer. Splits HTML over 4096 UTF-16
units, edits the ⏳ placeholder of a trace into the first part, keeps per-chat (1/s) and
global (~25/s) limits, user replies before follow-ups, and waits out FloodWait for only the
message that got it. Produces ScheduleFollowUp / FollowUpReceipt and delivery analytics.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import anyio
from anyio.abc import TaskGroup

from resumebek import metrics
from resumebek.config import Settings
from resumebek.domain.events import event
from resumebek.domain.photo_offer import photo_url
from resumebek.domain.telegram_html import escape, machine_word, split_html, strip_tags
from resumebek.domain.texts import t
from resumebek.errors import (
    BadButtonUrl,
    DeliveryError,
    FloodWait,
    MailboxClosed,
    MessageNotModified,
    RecipientGone,
)
from resumebek.messages import (
    AnalyticsEvent,
    CallbackAnswer,
    CallbackButton,
    ChatAction,
    ChatRef,
    FollowUpOutcome,
    FollowUpReceipt,
    Keyboard,
    Language,
    Outgoing,
    OutKind,
    Priority,
    Requester,
    Review,
    ReviewReady,
    ScheduleFollowUp,
    UrlButton,
)
from resumebek.runtime.mailbox import Address, Mailbox
from services.ports import Clock, TelegramGateway

log = logging.getLogger(__name__)

OutboxMessage = Outgoing | ReviewReady | ChatAction | CallbackAnswer
RenderReview = Callable[[Review, Language], str]
PhotoUrl = Callable[[Requester, Language], str]

# Messages taken from the mailbox and not yet delivered. Large on purpose: the outbox must
# see a user's reply queued behind a burst of reminders to send it first. Bounded anyway,
# so a stuck Telegram eventually pushes back on the producers through the mailbox.
_MAX_PENDING = 50_000
_PLACEHOLDERS_KEPT = 10_000
_KEYBOARDS_KEPT = 10_000

Op = Literal["send", "edit", "action", "document", "clear_buttons"]


# ---------------------------------------------------------------- rate limiting


class _Window:
    """At most `n` events in any `span` seconds (a sliding window: no bursts over the limit)."""

    __slots__ = ("n", "span", "times")

    def __init__(self, per_s: float) -> None:
        self.n = max(1, round(per_s))
        self.span = self.n / per_s
        self.times: deque[float] = deque()

    def next_free(self, now: float) -> float:
        while self.times and self.times[0] + self.span <= now:
            self.times.popleft()
        return now if len(self.times) < self.n else self.times[0] + self.span

    def take(self, now: float) -> None:
        self.times.append(now)


# ---------------------------------------------------------------- deliveries and jobs


@dataclass(eq=False, slots=True)
class _Delivery:
    """One mailbox message and what is left to do for it."""

    message: OutboxMessage
    kind: OutKind | Literal["action", "answer"]
    language: Language | None = None
    remaining: int = 0
    failed: str | None = None  # reason, once it failed for good
    on_done: Callable[[], list[ScheduleFollowUp]] | None = None


@dataclass(eq=False, slots=True)
class _Job:
    seq: int
    chat: ChatRef
    priority: Priority
    op: Op
    trace: str
    delivery: _Delivery
    html: str = ""
    buttons: Keyboard = ()
    use_placeholder: bool = False  # the first part of a reply: edit the ⏳ message if any
    message_id: int = 0  # for edit / clear_buttons
    document: bytes | None = None
    document_name: str = ""
    plain: bool = False  # already the plain-text retry
    record_placeholder: bool = False  # a progress message: remember its id for the trace


@dataclass(slots=True)
class OutboxMemory:
    """What the outbox must remember across a restart of the actor (kept by the
    composition root): the ⏳ message of each trace, and the keyboards it sent."""

    placeholders: OrderedDict[str, tuple[ChatRef, int]] = field(default_factory=OrderedDict)
    keyboards: OrderedDict[tuple[ChatRef, int], Keyboard] = field(default_factory=OrderedDict)
    calls: _Window | None = None  # the global limit at call time: a new incarnation keeps it
    chat_windows: dict[ChatRef, _Window] = field(default_factory=dict)  # per-chat limits, too


@dataclass(eq=False, slots=True)
class _Chat:
    window: _Window
    jobs: deque[_Job] = field(default_factory=deque)
    busy: bool = False
    not_before: float = 0.0  # FloodWait: nothing to this chat before then


class _Outbox:
    def __init__(
        self,
        *,
        inbox: Mailbox[OutboxMessage],
        gateway: TelegramGateway,
        to_followup: Address[ScheduleFollowUp | FollowUpReceipt],
        to_analytics: Address[AnalyticsEvent],
        clock: Clock,
        settings: Settings,
        per_chat_per_s: float,
        global_per_s: float,
        concurrency: int,
        render_review: RenderReview,
        photo_link: PhotoUrl,
        memory: OutboxMemory,
    ) -> None:
        self.inbox = inbox
        self.gateway = gateway
        self.to_followup = to_followup
        self.to_analytics = to_analytics
        self.clock = clock
        self.settings = settings
        self.per_chat_per_s = per_chat_per_s
        self.global_window = _Window(global_per_s)
        self.concurrency = concurrency
        self.render_review = render_review
        self.photo_link = photo_link
        self.chats: dict[ChatRef, _Chat] = {}
        self.ready: list[tuple[int, int, ChatRef]] = []  # (priority, seq, chat) of idle heads
        self.waiting: list[tuple[float, int, ChatRef]] = []  # (time, seq, chat): rate/flood
        self.seq = itertools.count()
        self.in_flight = 0
        self.pending = 0  # deliveries not finished
        self.intake_done = False
        self.wake = anyio.Event()
        self.room = anyio.Event()
        if memory.calls is None or memory.calls.n != max(1, round(global_per_s)):
            memory.calls = _Window(global_per_s)
        self.calls = memory.calls
        self.chat_windows = memory.chat_windows
        self.placeholders = memory.placeholders
        self.keyboards = memory.keyboards
        self.completions = 0

    # ------------------------------------------------------------ intake

    async def intake(self) -> None:
        while True:
            while self.pending >= _MAX_PENDING:
                self.room = anyio.Event()
                await self.room.wait()
            try:
                message = await self.inbox.receive()
            except anyio.EndOfStream:
                break
            self.admit(message)
            self._wake()
        self.intake_done = True
        self._wake()

    def admit(self, message: OutboxMessage) -> None:
        self.pending += 1
        if isinstance(message, CallbackAnswer):
            self._admit_callback(message)
        elif isinstance(message, ChatAction):
            delivery = _Delivery(message=message, kind="action", remaining=1)
            self._enqueue(
                delivery,
                [self._job(message.chat, Priority.USER, "action", message.trace, delivery)],
            )
        elif isinstance(message, ReviewReady):
            self._admit_review(message)
        else:
            self._admit_outgoing(message)

    def _job(
        self, chat: ChatRef, priority: Priority, op: Op, trace: str, delivery: _Delivery
    ) -> _Job:
        return _Job(
            seq=next(self.seq),
            chat=chat,
            priority=priority,
            op=op,
            trace=trace,
            delivery=delivery,
        )

    def _admit_callback(self, message: CallbackAnswer) -> None:
        delivery = _Delivery(message=message, kind="answer")
        jobs: list[_Job] = []
        if message.chat is not None and message.clear_buttons_of is not None:
            job = self._job(message.chat, Priority.USER, "clear_buttons", message.trace, delivery)
            job.message_id = message.clear_buttons_of
            jobs.append(job)
        delivery.remaining = 1 + len(jobs)
        self.in_flight += 1  # answers skip the queues: Telegram shows a spinner until then
        self.task_group.start_soon(self._answer, message, delivery)
        self._enqueue(delivery, jobs)

    def _admit_review(self, message: ReviewReady) -> None:
        review = message.review
        lang = review.language
        html = self.render_review(review, lang) + f"\n\n<i>{t('rate_prompt', lang)}</i>"
        rate = f"{review.source}:{lang}"
        buttons: Keyboard = (
            (UrlButton(text=t("photo_button", lang), url=self.photo_link(message.who, lang)),),
            (
                CallbackButton(text="👍", data=f"rate:up:{rate}"),
                CallbackButton(text="👎", data=f"rate:down:{rate}"),
            ),
        )
        delivery = _Delivery(message=message, kind="reply", language=lang)

        def delivered() -> list[ScheduleFollowUp]:
            # end-to-end latency from the update's arrival; omitted if the clocks disagree
            latency_ms = int((self.clock.now() - message.received_at) * 1000)
            timing = {"latency_ms": latency_ms} if 0 <= latency_ms <= 86_400_000 else {}
            self._analytics(
                "review_delivered",
                user=message.who,
                trace=message.trace,
                language=lang,
                source=review.source,
                score=review.score,
                **timing,
            )
            if not (message.who.follow_up and self.settings.follow_up):
                return []
            when = self.clock.now()
            return [ScheduleFollowUp(trace=message.trace, who=message.who, delivered_at=when)]

        delivery.on_done = delivered
        self._admit_text(
            delivery, message.who.chat, message.trace, html, buttons, Priority.USER, True
        )

    def _admit_outgoing(self, message: Outgoing) -> None:
        delivery = _Delivery(message=message, kind=message.kind, language=message.language)
        jobs = self._text_jobs(
            delivery,
            message.chat,
            message.trace,
            message.html,
            message.buttons,
            message.priority,
            message.replace_placeholder and message.kind != "progress",
        )
        if message.kind == "progress" and jobs:
            jobs[0].record_placeholder = True
        if message.document is not None:
            job = self._job(message.chat, message.priority, "document", message.trace, delivery)
            job.document = message.document
            job.document_name = message.document_name or "report.html"
            jobs.append(job)
        delivery.remaining = len(jobs)
        self._enqueue(delivery, jobs)

    def _admit_text(
        self,
        delivery: _Delivery,
        chat: ChatRef,
        trace: str,
        html: str,
        buttons: Keyboard,
        priority: Priority,
        use_placeholder: bool,
    ) -> None:
        jobs = self._text_jobs(delivery, chat, trace, html, buttons, priority, use_placeholder)
        delivery.remaining = len(jobs)
        self._enqueue(delivery, jobs)

    def _text_jobs(
        self,
        delivery: _Delivery,
        chat: ChatRef,
        trace: str,
        html: str,
        buttons: Keyboard,
        priority: Priority,
        use_placeholder: bool,
    ) -> list[_Job]:
        parts = split_html(html) if html else []
        jobs: list[_Job] = []
        for i, part in enumerate(parts):
            job = self._job(chat, priority, "send", trace, delivery)
            job.html = part
            job.buttons = buttons if i == len(parts) - 1 else ()  # buttons on the last part
            job.use_placeholder = use_placeholder and i == 0
            jobs.append(job)
        return jobs

    def _enqueue(self, delivery: _Delivery, jobs: list[_Job]) -> None:
        if delivery.remaining == 0:
            self._finish(delivery)
            return
        for job in jobs:
            state = self.chats.get(job.chat)
            if state is None:
                window = self.chat_windows.get(job.chat)
                if window is None:
                    window = self.chat_windows[job.chat] = _Window(self.per_chat_per_s)
                state = self.chats[job.chat] = _Chat(window=window)
            state.jobs.append(job)
            if not state.busy and len(state.jobs) == 1:
                heapq.heappush(self.ready, (job.priority, job.seq, job.chat))

    # ------------------------------------------------------------ dispatch

    async def dispatch(self, task_group: TaskGroup) -> None:
        while True:
            now = self.clock.now()
            while self.waiting and self.waiting[0][0] <= now:
                _, _, chat = heapq.heappop(self.waiting)
                self._make_ready(chat)
            if self.in_flight >= self.concurrency:
                await self._sleep(math.inf)
                continue
            job = self._next_job(now)
            if job is not None:
                free = self.global_window.next_free(now)
                if free > now:  # keep the job at the head of its chat; wait for a global slot
                    self._push_back(job)
                    await self._sleep(free)
                    continue
                self.global_window.take(now)
                self.chats[job.chat].busy = True
                self.in_flight += 1
                task_group.start_soon(self._execute, job)
                continue
            if self.intake_done and self.pending == 0 and self.in_flight == 0:
                return
            await self._sleep(self.waiting[0][0] if self.waiting else math.inf)

    def _next_job(self, now: float) -> _Job | None:
        """The most urgent head job whose chat may send now; time-gated chats wait aside."""
        while self.ready:
            priority, seq, chat = heapq.heappop(self.ready)
            state = self.chats.get(chat)
            if state is None or state.busy or not state.jobs or state.jobs[0].seq != seq:
                continue  # stale entry
            head = state.jobs[0]
            gate = state.not_before
            if head.op != "action":
                gate = max(gate, state.window.next_free(now))
            if gate > now:
                heapq.heappush(self.waiting, (gate, seq, chat))
                continue
            state.jobs.popleft()
            return head
        return None

    def _push_back(self, job: _Job) -> None:
        state = self.chats[job.chat]
        state.jobs.appendleft(job)
        heapq.heappush(self.ready, (job.priority, job.seq, job.chat))

    def _make_ready(self, chat: ChatRef) -> None:
        state = self.chats.get(chat)
        if state is not None and not state.busy and state.jobs:
            head = state.jobs[0]
            heapq.heappush(self.ready, (head.priority, head.seq, chat))

    async def _sleep(self, deadline: float) -> None:
        """Until `deadline` on the clock, or until something changes (a wake)."""
        wake = self.wake
        if wake.is_set():
            self.wake = anyio.Event()
            return
        if deadline == math.inf:
            await wake.wait()
        else:
            async with anyio.create_task_group() as tg:

                async def timer() -> None:
                    await self.clock.sleep_until(deadline)
                    tg.cancel_scope.cancel()

                tg.start_soon(timer)
                await wake.wait()
                tg.cancel_scope.cancel()
        if self.wake is wake:
            self.wake = anyio.Event()

    def _wake(self) -> None:
        self.wake.set()

    # ------------------------------------------------------------ executing one job

    async def _execute(self, job: _Job) -> None:
        state = self.chats[job.chat]
        retry_at: float | None = None
        try:
            await self._pace(job)
            await self._perform(job)
        except FloodWait as exc:
            metrics.FLOOD_WAITS.inc()
            log.warning("outbox.flood_wait trace=%s retry_after=%.1f", job.trace, exc.retry_after)
            retry_at = self.clock.now() + exc.retry_after
        except MessageNotModified:
            self._count(job, "not_modified")
            self._job_done(job)
        except RecipientGone as exc:
            self._count(job, exc.kind)
            self._fail(job.delivery, exc.kind)
            self._drop_rest(job)
        except DeliveryError as exc:
            kind = machine_word(type(exc).__name__)
            self._count(job, "error")
            if not self._retry_differently(job, exc):
                log.warning("outbox.failed trace=%s op=%s kind=%s", job.trace, job.op, kind)
                self._fail(job.delivery, kind)
                self._drop_rest(job)
            else:
                retry_at = self.clock.now()
        else:
            self._count(job, "ok")
            self._job_done(job)
        finally:
            self.in_flight -= 1
            state.busy = False
            if retry_at is not None:  # the same job again, first in its chat, after the wait
                state.not_before = max(state.not_before, retry_at)
                state.jobs.appendleft(job)
            if state.jobs:
                head = state.jobs[0]
                heapq.heappush(self.ready, (head.priority, head.seq, job.chat))
            self._sweep()
            self._wake()

    async def _pace(self, job: _Job) -> None:
        """The limits as Telegram sees them. Dispatch already spaces calls, but a busy
        event loop can start dispatched calls late and in a bunch; stamping each call when
        it is made keeps any 1-s window at the limit (measured: up to 41 without this).
        The chat's own window is stamped here only: its chat is busy until this job ends,
        so a stamp at dispatch would let a late call and the next on-time one come closer
        than the per-chat limit."""
        chat = self.chats[job.chat].window if job.op != "action" else None  # not a message
        while True:
            now = self.clock.now()
            free = self.calls.next_free(now)
            if chat is not None:
                free = max(free, chat.next_free(now))
            if free <= now:
                break
            await self.clock.sleep_until(free)
        self.calls.take(now)
        if chat is not None:
            chat.take(now)

    def _retry_differently(self, job: _Job, exc: DeliveryError) -> bool:
        """After a refusal: an edit falls back to a new message, then HTML to plain text."""
        if job.op == "edit":
            job.op = "send"
            return True
        if job.op == "send" and not job.plain:
            job.plain = True
            job.html = escape(strip_tags(job.html).strip())
            if isinstance(exc, BadButtonUrl):
                job.buttons = tuple(
                    row
                    for row in (
                        tuple(b for b in row if not isinstance(b, UrlButton)) for row in job.buttons
                    )
                    if row
                )
            return True
        return False

    async def _perform(self, job: _Job) -> None:
        gateway = self.gateway
        if job.op == "action":
            await gateway.send_chat_action(job.chat, "typing")
        elif job.op == "clear_buttons":
            kept = self._keyboard_without_rating(job.chat, job.message_id)
            await gateway.edit_buttons(job.chat, job.message_id, buttons=kept)
        elif job.op == "document":
            assert job.document is not None
            await gateway.send_document(job.chat, job.document, file_name=job.document_name)
        elif job.op == "edit":
            await gateway.edit(job.chat, job.message_id, job.html, buttons=job.buttons)
            self._remember_keyboard(job.chat, job.message_id, job.buttons)
        else:
            if job.use_placeholder and not job.plain:
                placeholder = self.placeholders.pop(job.trace, None)
                job.use_placeholder = False
                if placeholder is not None and placeholder[0] == job.chat:
                    job.op = "edit"
                    job.message_id = placeholder[1]
                    await gateway.edit(job.chat, job.message_id, job.html, buttons=job.buttons)
                    self._remember_keyboard(job.chat, job.message_id, job.buttons)
                    return
            message_id = await gateway.send(job.chat, job.html, buttons=job.buttons)
            self._remember_keyboard(job.chat, message_id, job.buttons)
            if job.record_placeholder:
                self.placeholders[job.trace] = (job.chat, message_id)
                while len(self.placeholders) > _PLACEHOLDERS_KEPT:
                    self.placeholders.popitem(last=False)

    def _remember_keyboard(self, chat: ChatRef, message_id: int, buttons: Keyboard) -> None:
        if buttons:
            self.keyboards[(chat, message_id)] = buttons
            while len(self.keyboards) > _KEYBOARDS_KEPT:
                self.keyboards.popitem(last=False)

    def _keyboard_without_rating(self, chat: ChatRef, message_id: int) -> Keyboard:
        """The message's keyboard without its callback buttons (👍/👎, analyze anyway, the
        language picker): they were answered. URL buttons (the photo offer) stay."""
        known = self.keyboards.pop((chat, message_id), ())
        return tuple(
            row
            for row in (tuple(b for b in row if isinstance(b, UrlButton)) for row in known)
            if row
        )

    async def _answer(self, message: CallbackAnswer, delivery: _Delivery) -> None:
        try:
            await self.gateway.answer_callback(message.callback_id, message.text)
        except DeliveryError as exc:  # an expired query: the user simply sees no toast
            log.info("outbox.answer_failed trace=%s kind=%s", message.trace, type(exc).__name__)
        finally:
            self.in_flight -= 1
            delivery.remaining -= 1
            if delivery.remaining == 0:
                self._finish(delivery)
            self._wake()

    # ------------------------------------------------------------ bookkeeping

    def _count(self, job: _Job, outcome: str) -> None:
        metrics.OUTBOX_SENDS.labels(kind=job.op, outcome=outcome).inc()

    def _job_done(self, job: _Job) -> None:
        delivery = job.delivery
        delivery.remaining -= 1
        if delivery.remaining == 0:
            self._finish(delivery)

    def _drop_rest(self, job: _Job) -> None:
        """A failed delivery: its remaining parts are not sent."""
        state = self.chats[job.chat]
        kept = deque(j for j in state.jobs if j.delivery is not job.delivery)
        dropped = len(state.jobs) - len(kept)
        state.jobs = kept
        job.delivery.remaining -= dropped + 1
        if job.delivery.remaining <= 0:
            self._finish(job.delivery)

    def _fail(self, delivery: _Delivery, reason: str) -> None:
        delivery.failed = delivery.failed or reason

    def _finish(self, delivery: _Delivery) -> None:
        message = delivery.message
        to_followup: list[ScheduleFollowUp | FollowUpReceipt] = []
        if delivery.failed is None and delivery.on_done is not None:
            to_followup.extend(delivery.on_done())
        if delivery.failed is not None:
            trace = getattr(message, "trace", None)
            self._analytics(
                "delivery_failed",
                user=message.who if isinstance(message, ReviewReady) else None,
                trace=trace,
                reason=delivery.failed,
                kind=delivery.kind,
            )
        if isinstance(message, Outgoing) and message.receipt is not None:
            outcome: FollowUpOutcome = "sent"
            if delivery.failed == "blocked":
                outcome = "blocked"
            elif delivery.failed == "deactivated":
                outcome = "deactivated"
            elif delivery.failed is not None:
                outcome = "failed"
            to_followup.append(FollowUpReceipt(job_id=message.receipt, outcome=outcome))
        self.task_group.start_soon(self._complete, message, to_followup)

    async def _complete(
        self, message: OutboxMessage, to_followup: list[ScheduleFollowUp | FollowUpReceipt]
    ) -> None:
        """Tell followup, then mark the mailbox message done (a crash before redelivers it)."""
        for item in to_followup:
            try:
                await self.to_followup.send(item)
            except MailboxClosed:  # shutting down: followup is gone; the reminder is lost
                log.warning("outbox.followup_closed trace=%s", getattr(message, "trace", None))
        self.inbox.done(message)
        self.pending -= 1
        self.room.set()
        self._wake()

    def _sweep(self) -> None:
        """Forget idle chats now and then, so the table does not grow with every user ever."""
        self.completions += 1
        if self.completions % 1000:
            return
        now = self.clock.now()
        for chat in [c for c, s in self.chats.items() if not s.busy and not s.jobs]:
            state = self.chats[chat]
            if state.not_before <= now and state.window.next_free(now) <= now:
                del self.chats[chat]
                self.chat_windows.pop(chat, None)

    def _analytics(
        self,
        name: str,
        *,
        user: Requester | None,
        trace: str | None,
        **fields: str | int | float | bool | None,
    ) -> None:
        self.to_analytics.send_nowait(
            event(
                name,
                at=self.clock.now(),
                user=user.user if user is not None else None,
                trace=trace,
                **fields,
            )
        )

    task_group: TaskGroup  # set by run()


def _default_renderer() -> RenderReview:
    import importlib

    module = importlib.import_module("resumebek.domain.render")
    render: RenderReview = module.review_html
    return render


async def run(
    inbox: Mailbox[OutboxMessage],
    *,
    gateway: TelegramGateway,
    to_followup: Address[ScheduleFollowUp | FollowUpReceipt],
    to_analytics: Address[AnalyticsEvent],
    clock: Clock,
    settings: Settings,
    per_chat_per_s: float,
    global_per_s: float,
    concurrency: int = 16,
    render_review: RenderReview | None = None,
    photo_link: PhotoUrl | None = None,
    memory: OutboxMemory | None = None,
) -> None:
    """Deliver until the inbox ends and nothing is left in flight."""

    def default_photo_link(who: Requester, lang: Language) -> str:
        return photo_url(settings.ai_photos_url, campaign=who.campaign, lang=lang)

    outbox = _Outbox(
        inbox=inbox,
        gateway=gateway,
        to_followup=to_followup,
        to_analytics=to_analytics,
        clock=clock,
        settings=settings,
        per_chat_per_s=per_chat_per_s,
        global_per_s=global_per_s,
        concurrency=concurrency,
        render_review=render_review or _default_renderer(),
        photo_link=photo_link or default_photo_link,
        memory=memory if memory is not None else OutboxMemory(),
    )
    async with anyio.create_task_group() as tg:
        outbox.task_group = tg
        tg.start_soon(outbox.intake)
        await outbox.dispatch(tg)
