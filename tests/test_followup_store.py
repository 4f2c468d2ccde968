from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from resumebek.domain.followup import FollowUpJob
from resumebek.messages import ChatRef, UserRef
from services.followup_store import (
    COLUMNS,
    append_finished,
    encode_snapshot,
    journal_path,
    load_snapshot,
    save_snapshot,
)

NOW = datetime(2026, 3, 2, 7, tzinfo=UTC)


def _job(n: int, *, campaign: str | None = None) -> FollowUpJob:
    due = NOW + timedelta(hours=n)
    return FollowUpJob(
        job_id=f"{n:032x}",
        trace=f"trace{n}",
        chat=ChatRef(1000 + n),
        user=UserRef(1000 + n),
        language="kk",
        campaign=campaign,
        due_at=due,
        next_try_at=due + timedelta(minutes=5),
        attempts=n % 3,
    )


def test_snapshot_round_trips_with_format_and_version(tmp_path: Path) -> None:
    path = tmp_path / "followup_jobs.json"
    jobs = [_job(n, campaign="uni" if n % 2 else None) for n in range(5)]
    save_snapshot(path, jobs, {UserRef(7), UserRef(3)}, saved_at=NOW)
    doc = orjson.loads(path.read_bytes())
    assert doc["format"] == "resumebek.followup_jobs" and doc["version"] == 1
    assert doc["opted_out"] == [3, 7]
    loaded = load_snapshot(path, now=NOW.timestamp(), default_language="en")
    assert loaded.status == "ok" and loaded.quarantined_to is None
    assert loaded.jobs == jobs
    assert loaded.opted_out == {3, 7}


def test_missing_file_is_a_clean_start(tmp_path: Path) -> None:
    loaded = load_snapshot(tmp_path / "followup_jobs.json", now=0, default_language="en")
    assert loaded.status == "missing" and loaded.jobs == [] and loaded.quarantined_to is None


def test_journal_removes_finished_jobs_and_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "followup_jobs.json"
    save_snapshot(path, [_job(n) for n in range(4)], (), saved_at=NOW)
    append_finished(path, {_job(0).job_id: "sent"}, at=NOW)
    append_finished(path, {_job(1).job_id: "blocked", _job(2).job_id: "too_late"}, at=NOW)
    with journal_path(path).open("ab") as f:
        f.write(b'{"job_id":"' + _job(3).job_id.encode()[:10])  # a crash mid-append
    loaded = load_snapshot(path, now=NOW.timestamp(), default_language="en")
    assert [j.job_id for j in loaded.jobs] == [_job(3).job_id]
    assert loaded.finished_in_journal == 3


def test_a_new_snapshot_empties_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "followup_jobs.json"
    append_finished(path, {"x": "sent"}, at=NOW)
    assert journal_path(path).stat().st_size > 0
    save_snapshot(path, [], (), saved_at=NOW)
    assert journal_path(path).stat().st_size == 0


def test_torn_snapshot_is_quarantined_and_whole_records_recovered(tmp_path: Path) -> None:
    path = tmp_path / "followup_jobs.json"
    data = encode_snapshot([_job(n) for n in range(3)], {UserRef(5)}, saved_at=NOW)
    path.write_bytes(data[: len(data) - 40])
    loaded = load_snapshot(path, now=NOW.timestamp(), default_language="en")
    assert loaded.status == "torn"
    assert [j.job_id for j in loaded.jobs] == [_job(0).job_id, _job(1).job_id]
    assert loaded.opted_out == {5}
    assert loaded.quarantined_to is not None
    assert loaded.quarantined_to.name.startswith("followup_jobs.json.corrupt-20260302T0700")
    assert not path.exists()


def test_garbage_is_quarantined_with_nothing_recovered(tmp_path: Path) -> None:
    path = tmp_path / "followup_jobs.json"
    path.write_bytes(b"\x00\xff not json {")
    loaded = load_snapshot(path, now=NOW.timestamp(), default_language="en")
    assert loaded.status == "torn" and loaded.jobs == []
    assert loaded.quarantined_to is not None and loaded.quarantined_to.exists()


def test_bad_records_are_dropped_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "followup_jobs.json"
    good = orjson.loads(encode_snapshot([_job(1)], (), saved_at=NOW))["jobs"][0]
    due, user, chat = (COLUMNS.index(c) for c in ("due_at", "user", "chat"))

    def variant(index: int, value: object, job_id: str) -> list[object]:
        row = list(good)
        row[index] = value
        row[0] = job_id
        return row

    naive = variant(due, "2026-03-02T10:00:00", "naive")
    no_user = variant(user, None, "nouser")
    bool_chat = variant(chat, True, "boolchat")
    other_language = variant(COLUMNS.index("language"), "xx", good[0])
    path.write_bytes(
        orjson.dumps(
            {
                "format": "resumebek.followup_jobs",
                "version": 1,
                "opted_out": [],
                "columns": COLUMNS,
                "jobs": [good, naive, no_user, bool_chat, "junk", good[:3], other_language],
            }
        )
    )
    loaded = load_snapshot(path, now=NOW.timestamp(), default_language="ru")
    assert loaded.status == "ok"
    assert [j.job_id for j in loaded.jobs] == [good[0]]  # the same id twice: one job
    assert [reason for _, reason in loaded.dropped] == ["bad_record"] * 5


def test_legacy_list_gets_the_default_language_and_user_from_chat(tmp_path: Path) -> None:
    path = tmp_path / "followup_jobs.json"
    path.write_bytes(
        b'[{"job_id":"u1-1","chat_id":1,"run_at":"2025-03-02T12:00:00+05:00","kind":"followup_24h"}]'
    )
    loaded = load_snapshot(path, now=NOW.timestamp(), default_language="kk")
    assert loaded.status == "legacy"
    (job,) = loaded.jobs
    assert (job.user, job.chat, job.language) == (1, 1, "kk")
    assert job.due_at == datetime(2025, 3, 2, 7, tzinfo=UTC)
