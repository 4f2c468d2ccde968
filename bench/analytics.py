"""Analytics benchmark: prints figures, never asserts.

1. Events/s through the analytics actor to disk (batched writes, fsync every 200 ms and at
   shutdown) against the original approach measured in the same run: a lock, open, append
   one json line, close, per event. Targets: >= 100,000 events/s and >= 10x the original.
   Then where the time goes: microseconds per event for each step of both.
2. How long a full mailbox (the supervisor.toml size) takes to drain: the worst wait a burst
   of events can see, and whether anything was dropped.
3. Stats over 30 days of 100,000 events a day (generated once into a cache directory).

    python -m bench.analytics [--events 200000] [--days 30] [--per-day 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import anyio
import anyio.lowlevel
import orjson

from bench.analytics_data import generate_day
from resumebek.actors import analytics
from resumebek.analytics_admin import cache_dir, load_summary
from resumebek.config import Secret, Settings, load_supervisor_config
from resumebek.domain.events import event, validate_event
from resumebek.messages import AnalyticsEvent, UserRef
from resumebek.runtime.clock import SystemClock
from resumebek.runtime.mailbox import Mailbox
from services.analytics_files import DailyWriter

SALT = Secret("bench-salt-0123456789")


def _events(n: int) -> list[AnalyticsEvent]:
    start = time.time()
    return [
        event(
            "resume_analyzed",
            at=start + i / 1000,
            user=UserRef(100_000 + i % 5000),
            trace=f"{i:032x}",
            language=("ru", "kk", "en")[i % 3],
            score=1 + i % 10,
            source="llm",
            model="gpt-4o-mini",
            latency_ms=1000 + i % 5000,
            tokens=2500,
        )
        for i in range(n)
    ]


def baseline(
    events: list[AnalyticsEvent], directory: Path, *, fsync: bool = False
) -> tuple[float, float]:
    """The original bot: one lock, open, append one json line, close, per event (with
    `fsync`: the same, made as durable as the actor's files are)."""
    lock = threading.Lock()
    path = directory / "baseline.jsonl"
    started, cpu = time.perf_counter(), time.process_time()
    for ev in events:
        line = {"ts": ev.at.isoformat(), "event": ev.name, "chat_id": ev.user, **ev.fields}
        with lock, path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
    return _rates(len(events), started, cpu)


def _rates(n: int, started: float, cpu: float) -> tuple[float, float]:
    """Events/s by the wall clock and by this process's CPU time (steadier on a busy box)."""
    return n / (time.perf_counter() - started), n / (time.process_time() - cpu)


async def actor_rate(
    events: list[AnalyticsEvent], data_dir: Path, mailbox: int, batch_max: int
) -> tuple[float, float]:
    """Producers send_nowait in bursts of 1000 while the actor writes; timed until the
    actor has written, fsynced and returned."""
    settings = Settings(data_dir=data_dir, analytics_salt=SALT)
    inbox: Mailbox[AnalyticsEvent] = Mailbox("analytics", mailbox)
    started, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_run_actor, inbox, settings, batch_max)
        for i in range(0, len(events), 1000):
            for ev in events[i : i + 1000]:
                inbox.send_nowait(ev)
            await anyio.lowlevel.checkpoint()
        inbox.close()
    rates = _rates(len(events), started, cpu)
    stats = inbox.stats()
    print(
        f"  mailbox: high water {stats.high_water} of {mailbox}, dropped {stats.dropped}, "
        f"written {_count_lines(data_dir)}"
    )
    return rates


async def _run_actor(inbox: Mailbox[AnalyticsEvent], settings: Settings, batch_max: int) -> None:
    await analytics.run(
        inbox, clock=SystemClock(), settings=settings, flush_interval_s=0.2, batch_max=batch_max
    )


async def burst_drain(
    events: list[AnalyticsEvent], data_dir: Path, mailbox: int, batch_max: int
) -> None:
    """Fill the mailbox in one go (no producer yields), then time the drain."""
    settings = Settings(data_dir=data_dir, analytics_salt=SALT)
    inbox: Mailbox[AnalyticsEvent] = Mailbox("analytics", mailbox)
    burst = events[: mailbox + 1000]
    accepted = sum(inbox.send_nowait(ev) for ev in burst)
    inbox.close()
    started = time.perf_counter()
    await _run_actor(inbox, settings, batch_max)
    elapsed = time.perf_counter() - started
    print(
        f"  burst of {len(burst)} into a mailbox of {mailbox}: accepted {accepted}, "
        f"dropped {inbox.stats().dropped} (counted), drained in {elapsed * 1000:.0f} ms"
    )


def cost_breakdown(events: list[AnalyticsEvent], directory: Path) -> None:
    """CPU microseconds per event for each step of the actor and of the original, measured
    here on the same events: what bounds the ratio."""
    encoder = analytics._Encoder(Settings(timezone="Asia/Almaty").zone, b"bench-salt")
    batches = [events[i : i + 1000] for i in range(0, len(events), 1000)]
    by_day = [lines for batch in batches for lines in encoder.encode_batch(batch).values()]
    blobs: list[bytes] = []

    async def through_mailbox() -> None:
        inbox: Mailbox[AnalyticsEvent] = Mailbox("analytics", 2000)
        for batch in batches:
            for ev in batch:
                inbox.send_nowait(ev)
            async with inbox.take_batch(1000):
                pass

    def validate() -> None:
        for ev in events:
            validate_event(ev)

    def encode() -> None:
        for batch in batches:
            encoder.encode_batch(batch)

    def to_jsonl() -> None:
        blobs.extend(analytics.jsonl(lines) for lines in by_day if lines)

    def write() -> None:
        writer = DailyWriter(directory)
        for blob in blobs:
            writer.append(date(2026, 1, 1), blob)
        writer.close()  # one fsync

    def floor() -> None:
        """The least any Python writer does per event: one dict, then one orjson call per
        batch; no validation, no pseudonym, no local timestamp."""
        for batch in batches:
            orjson.dumps(
                [
                    {"event": ev.name, "user": ev.user, "trace": ev.trace, **ev.fields}
                    for ev in batch
                ]
            )

    steps: list[tuple[str, Callable[[], object]]] = [
        ("mailbox: send_nowait + take_batch", lambda: anyio.run(through_mailbox)),
        ("encode: validate, pseudonym, timestamp, dict", encode),
        ("  of which validate_event", validate),
        ("jsonl: one orjson call per batch", to_jsonl),
        ("write + one fsync", write),
    ]
    print("  where the time goes (CPU microseconds per event):")
    cost: dict[str, float] = {}
    for label, step in steps:
        began = time.process_time()
        step()
        cost[label] = (time.process_time() - began) / len(events) * 1e6
        print(f"    actor     {label:<46} {cost[label]:5.2f}")
    began = time.process_time()
    floor()
    floor_us = (time.process_time() - began) / len(events) * 1e6
    print(f"    floor     {'one dict + one orjson call per batch, no checks':<46} {floor_us:5.2f}")
    sample = events[:20_000]
    rows = [
        {"ts": ev.at.isoformat(), "event": ev.name, "chat_id": ev.user, **ev.fields}
        for ev in sample
    ]
    began = time.process_time()
    texts = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
    dumps_us = (time.process_time() - began) / len(sample) * 1e6
    lock, path = threading.Lock(), directory / "original.jsonl"
    began = time.process_time()
    for text in texts:
        with lock, path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    file_us = (time.process_time() - began) / len(sample) * 1e6
    print(f"    original  {'json.dumps':<46} {dumps_us:5.2f}")
    print(f"    original  {'lock, open, append, close':<46} {file_us:5.2f}")
    # What bounds the ratio: even a writer doing nothing but the floor and the mailbox.
    bare = floor_us + cost["mailbox: send_nowait + take_batch"]
    print(
        f"  10x the original needs <= {(dumps_us + file_us) / 10:.2f} us per event; the floor "
        f"plus the mailbox alone is {bare:.2f} us, at most "
        f"{(dumps_us + file_us) / bare:.1f}x"
    )


def _show(rate: tuple[float, float]) -> str:
    return f"{rate[0]:,.0f} events/s wall, {rate[1]:,.0f} events/s per CPU second"


def _count_lines(data_dir: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in (data_dir / "analytics").glob("*.jsonl"))


def _generate(args: tuple[Path, date, int]) -> int:
    directory, day, n = args
    return generate_day(directory, day, n)


def stats_bench(days: int, per_day: int, cache: Path) -> None:
    end = date(2026, 11, 30)
    directory = cache / "analytics"
    wanted = [end - timedelta(days=i) for i in range(days)]
    missing = [d for d in wanted if not (directory / f"{d.isoformat()}.jsonl").exists()]
    if missing:
        started = time.perf_counter()
        with ProcessPoolExecutor() as pool:
            made = sum(pool.map(_generate, [(directory, d, per_day) for d in missing]))
        print(f"  generated {made:,} events in {time.perf_counter() - started:.1f} s into {cache}")
    size = sum((directory / f"{d.isoformat()}.jsonl").stat().st_size for d in wanted)
    print(f"  {days} days x {per_day:,} events = {days * per_day:,} events, {size / 1e6:.0f} MB")
    settings = Settings(data_dir=cache, analytics_salt=SALT, timezone="Asia/Almaty")
    start = end - timedelta(days=days - 1)
    shutil.rmtree(cache_dir(settings), ignore_errors=True)
    runs: list[tuple[str, int | None, bool]] = [
        ("cold, 1 process", 1, False),
        ("cold, auto processes", None, False),
        ("filling the per-day cache, 1 process", 1, True),
        ("closed days from the cache", 1, True),
    ]
    for label, workers, use_cache in runs:
        began = time.perf_counter()
        summary = load_summary(settings, start, end, workers=workers, use_cache=use_cache)
        elapsed = time.perf_counter() - began
        print(
            f"  stats {start}..{end} ({label}): {elapsed:.2f} s "
            f"({days * per_day / elapsed:,.0f} events/s; users {summary.users:,}, "
            f"reviews {summary.delivered:,}, p95 {summary.review_latency_p95_ms} ms)"
        )
    began = time.perf_counter()
    load_summary(settings, end, end, workers=1, use_cache=False)
    print(
        f"  stats for one uncached day (today, as /stats reads it): {time.perf_counter() - began:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--baseline-events", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=100_000)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "resumebek-bench-analytics",
        help="where the generated days are kept between runs",
    )
    args = parser.parse_args()
    shipped = load_supervisor_config(Settings()).actor("analytics")
    mailbox, batch_max = shipped.mailbox, int(shipped.options["batch_max"])
    print(
        f"analytics bench ({datetime.now():%Y-%m-%d %H:%M}), supervisor.toml: mailbox "
        f"{mailbox}, batch_max {batch_max}"
    )
    events = _events(max(args.events, mailbox + 1000))
    work = Path(tempfile.mkdtemp(prefix="resumebek-bench-"))
    try:
        print("writer:")
        original = baseline(events[: args.baseline_events], work)
        print(f"  original (lock, open, append, close per event): {_show(original)}")
        durable = baseline(events[:500], work, fsync=True)
        print(f"  original + fsync per event (same durability):   {_show(durable)}")
        runs = [
            anyio.run(actor_rate, events[: args.events], work / f"actor{i}", mailbox, batch_max)
            for i in range(3)
        ]
        rate = (sorted(r[0] for r in runs)[1], sorted(r[1] for r in runs)[1])
        print(
            f"  actor (validate, pseudonymize, batch, fsync every 200 ms), median of 3: {_show(rate)}"
        )
        print(
            f"  ratio: {rate[0] / original[0]:.1f}x the original by wall clock, "
            f"{rate[1] / original[1]:.1f}x by CPU time; {rate[0] / durable[0]:.0f}x the durable "
            f"original (targets: >= 100,000 events/s and >= 10x the original)"
        )
        cost_breakdown(events[: args.events], work / "parts")
        anyio.run(burst_drain, events, work / "burst", mailbox, batch_max)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("stats:")
    stats_bench(args.days, args.per_day, args.cache)


if __name__ == "__main__":
    main()
