"""The analytics actor: the single writer of DATA_DIR/analytics/."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import orjson
import pytest
from anyio import wait_all_tasks_blocked
from anyio.lowlevel import checkpoint
from hypothesis import given
from hypothesis import strategies as st

from resumebek.actors import analytics
from resumebek.config import Secret, Settings
from resumebek.domain.events import event
from resumebek.domain.privacy import pseudonym
from resumebek.messages import AnalyticsEvent, UserRef
from resumebek.runtime.mailbox import Mailbox
from tests.conftest import FIXTURES, shared_path
from tests.fakes import FakeClock

ALMATY = ZoneInfo("Asia/Almaty")
SALT = "test-salt-0123456789abcdef"


def make_settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(data_dir=tmp_path, analytics_salt=Secret(SALT), **extra)  # type: ignore[arg-type]


def local_ts(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=ALMATY).timestamp()


def lines_of(path: Path) -> list[dict[str, object]]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return [orjson.loads(line) for line in data.splitlines()]


@asynccontextmanager
async def running_actor(
    settings: Settings, clock: FakeClock, *, size: int = 20_000
) -> AsyncIterator[Mailbox[AnalyticsEvent]]:
    """Run the actor; on exit close its mailbox and wait until it has drained and stopped."""
    inbox: Mailbox[AnalyticsEvent] = Mailbox("analytics", size)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                partial(
                    analytics.run,
                    inbox,
                    clock=clock,
                    settings=settings,
                    flush_interval_s=0.2,
                    batch_max=5000,
                )
            )
            yield inbox
            inbox.close()


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts fsync calls made by the file layer (they still happen for real)."""
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)  # services.analytics_files calls os.fsync
    return calls


async def test_fifty_concurrent_producers_each_event_once_in_order(tmp_path: Path) -> None:
    clock = FakeClock(local_ts(2026, 5, 10, 12, 0, 0))
    settings = make_settings(tmp_path)
    per_producer = 200

    async def producer(inbox: Mailbox[AnalyticsEvent], n: int) -> None:
        for i in range(per_producer):
            ok = inbox.send_nowait(
                event(
                    "resume_analyzed",
                    at=clock.now() + i / 1000,
                    user=UserRef(1000 + n),
                    trace=f"{n:04x}{i:04x}",
                    language="ru",
                    score=7,
                    source="llm",
                    latency_ms=n * 1000 + i,  # encodes producer and sequence
                )
            )
            assert ok
            if i % 7 == 0:
                await checkpoint()  # interleave with the other producers and the writer

    async with running_actor(settings, clock) as inbox:
        async with anyio.create_task_group() as producers:
            for n in range(50):
                producers.start_soon(producer, inbox, n)

    rows = lines_of(tmp_path / "analytics" / "2026-05-10.jsonl")
    assert len(rows) == 50 * per_producer
    seen: dict[int, list[int]] = {}
    for row in rows:
        value = row["latency_ms"]
        assert isinstance(value, int)
        seen.setdefault(value // 1000, []).append(value % 1000)
    assert sorted(seen) == list(range(50))
    assert all(seq == list(range(per_producer)) for seq in seen.values())
    assert inbox.stats().dropped == 0
    assert list((tmp_path / "analytics").iterdir()) == [tmp_path / "analytics" / "2026-05-10.jsonl"]


async def test_full_mailbox_drops_are_counted_and_reported(tmp_path: Path) -> None:
    clock = FakeClock(local_ts(2026, 5, 10, 12, 0, 0))
    async with running_actor(make_settings(tmp_path), clock, size=10) as inbox:
        accepted = sum(
            inbox.send_nowait(event("quota_hit", at=clock.now(), trace=f"{i:x}")) for i in range(25)
        )  # no checkpoint: the writer cannot run, so the mailbox fills up
        assert accepted == 10
    rows = lines_of(tmp_path / "analytics" / "2026-05-10.jsonl")
    assert [r["event"] for r in rows].count("quota_hit") == 10
    dropped = [r for r in rows if r["event"] == "analytics_dropped"]
    assert dropped and sum(int(r["count"]) for r in dropped) == 15  # type: ignore[call-overload]


async def test_midnight_in_almaty_while_the_process_runs_in_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        # The clock says a UTC afternoon of another day: the event's own timestamp decides.
        clock = FakeClock(datetime(2025, 6, 1, 12, 0, tzinfo=UTC).timestamp())
        settings = make_settings(tmp_path, timezone="Asia/Almaty")
        before = local_ts(2025, 3, 1, 23, 59, 59)
        after = local_ts(2025, 3, 2, 0, 0, 1)
        async with running_actor(settings, clock) as inbox:
            inbox.send_nowait(event("user_started", at=before, user=UserRef(1)))
            inbox.send_nowait(event("resume_received", at=after, user=UserRef(1), format="pdf"))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    first = lines_of(tmp_path / "analytics" / "2025-03-01.jsonl")
    second = lines_of(tmp_path / "analytics" / "2025-03-02.jsonl")
    assert [r["event"] for r in first] == ["user_started"]
    assert [r["event"] for r in second] == ["resume_received"]
    assert first[0]["ts"] == "2025-03-01T23:59:59.000+05:00"
    assert second[0]["ts"] == "2025-03-02T00:00:01.000+05:00"


@pytest.mark.parametrize("source", ["fixture", "shared"])
async def test_torn_last_line_is_cut_at_start_and_appends_continue_on_a_fresh_line(
    tmp_path: Path, source: str
) -> None:
    case = (
        FIXTURES / "analytics" / "analytics_torn_last_line.jsonl"
        if source == "fixture"
        else shared_path("cases", "analytics_torn_last_line.jsonl")
    )
    target = tmp_path / "analytics" / "2025-03-02.jsonl"
    target.parent.mkdir(parents=True)
    shutil.copy(case, target)
    original = case.read_bytes()
    intact = original[: original.rfind(b"\n") + 1]
    clock = FakeClock(local_ts(2025, 3, 2, 0, 5))
    async with running_actor(
        make_settings(tmp_path, analytics_retention_days=100_000), clock
    ) as inbox:
        await wait_all_tasks_blocked()
        assert target.read_bytes() == intact  # repaired at start, before any event
        inbox.send_nowait(event("review_delivered", at=clock.now(), language="kk"))
    data = target.read_bytes()
    assert data.startswith(intact)
    rows = lines_of(target)  # every line parses now
    assert rows[-1]["event"] == "review_delivered"
    assert len(rows) == intact.count(b"\n") + 1


async def test_pseudonyms_are_stable_and_raw_ids_never_reach_the_files(tmp_path: Path) -> None:
    clock = FakeClock(local_ts(2026, 5, 10, 12, 0, 0))
    raw_ids = [987654321, 123456789012, 55555]
    async with running_actor(make_settings(tmp_path), clock) as inbox:
        for raw in raw_ids * 2:
            inbox.send_nowait(event("user_started", at=clock.now(), user=UserRef(raw)))
            inbox.send_nowait(event("cta_clicked", at=clock.now(), user=UserRef(raw)))
    path = tmp_path / "analytics" / "2026-05-10.jsonl"
    text = path.read_text()
    for raw in raw_ids:
        assert str(raw) not in text
    rows = lines_of(path)
    users = [r["user"] for r in rows]
    expected = [pseudonym(raw, SALT.encode()) for raw in raw_ids]
    assert users == [u for raw in expected * 2 for u in (raw, raw)]
    assert len(set(users)) == 3
    assert all(r["v"] == 1 for r in rows)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


async def test_invalid_events_are_dropped_counted_and_never_written(tmp_path: Path) -> None:
    clock = FakeClock(local_ts(2026, 5, 10, 12, 0, 0))
    bad = [
        event("resume_received", at=clock.now(), file_name="Aigerim_CV.pdf"),  # not allowed
        event("resume_rejected", at=clock.now(), reason="user aigerim@mail.kz"),  # bad value
        event("resume_analyzed", at=clock.now(), language="de"),  # not a language we write
        event("user_started", at=clock.now(), campaign="77011234567"),  # a phone, not a word
        event("resume_analyzed", at=clock.now(), model="x" * 100),  # too long
        event("error", at=clock.now(), trace="not hex!"),
    ]
    good = event("resume_rejected", at=clock.now(), reason="not_resume")
    async with running_actor(make_settings(tmp_path), clock) as inbox:
        for ev in [*bad, good]:
            inbox.send_nowait(ev)
    text = (tmp_path / "analytics" / "2026-05-10.jsonl").read_text()
    for needle in ("Aigerim", "aigerim", "77011234567", "xxxxxxxxxx", "not hex", '"de"'):
        assert needle not in text
    rows = lines_of(tmp_path / "analytics" / "2026-05-10.jsonl")
    assert [r["event"] for r in rows] == ["resume_rejected", "analytics_dropped"]
    assert rows[1]["invalid"] == len(bad) and rows[1]["count"] == 0


async def test_writes_at_once_and_fsyncs_at_most_every_flush_interval(
    tmp_path: Path, fsyncs: list[int]
) -> None:
    clock = FakeClock(local_ts(2026, 5, 10, 12, 0, 0))
    path = tmp_path / "analytics" / "2026-05-10.jsonl"
    async with running_actor(make_settings(tmp_path), clock) as inbox:
        await wait_all_tasks_blocked()
        fsyncs.clear()
        for i in range(3):
            inbox.send_nowait(event("followup_sent", at=clock.now(), trace=f"{i:x}"))
            await wait_all_tasks_blocked()
        assert len(lines_of(path)) == 3  # readers see the events before any fsync
        assert fsyncs == []
        clock.advance(0.15)
        await wait_all_tasks_blocked()
        assert fsyncs == []  # not yet: at most every 200 ms
        clock.advance(0.1)
        await wait_all_tasks_blocked()
        assert len(fsyncs) >= 1
        synced = len(fsyncs)
        clock.advance(0.2)
        await wait_all_tasks_blocked()
        assert len(fsyncs) == synced  # nothing new written: nothing to sync
        inbox.send_nowait(event("followup_sent", at=clock.now()))
        await wait_all_tasks_blocked()
        after_write = len(fsyncs)
    assert len(fsyncs) > after_write  # shutdown syncs what is left
    assert len(lines_of(path)) == 4


async def test_retention_at_start_and_once_a_day(tmp_path: Path) -> None:
    directory = tmp_path / "analytics"
    directory.mkdir()
    days = [date(2026, 4, d) for d in (1, 9, 10, 11, 12)] + [date(2026, 5, 9)]
    for day in days:
        (directory / f"{day.isoformat()}.jsonl").write_bytes(b"")
    (directory / "notes.txt").write_bytes(b"not ours")
    # 2026-05-10 with 30 days kept: 2026-04-11 .. 2026-05-10
    clock = FakeClock(local_ts(2026, 5, 10, 23, 59, 0))
    async with running_actor(make_settings(tmp_path, analytics_retention_days=30), clock):
        await wait_all_tasks_blocked()
        left = sorted(p.name for p in directory.iterdir())
        assert left == ["2026-04-11.jsonl", "2026-04-12.jsonl", "2026-05-09.jsonl", "notes.txt"]
        clock.advance(120)  # past local midnight: 2026-04-11 is now out of the window
        await wait_all_tasks_blocked()
        left = sorted(p.name for p in directory.iterdir())
        assert left == ["2026-04-12.jsonl", "2026-05-09.jsonl", "notes.txt"]


async def test_restart_continues_the_same_file(tmp_path: Path) -> None:
    clock = FakeClock(local_ts(2026, 5, 10, 12, 0, 0))
    settings = make_settings(tmp_path)
    for round_ in range(2):
        async with running_actor(settings, clock) as inbox:
            inbox.send_nowait(event("user_started", at=clock.now(), trace=f"{round_:x}"))
    rows = lines_of(tmp_path / "analytics" / "2026-05-10.jsonl")
    assert [r["trace"] for r in rows] == ["0", "1"]


async def test_a_producer_made_pseudonym_becomes_the_user(tmp_path: Path) -> None:
    clock = FakeClock(local_ts(2026, 5, 10, 12, 0, 0))
    ref = pseudonym(42, SALT.encode())
    async with running_actor(make_settings(tmp_path), clock) as inbox:
        inbox.send_nowait(event("cta_clicked", at=clock.now(), language="ru", user_ref=ref))
        inbox.send_nowait(event("cta_clicked", at=clock.now(), user=UserRef(42)))
    rows = lines_of(tmp_path / "analytics" / "2026-05-10.jsonl")
    assert [r["user"] for r in rows] == [ref, ref]
    assert all("user_ref" not in r for r in rows)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from('{},:"\\\n ab\u044f\u2028'), max_size=12),
)


@given(st.lists(st.dictionaries(st.text(max_size=4), _SCALARS, max_size=5), max_size=8))
def test_jsonl_is_exactly_one_orjson_line_per_object(lines: list[analytics.Line]) -> None:
    # Values with braces, "},{" and newlines take the slow path; the result never differs.
    expected = b"".join(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE) for line in lines)
    assert analytics.jsonl(lines) == expected


def test_a_day_change_inside_a_batch_splits_it_between_the_two_files(tmp_path: Path) -> None:
    before = local_ts(2026, 5, 10, 23, 59, 59) + 0.999
    events = [
        event("quota_hit", at=before + i * 0.0005, user=UserRef(7), limit=i) for i in range(4)
    ]
    encoder = analytics._Encoder(ALMATY, SALT.encode())
    by_day = encoder.encode_batch(events)
    assert {d: [line["limit"] for line in lines] for d, lines in by_day.items() if lines} == {
        date(2026, 5, 10): [0, 1],
        date(2026, 5, 11): [2, 3],
    }
    assert [line["ts"] for line in by_day[date(2026, 5, 11)]] == [
        "2026-05-11T00:00:00.000+05:00",
        "2026-05-11T00:00:00.000+05:00",
    ]
