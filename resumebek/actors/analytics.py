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
from datetime import UTC, date, datetime, timedelta, tzinfo

import anyio
import orjson

from resumebek import metrics
from resumebek.config import Settings
from resumebek.domain.events import EVENT_NAMES, SCHEMA_VERSION, validate_event
from resumebek.domain.privacy import pseudonym
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


def _write_batch(batch: list[AnalyticsEvent], encoder: _Encoder, writer: DailyWriter) -> int:
    """Append a batch, one write per day touched; returns the number of lines written."""
    written = 0
    for day, lines in encoder.encode_batch(batch).items():
        if lines:
            writer.append(day, jsonl(lines))
            written += len(lines)
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
    while True:
        try:
            # Everything already queued goes into one write; the batch is one in-flight
            # record, so a crash redelivers it (once) like any other message.
            async with inbox.take_batch(batch_max) as batch:
                written = _write_batch(batch, encoder, writer)
        except anyio.EndOfStream:
            return
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
