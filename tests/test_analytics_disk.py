"""The analytics writer when the disk refuses (full, read-only, I/O errors): the bot keeps
going, lines wait in order and are written once, losses are counted and reported."""

from __future__ import annotations

import errno
import logging
import os
from datetime import date
from pathlib import Path

import pytest
from anyio import wait_all_tasks_blocked

from resumebek import metrics
from resumebek.actors import analytics
from resumebek.domain.events import event
from services import analytics_files
from tests.fakes import FakeClock
from tests.test_analytics_actor import lines_of, local_ts, make_settings, running_actor

DAY_FILE = "2026-05-10.jsonl"


class FlakyDisk:
    """Stands in for `os` inside services.analytics_files; everything else is the real os."""

    def __init__(self) -> None:
        self.full = False  # writes fail with ENOSPC
        self.partial = False  # ... after letting part of the next write through
        self.read_only = False  # opening for writing fails with EROFS
        self.fsync_fails = False  # fsync fails with EIO

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    def write(self, fd: int, data: memoryview) -> int:
        if self.full:
            if self.partial:
                self.partial = False
                return os.write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(fd, data)

    def open(self, path: Path, flags: int, mode: int = 0o777) -> int:
        if self.read_only and flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, "Read-only file system")
        return os.open(path, flags, mode)

    def fsync(self, fd: int) -> None:
        if self.fsync_fails:
            raise OSError(errno.EIO, "Input/output error")
        os.fsync(fd)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> FlakyDisk:
    flaky = FlakyDisk()
    monkeypatch.setattr(analytics_files, "os", flaky)
    return flaky


@pytest.fixture(autouse=True)
def _warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="resumebek.actors.analytics")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(local_ts(2026, 5, 10, 12, 0, 0))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """The day file the events of `clock` go to."""
    return tmp_path / "analytics" / DAY_FILE


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def _traces(path: Path) -> list[object]:
    return [row["trace"] for row in lines_of(path) if row["event"] == "followup_sent"]


def _messages(caplog: pytest.LogCaptureFixture, prefix: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix)]


async def test_a_full_disk_keeps_the_lines_in_order_until_it_takes_them(
    tmp_path: Path, disk: FlakyDisk, clock: FakeClock, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    errors = _sample("resumebek_analytics_write_errors_total", operation="write")

    async def send(i: int) -> None:
        inbox.send_nowait(event("followup_sent", at=clock.now(), trace=f"{i:x}"))
        await wait_all_tasks_blocked()

    async with running_actor(make_settings(tmp_path), clock) as inbox:
        for i in range(2):
            await send(i)
        disk.full = disk.partial = True  # the first failing write gets half-way
        for i in range(2, 6):
            await send(i)
        clock.advance(0.25)  # a flush tick retries: still full
        await wait_all_tasks_blocked()
        assert _traces(path) == ["0", "1"]  # no torn or half line: cut back
        assert _sample("resumebek_analytics_unwritten_lines") == 4
        disk.full = False
        clock.advance(0.25)
        await wait_all_tasks_blocked()
        assert _traces(path) == [f"{i:x}" for i in range(6)]
        await send(6)
    assert _traces(path) == [f"{i:x}" for i in range(7)]  # each once, in order
    # the first refusal and one retry per flush tick, not one per batch
    assert _sample("resumebek_analytics_write_errors_total", operation="write") == errors + 2
    assert _messages(caplog, "analytics.write_failed") == [
        "analytics.write_failed kind=ENOSPC"  # once for the whole outage
    ]
    assert _messages(caplog, "analytics.write_recovered") == [
        "analytics.write_recovered after=write:ENOSPC"
    ]


async def test_beyond_the_backlog_the_oldest_lines_are_dropped_and_reported(
    tmp_path: Path, disk: FlakyDisk, clock: FakeClock, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analytics, "MAX_UNWRITTEN_LINES", 3)
    async with running_actor(make_settings(tmp_path), clock) as inbox:
        await wait_all_tasks_blocked()
        disk.full = True
        for i in range(5):
            inbox.send_nowait(event("followup_sent", at=clock.now(), trace=f"{i:x}"))
            await wait_all_tasks_blocked()
        disk.full = False
        clock.advance(0.25)
        await wait_all_tasks_blocked()
    rows = lines_of(path)
    assert [r["trace"] for r in rows if r["event"] == "followup_sent"] == ["2", "3", "4"]
    dropped = [r for r in rows if r["event"] == "analytics_dropped"]
    assert [(r["count"], r["invalid"]) for r in dropped] == [(2, 0)]


async def test_a_failing_fsync_is_reported_and_the_writer_goes_on(
    tmp_path: Path, disk: FlakyDisk, clock: FakeClock, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fsync_errors = _sample("resumebek_analytics_write_errors_total", operation="fsync")
    async with running_actor(make_settings(tmp_path), clock) as inbox:
        disk.fsync_fails = True
        inbox.send_nowait(event("followup_sent", at=clock.now(), trace="1"))
        await wait_all_tasks_blocked()
        clock.advance(0.25)
        await wait_all_tasks_blocked()
        disk.fsync_fails = False
        inbox.send_nowait(event("followup_sent", at=clock.now(), trace="2"))
    assert _traces(path) == ["1", "2"]
    assert _sample("resumebek_analytics_write_errors_total", operation="fsync") > fsync_errors
    assert _messages(caplog, "analytics.fsync_failed") == ["analytics.fsync_failed kind=EIO"]


async def test_lines_the_disk_never_takes_are_reported_at_shutdown(
    tmp_path: Path, disk: FlakyDisk, clock: FakeClock, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dropped = _sample("resumebek_analytics_events_dropped_total")
    async with running_actor(make_settings(tmp_path), clock) as inbox:
        await wait_all_tasks_blocked()
        disk.full = True
        for i in range(3):
            inbox.send_nowait(event("followup_sent", at=clock.now(), trace=f"{i:x}"))
    # the actor returned normally (running_actor would raise otherwise), and said so
    assert _messages(caplog, "analytics.unwritten_at_shutdown") == [
        "analytics.unwritten_at_shutdown lines=3"
    ]
    assert _sample("resumebek_analytics_events_dropped_total") == dropped + 3


async def test_a_read_only_volume_at_start_does_not_stop_the_writer(
    tmp_path: Path, disk: FlakyDisk, clock: FakeClock, path: Path
) -> None:
    _write(path, b'{"v":1,"ts":"2026-05-10T11:00:00.000+05:00","event":"quota_hit"}\n{"v":1,')
    disk.read_only = True  # e.g. remounted read-only after an error, fixed by ops later
    async with running_actor(make_settings(tmp_path), clock) as inbox:
        inbox.send_nowait(event("followup_sent", at=clock.now(), trace="a"))
        await wait_all_tasks_blocked()
        disk.read_only = False
        clock.advance(0.25)
        await wait_all_tasks_blocked()
    rows = lines_of(path)  # the torn tail was cut before the first append
    assert [r["event"] for r in rows] == ["quota_hit", "followup_sent"]


def test_when_the_cut_back_fails_too_the_torn_line_is_cut_on_reopen(
    tmp_path: Path, disk: FlakyDisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = analytics_files.DailyWriter(tmp_path)
    day = date(2026, 5, 10)
    writer.append(day, b'{"n":1}\n')
    disk.full = disk.partial = True

    def refuse(fd: int, size: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(disk, "ftruncate", refuse, raising=False)
    with pytest.raises(OSError, match="No space"):
        writer.append(day, b'{"n":2}\n{"n":3}\n')  # half of it reaches the file
    disk.full = False
    writer.append(day, b'{"n":4}\n')
    writer.close()
    # the whole line that got through stays; the torn one is gone; nothing is glued together
    assert (tmp_path / DAY_FILE).read_bytes() == b'{"n":1}\n{"n":2}\n{"n":4}\n'
