from __future__ import annotations

import errno
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import orjson
import pytest

from resumebek.actors import followup
from resumebek.domain.followup import FollowUpJob
from resumebek.messages import (
    CancelFollowUp,
    ChatRef,
    FollowUpReceipt,
    Priority,
    Requester,
    ScheduleFollowUp,
    UrlButton,
    UserRef,
)
from resumebek.runtime.mailbox import Mailbox
from services.followup_store import (
    COLUMNS,
    append_scheduled,
    encode_snapshot,
    load_snapshot,
    save_snapshot,
)
from tests.followup_harness import ALMATY, almaty, harness, settle

DAY = 24 * 3600.0
NOON = almaty(2026, 3, 2, 12)  # a Monday noon in Almaty: outside quiet hours


@pytest.fixture(autouse=True)
def _process_tz_is_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quiet hours must not depend on the process time zone: run every test in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def _write(path: Path, jobs: list[FollowUpJob], opted_out: tuple[int, ...] = ()) -> None:
    users = [UserRef(u) for u in opted_out]
    path.write_bytes(encode_snapshot(jobs, users, saved_at=datetime.now(UTC)))


def _job(user: int, due: float, *, job_id: str | None = None) -> FollowUpJob:
    at = datetime.fromtimestamp(due, UTC)
    return FollowUpJob(
        job_id=job_id or f"job{user}",
        trace=f"t{user}",
        chat=ChatRef(user),
        user=UserRef(user),
        language="ru",
        due_at=at,
        next_try_at=at,
    )


def _files(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in data_dir.iterdir() if p.is_file()}


def _put_back(data_dir: Path, files: dict[str, bytes]) -> None:
    for p in data_dir.iterdir():
        p.unlink()
    for name, data in files.items():
        (data_dir / name).write_bytes(data)


def _aside(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("followup_jobs.json.corrupt-*"))


def _saved(path: Path) -> dict[str, object]:
    doc = orjson.loads(path.read_bytes())
    assert isinstance(doc, dict)
    return doc


def _pending_users(path: Path) -> list[int]:
    jobs = _saved(path)["jobs"]
    assert isinstance(jobs, list)
    return sorted(row[COLUMNS.index("user")] for row in jobs)


async def test_schedule_sends_one_reminder_after_the_delay(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON, ai_photos_url="https://t.me/photo_bot")
    async with h.running():
        await h.schedule(42, lang="kk", campaign="uni")
        await h.advance(DAY - 1)
        assert h.outbox.items == []
        await h.advance(1)
        assert len(h.outbox.items) == 1
    sent = h.outbox.items[0]
    assert sent.kind == "followup" and sent.priority is Priority.BACKGROUND
    assert sent.replace_placeholder is False and sent.language == "kk"
    assert sent.receipt is not None and "hh.kz" in sent.html
    ((button,),) = sent.buttons
    assert isinstance(button, UrlButton)
    query = parse_qs(urlsplit(button.url).query)
    assert query["utm_campaign"] == ["followup"] and query["utm_term"] == ["uni"]
    assert "42" not in button.url
    assert len(h.events("followup_scheduled")) == 1
    assert len(h.events("followup_sent")) == 1
    assert _pending_users(h.snapshot) == []


async def test_scheduling_is_acknowledged_only_after_the_snapshot_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[int] = []

    def counting_save(
        path: Path, jobs: Iterable[FollowUpJob], opted_out: Iterable[UserRef], *, saved_at: datetime
    ) -> int:
        listed = list(jobs)
        writes.append(len(listed))
        return save_snapshot(path, listed, opted_out, saved_at=saved_at)

    monkeypatch.setattr(followup, "save_snapshot", counting_save)
    h = harness(tmp_path, start=NOON)
    async with h.running(debounce_s=1.0):
        await h.advance(1)  # the start-up write (no file yet) is behind us
        writes.clear()
        for user in range(50):
            await h.schedule(user)  # a burst within one debounce interval
        assert len(h.events("followup_scheduled")) == 1  # only the one on disk
        assert writes == [1]  # the first went out at once; the other 49 wait for the debounce
        await h.advance(1)
        assert writes == [1, 50]
        assert len(h.events("followup_scheduled")) == 50
        assert _pending_users(h.snapshot) == list(range(50))
    assert writes[-1] == 50  # and one more on shutdown


async def test_a_new_review_reschedules_the_one_pending_reminder(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.schedule(7)
        await h.advance(2 * 3600)
        await h.schedule(7)
        await h.advance(1)
        assert _pending_users(h.snapshot) == [7]  # one per user
        await h.advance(DAY - 2 * 3600)
        assert h.outbox.items == []
        await h.advance(2 * 3600)
        assert h.outbox.users() == [7]
        await h.advance(3 * DAY, step=3600)
    assert h.outbox.users() == [7]


async def test_stop_cancels_and_opts_out_across_restarts(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.schedule(5)
        await h.schedule(6)
        await h.cancel(5, "stop")
        await h.advance(2 * DAY, step=3600)
    assert h.outbox.users() == [6]
    assert "opted_out" in h.reasons("followup_skipped")
    assert _saved(h.snapshot)["opted_out"] == [5]
    async with h.running():
        await h.schedule(5)  # a new review after /stop: still no reminder
        await h.advance(2 * DAY, step=3600)
    assert h.outbox.users() == [6]
    assert h.reasons("followup_skipped").count("opted_out") == 2


async def test_delete_cancels_and_forgets_the_user(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.schedule(5)
        await h.cancel(5, "stop")
        await h.cancel(5, "delete")
        await h.advance(1)
        assert _saved(h.snapshot)["opted_out"] == []
        await h.schedule(5)  # after /delete the user starts afresh
        await h.advance(DAY)
    assert h.outbox.users() == [5]


async def test_a_cancelled_reminder_stays_cancelled_after_a_crash_before_the_snapshot(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "followup_jobs.json", [_job(9, NOON + DAY)])
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.schedule(10)  # a snapshot now: the next one is debounced for a second
        await h.cancel(9, "delete")
        files = _files(tmp_path)  # SIGKILL here: before the next snapshot
    _put_back(tmp_path, files)
    assert _pending_users(h.snapshot) == [9, 10]  # the snapshot still has it ...
    async with h.running():
        await h.advance(2 * DAY, step=3600)
    assert h.outbox.users() == [10]  # ... but the journal remembered the cancellation


async def test_follow_up_disabled_schedules_nothing(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON, follow_up=False)
    async with h.running():
        await h.schedule(1)
        await h.advance(3 * DAY, step=3600)
    assert h.outbox.items == [] and h.events("followup_scheduled") == []


async def test_quiet_hours_move_a_23h_reminder_to_10_next_morning(tmp_path: Path) -> None:
    assert time.localtime(0).tm_zone == "UTC"
    h = harness(tmp_path, start=almaty(2026, 3, 1, 23))
    async with h.running():
        await h.schedule(3)  # due 23:00 Almaty on March 2nd
        await h.advance(almaty(2026, 3, 3, 10) - h.clock.now() - 1, step=1800)
        assert h.outbox.items == []
        await h.advance(1)
        assert h.outbox.users() == [3]
    sent_at = datetime.fromtimestamp(h.clock.now(), ALMATY)
    assert (sent_at.day, sent_at.hour, sent_at.minute) == (3, 10, 0)


async def test_overdue_reminders_are_sent_on_restore(tmp_path: Path) -> None:
    now = NOON
    _write(tmp_path / "followup_jobs.json", [_job(1, now - 2 * 3600), _job(2, now + 3600)])
    h = harness(tmp_path, start=now)
    async with h.running():
        await h.advance(1)
        assert h.outbox.users() == [1]
        await h.advance(3600)
    assert h.outbox.users() == [1, 2]


async def test_an_overdue_reminder_found_at_night_waits_for_the_morning(tmp_path: Path) -> None:
    night = almaty(2026, 3, 2, 23)
    _write(tmp_path / "followup_jobs.json", [_job(1, night - 3 * 3600)])
    h = harness(tmp_path, start=night)
    async with h.running():
        await h.advance(almaty(2026, 3, 3, 10) - night - 1, step=1800)
        assert h.outbox.items == []
        await h.advance(1)
    assert h.outbox.users() == [1]


async def test_too_late_reminders_are_dropped_with_an_event(tmp_path: Path) -> None:
    now = NOON
    _write(tmp_path / "followup_jobs.json", [_job(1, now - 73 * 3600), _job(2, now - 71 * 3600)])
    h = harness(tmp_path, start=now)
    async with h.running():
        await h.advance(1)
    assert h.outbox.users() == [2]
    assert h.reasons("followup_skipped") == ["too_late"]
    assert _pending_users(h.snapshot) == []


async def test_sent_receipt_is_durable_so_a_restart_does_not_send_again(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.schedule(1)
        await h.advance(DAY - 0.5)  # a snapshot now: the next one is debounced for a second
        await h.advance(0.5)
        assert h.outbox.users() == [1]
        files = _files(tmp_path)  # SIGKILL right after the receipt was handled
    _put_back(tmp_path, files)
    assert _pending_users(h.snapshot) == [1]  # the snapshot still lists the job ...
    async with h.running():
        await h.advance(2 * DAY, step=3600)
    assert h.outbox.users() == [1]  # ... but the journal says it was sent


async def test_blocked_and_deactivated_are_final(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON)
    h.outbox.answer = lambda m: "blocked" if m.chat == 1 else "deactivated"
    async with h.running():
        await h.schedule(1)
        await h.schedule(2)
        await h.advance(DAY)
        await h.advance(3 * DAY, step=60)
    assert sorted(h.outbox.users()) == [1, 2]
    assert sorted(str(r) for r in h.reasons("followup_failed")) == ["blocked", "deactivated"]
    assert _pending_users(h.snapshot) == []


async def test_failed_sends_are_retried_with_backoff_then_given_up(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON)
    h.outbox.answer = lambda m: "failed"
    async with h.running():
        await h.schedule(1)
        await h.advance(DAY)
        assert len(h.outbox.items) == 1
        await h.advance(59)
        assert len(h.outbox.items) == 1  # backoff: not before a minute
        await h.advance(1)
        assert len(h.outbox.items) == 2
        await h.advance(240)
        assert len(h.outbox.items) == 3
        await h.advance(DAY, step=60)
    assert len(h.outbox.items) == 3
    failed = h.events("followup_failed")
    assert [e.fields["final"] for e in failed] == [False, False, True]
    assert _pending_users(h.snapshot) == []


async def test_a_send_without_receipt_at_shutdown_is_resent_once_after_restart(
    tmp_path: Path,
) -> None:
    h = harness(tmp_path, start=NOON)
    h.outbox.answer = lambda m: None  # the process dies before the outbox answers
    async with h.running():
        await h.schedule(1)
        await h.schedule(2)
        await h.advance(DAY)
        assert h.outbox.users() == [1]  # window of one: the second waits for the receipt
    h.outbox.answer = lambda m: "sent"
    async with h.running():
        await h.advance(1)
    assert h.outbox.users() == [1, 1, 2]  # the duplicate window is that one send


async def test_empty_snapshot_is_quarantined_and_the_actor_starts(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures/followup/followup_jobs_empty_file.json"
    (tmp_path / "followup_jobs.json").write_bytes(fixture.read_bytes())
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.schedule(1)
        await h.advance(DAY)
    assert h.outbox.users() == [1]
    aside = _aside(tmp_path)
    assert len(aside) == 1 and aside[0].read_bytes() == b""
    assert _saved(h.snapshot)["version"] == 1


async def test_torn_snapshot_is_quarantined_and_what_parses_is_recovered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "followup_jobs.json"
    _write(path, [_job(u, NOON + 3600) for u in (111111, 222222, 333333)])
    whole = path.read_bytes()
    torn = whole[: whole.index(b'"job333333"') + 5]
    path.write_bytes(torn)
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.advance(3600)
    assert sorted(h.outbox.users()) == [111111, 222222]
    (aside,) = _aside(tmp_path)
    assert aside.read_bytes() == torn
    assert "followup.snapshot_bad status=torn" in caplog.text
    assert "111111" not in caplog.text  # no ids in logs


async def test_a_newer_format_is_kept_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "followup_jobs.json"
    path.write_bytes(b'{"format":"resumebek.followup_jobs","version":99,"jobs":[]}')
    h = harness(tmp_path, start=NOON)
    async with h.running():
        pass
    (aside,) = _aside(tmp_path)
    assert b'"version":99' in aside.read_bytes()


async def test_burst_of_120_due_the_same_minute_is_delivered_exactly_once_each(
    tmp_path: Path,
) -> None:
    fixture = Path(__file__).parent / "fixtures/followup/followup_jobs_burst_120_same_minute.json"
    (tmp_path / "followup_jobs.json").write_bytes(fixture.read_bytes())
    start = datetime(2025, 3, 2, 11, 59, tzinfo=ALMATY).timestamp()
    h = harness(tmp_path, start=start, default_language="ru")
    stop_after = 50
    h.outbox.answer = lambda m: "sent" if len(h.outbox.items) <= stop_after else None
    async with h.running():
        await h.advance(60)
        assert len(h.outbox.items) == stop_after + 1  # the window holds: one unanswered send
    h.outbox.answer = lambda m: "sent"
    async with h.running():  # a restart in the middle of the burst
        await h.advance(60)
    users = h.outbox.users()
    assert sorted(set(users)) == list(range(800000000, 800000120))
    duplicates = len(users) - len(set(users))
    assert duplicates == 1  # only the one in flight at the restart
    assert all(m.language == "ru" for m in h.outbox.items)
    assert len(h.events("followup_sent")) == 120
    assert _pending_users(h.snapshot) == []


async def test_legacy_overdue_and_duplicates(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures/followup/followup_jobs_overdue_and_duplicates.json"
    (tmp_path / "followup_jobs.json").write_bytes(fixture.read_bytes())
    start = datetime(2020, 1, 2, 6, tzinfo=UTC).timestamp()  # 11:00 in Almaty (then UTC+6)
    h = harness(tmp_path, start=start)
    async with h.running():
        await h.advance(1)
    assert sorted(h.outbox.users()) == [3001, 3002]  # 30 h and 6 h late, the duplicate once
    assert h.reasons("followup_skipped") == ["unknown_kind"]
    assert _pending_users(h.snapshot) == [3003]  # due in 2099
    assert not _aside(tmp_path)  # a readable old format is not corrupt


async def test_legacy_jobs_far_past_max_late_are_dropped(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures/followup/followup_jobs_overdue_and_duplicates.json"
    (tmp_path / "followup_jobs.json").write_bytes(fixture.read_bytes())
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.advance(1)
    assert h.outbox.items == []
    assert sorted(str(r) for r in h.reasons("followup_skipped")) == [
        "too_late",
        "too_late",
        "unknown_kind",
    ]
    assert _pending_users(h.snapshot) == [3003]


async def test_snapshot_times_are_aware(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.schedule(1)
    jobs = _saved(h.snapshot)["jobs"]
    assert isinstance(jobs, list)
    due = datetime.fromisoformat(jobs[0][COLUMNS.index("due_at")])
    assert due.utcoffset() == timedelta(0)
    assert due.timestamp() == NOON + DAY
    assert os.stat(h.snapshot).st_mode & 0o077 == 0  # private to the bot's user


async def test_late_receipts_from_a_previous_incarnation_finish_the_job(tmp_path: Path) -> None:
    _write(tmp_path / "followup_jobs.json", [_job(1, NOON + DAY, job_id="abc")])
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.inbox.send(FollowUpReceipt(job_id="abc", outcome="sent"))
        await h.advance(2 * DAY, step=3600)
    assert h.outbox.items == [] and len(h.events("followup_sent")) == 1


async def test_a_failed_snapshot_delays_the_acknowledgement_and_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [OSError(28, "No space left on device")]

    def flaky_save(
        path: Path, jobs: Iterable[FollowUpJob], opted_out: Iterable[UserRef], *, saved_at: datetime
    ) -> int:
        if failures:
            raise failures.pop()
        return save_snapshot(path, jobs, opted_out, saved_at=saved_at)

    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.advance(1)
        monkeypatch.setattr(followup, "save_snapshot", flaky_save)
        await h.schedule(1)
        assert h.events("followup_scheduled") == []  # not durable yet
        assert [e.fields["kind"] for e in h.events("error")] == ["snapshot_write"]
        await h.advance(1)  # the next debounce tick writes it
        assert len(h.events("followup_scheduled")) == 1
    assert _pending_users(h.snapshot) == [1]


async def test_cancelling_the_actor_still_writes_a_final_snapshot(tmp_path: Path) -> None:
    h = harness(tmp_path, start=NOON)
    inbox: Mailbox[ScheduleFollowUp | CancelFollowUp | FollowUpReceipt] = Mailbox("f", 10)
    who = Requester(chat=ChatRef(1), user=UserRef(1), ui_language="ru")
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                partial(
                    followup.run,
                    inbox,
                    to_outbox=h.outbox,
                    to_analytics=h.analytics,
                    clock=h.clock,
                    settings=h.settings,
                    debounce_s=60.0,
                )
            )
            await settle()
            for user in (1, 2):
                await inbox.send(
                    ScheduleFollowUp(
                        trace="t",
                        who=replace(who, chat=ChatRef(user), user=UserRef(user)),
                        delivered_at=NOON,
                    )
                )
            await settle()
            tg.cancel_scope.cancel()  # e.g. the supervisor's shutdown timeout ran out
    assert _pending_users(h.snapshot) == [1, 2]


async def test_analytics_carry_no_raw_ids(tmp_path: Path) -> None:
    user = 987654321
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.schedule(user, campaign="uni")
        await h.advance(DAY)
    assert {e.name for e in h.analytics.items} == {"followup_scheduled", "followup_sent"}
    for e in h.analytics.items:
        assert e.user == user  # pseudonymized by the analytics actor, never a field
        assert str(user) not in repr(e.fields) and str(user) not in repr(e)
        assert e.at.tzinfo is not None
        assert e.trace is not None and re.fullmatch(r"[0-9a-f]{1,64}", e.trace)
    assert h.events("followup_scheduled")[0].fields == {"delay_h": 24.0}


async def test_legacy_jobs_get_hex_traces(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures/followup/followup_jobs_overdue_and_duplicates.json"
    (tmp_path / "followup_jobs.json").write_bytes(fixture.read_bytes())
    h = harness(tmp_path, start=datetime(2020, 1, 2, 6, tzinfo=UTC).timestamp())
    async with h.running():
        await h.advance(1)
    assert h.outbox.items and all(re.fullmatch(r"[0-9a-f]{32}", m.trace) for m in h.outbox.items)


async def test_a_schedule_is_on_disk_before_the_debounced_snapshot(tmp_path: Path) -> None:
    """What a SIGKILL right after a review would leave: no snapshot yet, only the journal.
    The load run lost 42 of 198 reminders this way before schedules were journaled."""
    h = harness(tmp_path, start=NOON)
    async with h.running(debounce_s=3600):
        await h.schedule(7)
        await h.schedule(8)
        await h.advance(1)  # within the debounce of the start-up snapshot: none written
        assert _pending_users(h.snapshot) == []
        crashed = load_snapshot(h.snapshot, now=h.clock.now(), default_language="en")
        assert sorted(j.user for j in crashed.jobs) == [7, 8]


async def test_a_full_disk_keeps_schedules_in_memory_until_a_snapshot_takes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    disk_full = False
    real_scheduled, real_save = append_scheduled, save_snapshot

    def refuse(real: Callable[..., int | None]) -> Callable[..., int | None]:
        def write(*args: object, **kwargs: object) -> int | None:
            if disk_full:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(*args, **kwargs)

        return write

    monkeypatch.setattr(followup, "append_scheduled", refuse(real_scheduled))
    monkeypatch.setattr(followup, "save_snapshot", refuse(real_save))
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.advance(1)
        disk_full = True
        await h.schedule(1)
        await h.schedule(2)  # the actor is still up: each schedule is kept in memory
        await h.advance(3, step=1)  # snapshots are retried and refused too
        assert [e.fields["kind"] for e in h.events("error")] == ["journal_write"]  # once
        assert h.events("followup_scheduled") == []  # nothing is on disk yet
        disk_full = False
        await h.advance(1)
        assert len(h.events("followup_scheduled")) == 2
    assert _pending_users(h.snapshot) == [1, 2]
    said = [r.getMessage() for r in caplog.records if r.name == "resumebek.actors.followup"]
    assert [m for m in said if "journal_failed" in m or "snapshot_failed" in m] == [
        "followup.journal_failed kind=ENOSPC final=False"
    ]
    assert "followup.disk_recovered after=journal" in said


async def test_schedules_only_in_memory_at_shutdown_are_said_to_be_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness(tmp_path, start=NOON)
    async with h.running():
        await h.advance(1)

        def full(*args: object, **kwargs: object) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(followup, "append_scheduled", full)
        monkeypatch.setattr(followup, "save_snapshot", full)
        await h.schedule(1)
    assert "followup.unsaved_at_shutdown kind=ENOSPC pending=1 unacknowledged=1" in (
        caplog.messages
    )
