"""Follow-up timer. Consumes ScheduleFollowUp / CancelFollowUp / FollowUpReceipt; produces
Outgoing(kind="followup") for the outbox and followup_* analytics events. Side effects: the
only writer of DATA_DIR/followup_jobs.json (debounced atomic snapshot) and its journal.

Delivery is at least once with a duplicate window of `max_in_flight` sends (default 1): a
reminder is handed to the outbox only while fewer than that many await their receipt, and a
"sent" receipt is journaled (fsync) before the next message is read. A crash between
Telegram accepting a send and that journal line re-sends that one reminder after restart.

/stop cancels the pending reminder and opts the user out of future ones (kept in the
snapshot); /delete cancels it and forgets the user, opt-out included (a later review starts
afresh). FOLLOW_UP=False schedules and sends nothing but keeps the snapshot for later.
"""

from __future__ import annotations

import heapq
import logging
import math
import uuid
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Protocol

import anyio

from resumebek import metrics
from resumebek.config import Settings
from resumebek.domain.events import event
from resumebek.domain.followup import (
    MAX_ATTEMPTS,
    FollowUpJob,
    due_time,
    in_quiet_hours,
    is_too_late,
    out_of_quiet_hours,
    reminder_buttons,
    reminder_html,
    retry_delay_s,
    to_utc,
)
from resumebek.errors import MailboxClosed, os_error_kind
from resumebek.messages import (
    AnalyticsEvent,
    CancelFollowUp,
    FollowUpReceipt,
    Outgoing,
    Priority,
    Scalar,
    ScheduleFollowUp,
    UserRef,
)
from resumebek.runtime.mailbox import Address, Mailbox
from services.followup_store import (
    append_finished,
    append_scheduled,
    load_snapshot,
    save_snapshot,
)
from services.ports import Clock
from services.storage import gc_paused

log = logging.getLogger(__name__)


class _JournalAppend(Protocol):
    def __call__(self, *, at: datetime) -> None: ...


SNAPSHOT_NAME = "followup_jobs.json"
RECEIPT_TIMEOUT_S = 15 * 60.0  # no receipt by then (outbox lost it?): count a failed try
JOURNAL_COMPACT_AFTER = 1000  # journal lines before a snapshot folds them in


async def run(
    inbox: Mailbox[ScheduleFollowUp | CancelFollowUp | FollowUpReceipt],
    *,
    to_outbox: Address[Outgoing],
    to_analytics: Address[AnalyticsEvent],
    clock: Clock,
    settings: Settings,
    debounce_s: float,
    max_in_flight: int = 1,
) -> None:
    timer = _Timer(
        to_outbox=to_outbox,
        to_analytics=to_analytics,
        clock=clock,
        settings=settings,
        debounce_s=debounce_s,
        max_in_flight=max_in_flight,
    )
    timer.restore()
    try:
        async with anyio.create_task_group() as tg:
            if settings.follow_up:
                tg.start_soon(timer.dispatch_loop)
            tg.start_soon(timer.persist_loop)
            async for message in inbox:
                timer.handle(message)  # done (acknowledged) when the next one is asked for
            tg.cancel_scope.cancel()
    finally:
        # synchronous, so it completes even while we are being cancelled (shutdown or crash)
        timer.write_snapshot(final=True)


class _Timer:
    def __init__(
        self,
        *,
        to_outbox: Address[Outgoing],
        to_analytics: Address[AnalyticsEvent],
        clock: Clock,
        settings: Settings,
        debounce_s: float,
        max_in_flight: int,
    ) -> None:
        self._to_outbox = to_outbox
        self._to_analytics = to_analytics
        self._clock = clock
        self._settings = settings
        self._zone = settings.zone
        self._debounce_s = debounce_s
        self._max_in_flight = max(1, max_in_flight)
        self._path = Path(settings.data_dir) / SNAPSHOT_NAME
        self._jobs: dict[str, FollowUpJob] = {}
        self._by_user: dict[UserRef, str] = {}
        self._opted_out: set[UserRef] = set()
        # heap of (next try, seq, job id); an entry is live only while its seq is the latest
        self._heap: list[tuple[float, int, str]] = []
        self._latest_seq: dict[str, int] = {}
        self._seq = 0
        self._in_flight: dict[str, tuple[FollowUpJob, float]] = {}  # job id → (job, dispatched)
        self._unacked: list[tuple[FollowUpJob, float]] = []  # (job, delay s): not yet on disk
        self._dirty = False
        self._dirty_event = anyio.Event()
        self._wake = anyio.Event()
        self._last_write = -math.inf
        self._journal_lines = 0
        self._disk_outage: str | None = None  # "journal" or "snapshot": a write refused

    # ------------------------------------------------------------ start

    def restore(self) -> None:
        now = self._clock.now()
        loaded = load_snapshot(
            self._path, now=now, default_language=self._settings.default_language
        )
        if loaded.quarantined_to is not None:
            log.error(
                "followup.snapshot_bad status=%s quarantined=%s recovered=%d",
                loaded.status,
                loaded.quarantined_to.name,
                len(loaded.jobs),
            )
        for user, reason in loaded.dropped:
            self._emit("followup_skipped", user=user, reason=reason)
        self._opted_out = loaded.opted_out
        duplicates = 0
        with gc_paused():
            jobs, by_user = self._jobs, self._by_user
            # one per user: the latest due time wins (a newer review rescheduled it)
            for job in loaded.jobs:
                old_id = by_user.get(job.user)
                if old_id is not None:
                    duplicates += 1
                    old = jobs[old_id]
                    if old.due_at > job.due_at:
                        old, job = job, old
                    del jobs[old.job_id]
                    self._emit(
                        "followup_skipped", user=old.user, trace=old.trace, reason="duplicate"
                    )
                jobs[job.job_id] = job
                by_user[job.user] = job.job_id
            self._heap = [
                (job.next_try_at.timestamp(), seq, job_id)
                for seq, (job_id, job) in enumerate(jobs.items())
            ]
            self._latest_seq = {job_id: seq for seq, job_id in enumerate(jobs)}
            self._seq = len(self._heap)
            heapq.heapify(self._heap)
        log.info(
            "followup.restored status=%s pending=%d dropped=%d journal_finished=%d",
            loaded.status,
            len(self._jobs),
            len(loaded.dropped),
            loaded.finished_in_journal,
        )
        if loaded.status != "ok" or loaded.dropped or loaded.finished_in_journal or duplicates:
            self._mark_dirty()  # rewrite in the current format, without what was dropped
        self._update_gauge()

    # ------------------------------------------------------------ messages

    def handle(self, message: ScheduleFollowUp | CancelFollowUp | FollowUpReceipt) -> None:
        if isinstance(message, ScheduleFollowUp):
            self._schedule(message)
        elif isinstance(message, CancelFollowUp):
            self._cancel(message)
        else:
            self._receipt(message)
        self._update_gauge()

    def _schedule(self, message: ScheduleFollowUp) -> None:
        who = message.who
        if not self._settings.follow_up:
            return
        if who.user in self._opted_out:
            self._emit("followup_skipped", user=who.user, trace=message.trace, reason="opted_out")
            metrics.FOLLOWUPS.labels(outcome="skipped").inc()
            return
        old = self._by_user.get(who.user)
        if old is not None:
            self._remove(old)  # rescheduled: one pending reminder per user
        due = due_time(
            message.delivered_at,
            delay_s=self._settings.follow_up_delay_s,
            quiet_hours=self._settings.quiet_hours,
            zone=self._zone,
        )
        job = FollowUpJob(
            job_id=uuid.uuid4().hex,
            trace=message.trace,
            chat=who.chat,
            user=who.user,
            language=who.ui_language,
            campaign=who.campaign,
            due_at=due,
            next_try_at=due,
        )
        self._add(job)
        self._journal(partial(append_scheduled, self._path, job))  # durable before the snapshot
        self._unacked.append((job, due.timestamp() - message.delivered_at))
        self._mark_dirty()

    def _cancel(self, message: CancelFollowUp) -> None:
        job_id = self._by_user.get(message.user)
        if message.reason == "stop":
            self._opted_out.add(message.user)
        else:
            self._opted_out.discard(message.user)  # /delete forgets the user entirely
        self._mark_dirty()
        if job_id is None:
            return
        job = self._jobs[job_id]
        self._unacked = [u for u in self._unacked if u[0].job_id != job_id]
        # durable now: a crash before the next snapshot must not resurrect a cancelled reminder
        self._finish(job_id, f"cancelled_{message.reason}")
        reason = "opted_out" if message.reason == "stop" else "deleted"
        self._emit("followup_skipped", user=job.user, trace=job.trace, reason=reason)
        metrics.FOLLOWUPS.labels(outcome="skipped").inc()

    def _receipt(self, message: FollowUpReceipt) -> None:
        flight = self._in_flight.pop(message.job_id, None)
        job = self._jobs.get(message.job_id) or (flight[0] if flight else None)
        if job is None:
            log.info("followup.receipt_unknown outcome=%s", message.outcome)
            return
        self._wake.set()  # a slot in the window is free
        if message.outcome == "failed" and job.attempts + 1 < MAX_ATTEMPTS:
            current = self._jobs.get(message.job_id)
            if current is not None:  # else superseded by a newer review meanwhile: nothing to retry
                self._retry(current)
            return
        outcome = "gave_up" if message.outcome == "failed" else message.outcome
        if message.job_id in self._jobs:
            self._finish(message.job_id, outcome)  # durable before the receipt is acknowledged
        metrics.FOLLOWUPS.labels(outcome=message.outcome).inc()
        if message.outcome == "sent":
            self._emit("followup_sent", user=job.user, trace=job.trace, attempts=job.attempts + 1)
        else:
            self._emit(
                "followup_failed",
                user=job.user,
                trace=job.trace,
                reason=message.outcome,
                final=True,
            )

    def _retry(self, job: FollowUpJob) -> None:
        attempts = job.attempts + 1
        later = to_utc(self._clock.now() + retry_delay_s(attempts))
        retried = replace(
            job,
            attempts=attempts,
            next_try_at=out_of_quiet_hours(later, self._settings.quiet_hours, self._zone),
        )
        if job.job_id in self._jobs:
            self._remove(job.job_id)
        self._add(retried)
        self._mark_dirty()
        metrics.FOLLOWUPS.labels(outcome="retry").inc()
        self._emit("followup_failed", user=job.user, trace=job.trace, reason="failed", final=False)

    # ------------------------------------------------------------ the timer

    async def dispatch_loop(self) -> None:
        while True:
            self._wake = anyio.Event()  # before looking at the state: no lost wake-ups
            now = self._clock.now()
            self._expire_in_flight(now)
            if len(self._in_flight) >= self._max_in_flight:
                oldest = min(sent_at for _, sent_at in self._in_flight.values())
                await self._sleep(oldest + RECEIPT_TIMEOUT_S)
                continue
            head = self._peek()
            if head is None:
                await self._sleep(None)
                continue
            ts, job_id = head
            if ts > now:
                await self._sleep(ts)
                continue
            heapq.heappop(self._heap)
            job = self._jobs[job_id]
            if is_too_late(job, now, max_late_s=self._settings.follow_up_max_late_s):
                self._drop_too_late(job)
                continue
            when = to_utc(now)
            if in_quiet_hours(when, self._settings.quiet_hours, self._zone):
                self._remove(job_id)  # overdue after a night-time restart: wait for morning
                quiet = out_of_quiet_hours(when, self._settings.quiet_hours, self._zone)
                self._add(replace(job, next_try_at=quiet))
                self._mark_dirty()
                continue
            self._in_flight[job_id] = (job, now)
            try:
                await self._to_outbox.send(self._outgoing(job))
            except MailboxClosed:
                self._in_flight.pop(job_id, None)
                self._push(job)  # still pending: it goes out after the restart
                log.info("followup.outbox_closed pending=%d", len(self._jobs))
                return

    def _peek(self) -> tuple[float, str] | None:
        while self._heap:
            ts, seq, job_id = self._heap[0]
            if self._latest_seq.get(job_id) == seq and job_id not in self._in_flight:
                return ts, job_id
            heapq.heappop(self._heap)  # superseded: rescheduled, cancelled or finished
        return None

    async def _sleep(self, deadline: float | None) -> None:
        """Until `deadline` (None: forever) or until something wakes the timer earlier."""
        wake = self._wake
        if deadline is None:
            await wake.wait()
            return
        async with anyio.create_task_group() as tg:

            async def alarm() -> None:
                await self._clock.sleep_until(deadline)
                tg.cancel_scope.cancel()

            tg.start_soon(alarm)
            await wake.wait()
            tg.cancel_scope.cancel()

    def _expire_in_flight(self, now: float) -> None:
        for job_id, (job, sent_at) in list(self._in_flight.items()):
            if now - sent_at >= RECEIPT_TIMEOUT_S:
                log.warning("followup.receipt_timeout trace=%s", job.trace)
                self._receipt(FollowUpReceipt(job_id=job_id, outcome="failed"))

    def _finish(self, job_id: str, outcome: str) -> None:
        """The job is done for good: journal it now (fsync); a snapshot folds it in later."""
        self._remove(job_id)
        self._journal(partial(append_finished, self._path, {job_id: outcome}))
        if self._journal_lines >= JOURNAL_COMPACT_AFTER:
            self._mark_dirty()

    def _journal(self, append: _JournalAppend) -> None:
        """Append one record to the journal (fsync). A disk that refuses it (full, read-only)
        leaves the change in memory for the next snapshot, which is retried."""
        try:
            append(at=self._now_dt())
        except OSError as exc:
            self._disk_refused("journal", exc)
            self._mark_dirty()
            return
        self._disk_took()
        self._journal_lines += 1

    def _disk_refused(self, what: str, exc: OSError, *, final: bool = False) -> None:
        """Said once per outage (log and analytics), not once per write; and always at
        shutdown, where what is only in memory is lost."""
        if final:
            log.error(
                "followup.unsaved_at_shutdown kind=%s pending=%d unacknowledged=%d",
                os_error_kind(exc),
                len(self._jobs),
                len(self._unacked),
            )
        if self._disk_outage is None:
            self._disk_outage = what
            log.error("followup.%s_failed kind=%s final=%s", what, os_error_kind(exc), final)
            self._emit("error", user=None, actor="followup", kind=f"{what}_write")

    def _disk_took(self) -> None:
        if self._disk_outage is not None:
            log.warning("followup.disk_recovered after=%s", self._disk_outage)
            self._disk_outage = None

    def _drop_too_late(self, job: FollowUpJob) -> None:
        self._finish(job.job_id, "too_late")
        self._update_gauge()
        metrics.FOLLOWUPS.labels(outcome="too_late").inc()
        late_h = round((self._clock.now() - job.due_at.timestamp()) / 3600, 1)
        self._emit(
            "followup_skipped", user=job.user, trace=job.trace, reason="too_late", late_h=late_h
        )

    def _outgoing(self, job: FollowUpJob) -> Outgoing:
        return Outgoing(
            trace=job.trace,
            chat=job.chat,
            language=job.language,
            kind="followup",
            html=reminder_html(job.language),
            buttons=reminder_buttons(
                self._settings.ai_photos_url, language=job.language, campaign=job.campaign
            ),
            priority=Priority.BACKGROUND,
            replace_placeholder=False,
            receipt=job.job_id,
        )

    # ------------------------------------------------------------ persistence

    async def persist_loop(self) -> None:
        while True:
            if not self._dirty:
                self._dirty_event = anyio.Event()
                await self._dirty_event.wait()
                continue
            not_before = self._last_write + self._debounce_s
            if self._clock.now() < not_before:
                await self._clock.sleep_until(not_before)
            self.write_snapshot()

    def write_snapshot(self, *, final: bool = False) -> None:
        """One atomic snapshot; then the schedulings it covers are acknowledged (analytics)."""
        now = self._clock.now()
        self._last_write = now
        try:
            size = save_snapshot(
                self._path, self._jobs.values(), self._opted_out, saved_at=to_utc(now)
            )
        except OSError as exc:  # disk full, read-only volume: keep the state, try again later
            self._disk_refused("snapshot", exc, final=final)
            return
        self._disk_took()
        self._dirty = False
        self._journal_lines = 0
        log.debug("followup.snapshot pending=%d bytes=%d final=%s", len(self._jobs), size, final)
        acked, self._unacked = self._unacked, []
        for job, delay_s in acked:
            metrics.FOLLOWUPS.labels(outcome="scheduled").inc()
            delay_h = round(delay_s / 3600, 2)  # above FOLLOW_UP_DELAY: moved by quiet hours
            self._emit("followup_scheduled", user=job.user, trace=job.trace, delay_h=delay_h)

    def _mark_dirty(self) -> None:
        self._dirty = True
        self._dirty_event.set()

    # ------------------------------------------------------------ bookkeeping

    def _add(self, job: FollowUpJob) -> None:
        self._jobs[job.job_id] = job
        self._by_user[job.user] = job.job_id
        self._push(job)

    def _push(self, job: FollowUpJob) -> None:
        self._seq += 1
        self._latest_seq[job.job_id] = self._seq
        heapq.heappush(self._heap, (job.next_try_ts, self._seq, job.job_id))
        if len(self._heap) > 2 * len(self._jobs) + 1024:  # too many superseded entries
            self._heap = [e for e in self._heap if self._latest_seq.get(e[2]) == e[1]]
            heapq.heapify(self._heap)
        self._wake.set()

    def _remove(self, job_id: str) -> None:
        job = self._jobs.pop(job_id, None)
        self._latest_seq.pop(job_id, None)
        if job is not None and self._by_user.get(job.user) == job_id:
            del self._by_user[job.user]

    def _update_gauge(self) -> None:
        metrics.FOLLOWUPS_PENDING.set(len(self._jobs))

    def _now_dt(self) -> datetime:
        return to_utc(self._clock.now())

    def _emit(
        self, name: str, *, user: UserRef | None, trace: str | None = None, **fields: Scalar
    ) -> None:
        self._to_analytics.send_nowait(
            event(name, at=self._clock.now(), user=user, trace=trace, **fields)
        )
