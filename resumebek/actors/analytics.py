"""Analytics actor: the only writer of DATA_DIR/analytics/ (no lock: one owner).

Consumes AnalyticsEvent from every actor (sent with send_nowait). Validates each event,
pseudonymizes its user, and appends it to the day file of its own timestamp in TIMEZONE.
Writes what has queued at once, fsyncs at most every `flush_interval_s` and on shutdown,
removes expired files at start and once a day, and reports dropped events.
"""

from __future__ import annotations

import logging
import math
import weakref
from datetime import date, datetime, tzinfo

import anyio
import orjson

from resumebek import metrics
from resumebek.config import Settings
from resumebek.domain.events import EVENT_NAMES, SCHEMA_VERSION, valid_trace, validate_fields
from resumebek.domain.privacy import pseudonym
from resumebek.messages import AnalyticsEvent
from resumebek.runtime.mailbox import Mailbox
from services.analytics_files import DailyWriter, analytics_dir, load_salt, remove_expired
from services.ports import Clock

log = logging.getLogger(__name__)

# Mailbox.done() is linear in the number of messages in flight: take at most this many at
# once. One write() of this many lines is already as cheap per line as a bigger one.
_CHUNK = 512

# Mailbox drops already reported, per mailbox: the mailbox outlives restarts of this actor.
_reported_drops: weakref.WeakKeyDictionary[Mailbox[AnalyticsEvent], int] = (
    weakref.WeakKeyDictionary()
)


class _Encoder:
    """AnalyticsEvent → (local day, one JSON line), or None for an invalid event."""

    def __init__(self, zone: tzinfo, salt: bytes) -> None:
        self._zone = zone
        self._salt = salt
        self._users: dict[int, str] = {}
        self.invalid = 0
        # The last second seen, formatted in the zone: events come roughly in time order.
        self._second = -1
        self._prefix = ""
        self._offset = ""
        self._day = date.min

    def _local(self, at: datetime) -> tuple[date, str]:
        """The local day and an ISO timestamp with offset, e.g. 2026-12-03T16:45:12.123+05:00."""
        second = math.floor(at.timestamp())
        if second != self._second:
            local = datetime.fromtimestamp(second, self._zone)
            self._second = second
            self._prefix = local.strftime("%Y-%m-%dT%H:%M:%S")
            self._offset = local.isoformat()[19:]
            self._day = local.date()
        return self._day, f"{self._prefix}.{at.microsecond // 1000:03d}{self._offset}"

    def _pseudonym(self, user: int) -> str:
        ref = self._users.get(user)
        if ref is None:
            if len(self._users) >= 100_000:  # bounded memory; HMAC is cheap to redo
                self._users.clear()
            ref = self._users[user] = pseudonym(user, self._salt)
        return ref

    def encode(self, ev: AnalyticsEvent) -> tuple[date, bytes] | None:
        problem = validate_fields(ev.name, ev.fields)
        if problem is None:
            if not valid_trace(ev.trace):
                problem = "bad_trace"
            elif not isinstance(ev.at, datetime) or ev.at.tzinfo is None:
                problem = "bad_timestamp"
            elif ev.user is not None and (type(ev.user) is not int):
                problem = "bad_user"
        if problem is not None:
            self.invalid += 1
            name = ev.name if ev.name in EVENT_NAMES else "?"
            log.debug("analytics.invalid event=%s problem=%s", name, problem)
            return None
        day, ts = self._local(ev.at)
        fields = ev.fields
        user = None if ev.user is None else self._pseudonym(ev.user)
        if "user_ref" in fields:  # pseudonymized by the producer (a click token)
            fields = dict(fields)
            ref = fields.pop("user_ref")
            if user is None and isinstance(ref, str):
                user = ref
        line: dict[str, object] = {
            "v": SCHEMA_VERSION,
            "ts": ts,
            "event": ev.name,
            "user": user,
            "trace": ev.trace,
        }
        line.update(fields)
        return day, orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


def _write_batch(batch: list[AnalyticsEvent], encoder: _Encoder, writer: DailyWriter) -> int:
    """Append a batch, one write per day touched; returns the number of lines written."""
    by_day: dict[date, list[bytes]] = {}
    written = 0
    for ev in batch:
        encoded = encoder.encode(ev)
        if encoded is None:
            continue
        day, line = encoded
        lines = by_day.get(day)
        if lines is None:
            lines = by_day[day] = []
        lines.append(line)
        written += 1
    for day, lines in by_day.items():
        writer.append(day, b"".join(lines))
    return written


class _Upkeep:
    """The timer side: fsync, retention, drop reports. Runs in the actor's own task group."""

    def __init__(
        self,
        inbox: Mailbox[AnalyticsEvent],
        writer: DailyWriter,
        encoder: _Encoder,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self.inbox = inbox
        self.writer = writer
        self.encoder = encoder
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.retention_day: date | None = None
        self.invalid_reported = 0
        _reported_drops.setdefault(inbox, 0)

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock.now(), self.zone).date()

    def retention(self) -> None:
        today = self.today()
        if today == self.retention_day:
            return
        self.retention_day = today
        removed = remove_expired(
            self.writer.directory, today, self.settings.analytics_retention_days
        )
        if removed:
            log.info("analytics.retention removed_files=%d oldest=%s", len(removed), removed[0])

    def report_drops(self) -> None:
        """Count mailbox drops and invalid events in metrics and in the files themselves
        (an `analytics_dropped` line), so `resumebek stats` shows them."""
        dropped_so_far = self.inbox.stats().dropped
        full = dropped_so_far - _reported_drops.get(self.inbox, 0)
        invalid = self.encoder.invalid - self.invalid_reported
        if full <= 0 and invalid <= 0:
            return
        _reported_drops[self.inbox] = dropped_so_far
        self.invalid_reported = self.encoder.invalid
        metrics.ANALYTICS_DROPPED.inc(max(full, 0) + invalid)
        log.warning("analytics.dropped mailbox_full=%d invalid=%d", max(full, 0), invalid)
        now = datetime.fromtimestamp(self.clock.now(), self.zone)
        line = {
            "v": SCHEMA_VERSION,
            "ts": now.isoformat(timespec="milliseconds"),
            "event": "analytics_dropped",
            "user": None,
            "trace": None,
            "count": max(full, 0),
            "invalid": invalid,
        }
        self.writer.append(now.date(), orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))

    def flush(self) -> None:
        self.report_drops()
        if self.writer.dirty:
            self.writer.sync()

    async def run(self, interval_s: float) -> None:
        while True:
            await self.clock.sleep_until(self.clock.now() + interval_s)
            self.flush()
            self.retention()  # a no-op until the local date changes


async def _consume(
    inbox: Mailbox[AnalyticsEvent], encoder: _Encoder, writer: DailyWriter, batch_max: int
) -> None:
    chunk = max(1, min(batch_max, _CHUNK))
    while True:
        try:
            first = await inbox.receive()
        except anyio.EndOfStream:
            return
        batch = [first]
        # Everything already queued goes into this write (receive() does not block then).
        for _ in range(min(inbox.stats().depth, chunk - 1)):
            batch.append(await inbox.receive())
        written = _write_batch(batch, encoder, writer)
        for ev in batch:
            inbox.done(ev)
        if written:
            metrics.ANALYTICS_WRITTEN.inc(written)


async def run(
    inbox: Mailbox[AnalyticsEvent],
    *,
    clock: Clock,
    settings: Settings,
    flush_interval_s: float,
    batch_max: int,
) -> None:
    encoder = _Encoder(settings.zone, load_salt(settings))
    writer = DailyWriter(analytics_dir(settings))
    repaired = writer.repair_all()
    if repaired:
        log.warning("analytics.torn_tail_repaired bytes=%d", repaired)
    upkeep = _Upkeep(inbox, writer, encoder, clock, settings)
    upkeep.retention()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(upkeep.run, flush_interval_s)
            await _consume(inbox, encoder, writer, batch_max)
            tg.cancel_scope.cancel()
    finally:
        try:
            upkeep.report_drops()
        finally:
            writer.close()  # flush + fsync on shutdown, also when cancelled or crashing
