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
from collections import deque
from datetime import UTC, date, datetime, timedelta, tzinfo

import anyio
import orjson

from resumebek import metrics
from resumebek.config import Settings
from resumebek.domain.events import EVENT_NAMES, SCHEMA_VERSION, validate_event
from resumebek.domain.privacy import pseudonym
from resumebek.errors import os_error_kind
from resumebek.messages import AnalyticsEvent, Scalar
from resumebek.runtime.mailbox import Mailbox
from services.analytics_files import DailyWriter, analytics_dir, load_salt, remove_expired
from services.ports import Clock

log = logging.getLogger(__name__)

# Mailbox drops already reported, per mailbox: the mailbox outlives restarts of this actor.
_reported_drops: weakref.WeakKeyDictionary[Mailbox[AnalyticsEvent], int] = (
    weakref.WeakKeyDictionary()
)


Line = dict[str, Scalar]

# ".000" ... ".999": the milliseconds of a timestamp, formatted once.
_MILLIS = [f".{ms:03d}" for ms in range(1000)]
_EMPTY_WINDOW = datetime.min.replace(tzinfo=UTC)


class _Encoder:
    """AnalyticsEvent → one JSON line in the file of its local day; invalid events are
    counted and left out.

    This loop is the writer's whole cost per event, so it keeps the common case inline: the
    last second seen is formatted once (events come roughly in time order), pseudonyms are
    remembered, and validation takes its fast path."""

    def __init__(self, zone: tzinfo, salt: bytes) -> None:
        self._zone = zone
        self._salt = salt
        self._users: dict[int, str] = {}
        self.invalid = 0
        # The last second seen, [lo, hi) in UTC, and its local form.
        self._lo = self._hi = _EMPTY_WINDOW
        self._prefix = ""
        self._offset = ""
        self._day = date.min

    def _enter_second(self, at: datetime) -> None:
        """Format the second holding `at`: 2026-12-03T16:45:12 (+ ms) +05:00, and its day."""
        second = math.floor(at.timestamp())
        self._lo = datetime.fromtimestamp(second, UTC)
        self._hi = self._lo + timedelta(seconds=1)
        local = datetime.fromtimestamp(second, self._zone)
        self._prefix = local.strftime("%Y-%m-%dT%H:%M:%S")
        self._offset = local.isoformat()[19:]
        self._day = local.date()

    def _pseudonym(self, user: int) -> str:
        ref = self._users.get(user)
        if ref is None:
            if len(self._users) >= 100_000:  # bounded memory; HMAC is cheap to redo
                self._users.clear()
            ref = self._users[user] = pseudonym(user, self._salt)
        return ref

    def encode_batch(self, batch: list[AnalyticsEvent]) -> dict[date, list[Line]]:
        """The lines of `batch`, grouped by local day, in the order the events came."""
        by_day: dict[date, list[Line]] = {}
        day = self._day
        lines = by_day.setdefault(day, [])
        lo, hi, prefix, offset = self._lo, self._hi, self._prefix, self._offset
        users, millis = self._users, _MILLIS
        for ev in batch:
            name, fields, at, user, trace = ev.name, ev.fields, ev.at, ev.user, ev.trace
            problem = validate_event(ev)
            if problem is not None:
                self._refuse(name, problem)
                continue
            if not lo <= at < hi:
                self._enter_second(at)
                lo, hi, prefix, offset = self._lo, self._hi, self._prefix, self._offset
                if self._day != day:
                    day = self._day
                    lines = by_day.setdefault(day, [])
            ref = None if user is None else (users.get(user) or self._pseudonym(user))
            if "user_ref" in fields:  # pseudonymized by the producer (a click token)
                fields = dict(fields)
                given = fields.pop("user_ref")
                if ref is None and isinstance(given, str):
                    ref = given
            line: Line = {
                "v": SCHEMA_VERSION,
                "ts": prefix + millis[at.microsecond // 1000] + offset,
                "event": name,
                "user": ref,
                "trace": trace,
            }
            line.update(fields)
            lines.append(line)
        return by_day

    def _refuse(self, name: str, problem: str) -> None:
        self.invalid += 1
        log.debug(
            "analytics.invalid event=%s problem=%s", name if name in EVENT_NAMES else "?", problem
        )


def jsonl(lines: list[Line]) -> bytes:
    """Flat JSON objects as JSON lines, with one orjson call for all of them: the array's
    `},{` separators become newlines. That is right only when no value holds a brace, which
    a count proves (n flat objects have exactly n `{`); otherwise, one call per line."""
    blob = orjson.dumps(lines)
    if blob.count(b"{") == len(lines):
        return blob[1:-1].replace(b"},{", b"}\n{") + b"\n" if lines else b""
    return b"".join(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE) for line in lines)


# Lines kept in memory while the disk refuses them (full, read-only, failing): about 12 MB
# at ~250 bytes a line. Beyond that the oldest are dropped, counted and reported.
MAX_UNWRITTEN_LINES = 50_000


class _Output:
    """The day files, and the lines they refused. When a write fails (disk full, read-only
    volume, I/O error), the lines wait here in order, go first on each flush tick, and the
    bot keeps reviewing meanwhile; an outage is logged when it starts and when it ends, and
    every failure is counted in metrics."""

    def __init__(self, writer: DailyWriter, max_unwritten: int) -> None:
        self.writer = writer
        self._max_unwritten = max_unwritten
        self._waiting: deque[tuple[date, bytes, int]] = deque()
        self.waiting_lines = 0
        self.lost = 0  # lines dropped from a full backlog (reported as analytics_dropped)
        self._outage: str | None = None  # the error of the outage in progress

    def append(self, day: date, data: bytes, lines: int) -> None:
        if not self._waiting and self._write(day, data, lines):
            return
        self._waiting.append((day, data, lines))  # behind older lines: order is kept
        self.waiting_lines += lines
        while self.waiting_lines > self._max_unwritten and len(self._waiting) > 1:
            _, _, dropped = self._waiting.popleft()
            self.waiting_lines -= dropped
            self.lost += dropped
        metrics.ANALYTICS_UNWRITTEN.set(self.waiting_lines)

    def retry(self) -> None:
        """Write what waits, oldest first, up to the first refusal."""
        while self._waiting:
            day, data, lines = self._waiting[0]
            if not self._write(day, data, lines):
                break
            self._waiting.popleft()
            self.waiting_lines -= lines
        metrics.ANALYTICS_UNWRITTEN.set(self.waiting_lines)

    def sync(self) -> None:
        if self.writer.dirty:
            try:
                self.writer.sync()
            except OSError as exc:  # the kernel may have dropped those pages: say so
                self._failed("fsync", exc)

    def close(self) -> None:
        """On shutdown: a last try for what waits, then fsync and close; what still cannot
        be written is reported, not silently lost."""
        self.retry()
        try:
            self.writer.close()
        except OSError as exc:
            self._failed("fsync", exc)
        if self.waiting_lines:
            metrics.ANALYTICS_DROPPED.inc(self.waiting_lines)
            log.error("analytics.unwritten_at_shutdown lines=%d", self.waiting_lines)

    def _write(self, day: date, data: bytes, lines: int) -> bool:
        try:
            self.writer.append(day, data)
        except OSError as exc:
            self._failed("write", exc)
            return False
        metrics.ANALYTICS_WRITTEN.inc(lines)
        if self._outage is not None:
            log.warning("analytics.write_recovered after=%s", self._outage)
            self._outage = None
        return True

    def _failed(self, operation: str, exc: OSError) -> None:
        kind = os_error_kind(exc)
        metrics.ANALYTICS_WRITE_ERRORS.labels(operation=operation).inc()
        outage = f"{operation}:{kind}"
        if outage != self._outage:  # once per outage, not once per batch
            self._outage = outage
            log.error("analytics.%s_failed kind=%s", operation, kind)


def _write_batch(batch: list[AnalyticsEvent], encoder: _Encoder, output: _Output) -> None:
    """Append a batch, one write per day touched."""
    for day, lines in encoder.encode_batch(batch).items():
        if lines:
            output.append(day, jsonl(lines), len(lines))


class _Upkeep:
    """The timer side: retries, fsync, retention, drop reports. Runs in the actor's own task
    group."""

    def __init__(
        self,
        inbox: Mailbox[AnalyticsEvent],
        output: _Output,
        encoder: _Encoder,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self.inbox = inbox
        self.output = output
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
        try:
            removed = remove_expired(
                self.output.writer.directory, today, self.settings.analytics_retention_days
            )
        except OSError as exc:  # tried again tomorrow; the files are only kept longer
            log.error("analytics.retention_failed kind=%s", os_error_kind(exc))
            return
        if removed:
            log.info("analytics.retention removed_files=%d oldest=%s", len(removed), removed[0])

    def report_drops(self) -> None:
        """Count mailbox drops, lines the disk never took and invalid events in metrics and
        in the files themselves (an `analytics_dropped` line), so `resumebek stats` shows
        them."""
        dropped_so_far = self.inbox.stats().dropped
        full = max(dropped_so_far - _reported_drops.get(self.inbox, 0), 0)
        lost, self.output.lost = self.output.lost, 0
        invalid = self.encoder.invalid - self.invalid_reported
        if full <= 0 and lost <= 0 and invalid <= 0:
            return
        _reported_drops[self.inbox] = dropped_so_far
        self.invalid_reported = self.encoder.invalid
        metrics.ANALYTICS_DROPPED.inc(full + lost + invalid)
        log.warning(
            "analytics.dropped mailbox_full=%d unwritten=%d invalid=%d", full, lost, invalid
        )
        now = datetime.fromtimestamp(self.clock.now(), self.zone)
        line = {
            "v": SCHEMA_VERSION,
            "ts": now.isoformat(timespec="milliseconds"),
            "event": "analytics_dropped",
            "user": None,
            "trace": None,
            "count": full + lost,
            "invalid": invalid,
        }
        self.output.append(now.date(), orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE), 1)

    def flush(self) -> None:
        self.output.retry()
        self.report_drops()
        self.output.sync()

    async def run(self, interval_s: float) -> None:
        while True:
            await self.clock.sleep_until(self.clock.now() + interval_s)
            self.flush()
            self.retention()  # a no-op until the local date changes


async def _consume(
    inbox: Mailbox[AnalyticsEvent], encoder: _Encoder, output: _Output, batch_max: int
) -> None:
    while True:
        try:
            # Everything already queued goes into one write; the batch is one in-flight
            # record, so a crash redelivers it (once) like any other message.
            async with inbox.take_batch(batch_max) as batch:
                _write_batch(batch, encoder, output)
        except anyio.EndOfStream:
            return


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
    try:
        repaired = writer.repair_all()
    except OSError as exc:  # the first append tries again, and reports what it finds
        log.error("analytics.repair_failed kind=%s", os_error_kind(exc))
    else:
        if repaired:
            log.warning("analytics.torn_tail_repaired bytes=%d", repaired)
    output = _Output(writer, MAX_UNWRITTEN_LINES)
    upkeep = _Upkeep(inbox, output, encoder, clock, settings)
    upkeep.retention()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(upkeep.run, flush_interval_s)
            await _consume(inbox, encoder, output, batch_max)
            tg.cancel_scope.cancel()
    finally:
        try:
            upkeep.report_drops()
        finally:
            output.close()  # write what waits, fsync; also when cancelled or crashing
