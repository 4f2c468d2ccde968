"""followup_jobs.json (snapshot) and followup_jobs.journal (finished jobs since it), read and written.

Snapshot, version 1 (orjson; times are aware ISO 8601, written in UTC as "...Z"):
    {"format": "resumebek.followup_jobs", "version": 1, "saved_at": "...",
     "opted_out": [user ids], "columns": [COLUMNS...], "jobs": [[row], ...]}
Jobs are rows in COLUMNS order (a third of the bytes of objects: 100,000 jobs in ~0.1 s);
next_try_at is null when it equals due_at. The original bot's file (a bare list of
{"job_id", "chat_id", "run_at", "kind"}) is read too.

Journal: one JSON line per job that is finished for good (sent, blocked, deactivated, gave up),
appended and fsynced as soon as the outbox confirms, so confirming a send never costs a whole
snapshot. Replayed over the snapshot on start; emptied after every snapshot. Job ids are
unique uuids, so replaying an old line over a newer snapshot is harmless.

A file that cannot be read as a snapshot is moved aside with a timestamp (storage.quarantine)
before anything else is written, and whatever job records still parse in it are recovered.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import orjson

from resumebek.domain.followup import FollowUpJob
from resumebek.messages import LANGUAGES, ChatRef, Language, UserRef, new_trace
from services.storage import gc_paused, quarantine, write_atomic

log = logging.getLogger(__name__)

FORMAT = "resumebek.followup_jobs"
VERSION = 1
LEGACY_KINDS = frozenset({"followup_24h", "followup"})

LoadStatus = Literal["missing", "ok", "legacy", "empty", "torn", "unknown_format"]

COLUMNS = (
    "job_id",
    "trace",
    "chat",
    "user",
    "language",
    "campaign",
    "due_at",
    "next_try_at",
    "attempts",
)
_TIME_OPTIONS = orjson.OPT_UTC_Z
_FLAT_OBJECT = re.compile(rb"\{[^{}]*\}")  # legacy records are flat objects
_FLAT_ARRAY = re.compile(rb"\[[^\[\]{}]*\]")  # rows are flat arrays
_OPTED_OUT = re.compile(rb'"opted_out"\s*:\s*\[([0-9,\s-]*)\]')


@dataclass(slots=True, kw_only=True)
class LoadedSnapshot:
    status: LoadStatus
    jobs: list[FollowUpJob] = field(default_factory=list)
    opted_out: set[UserRef] = field(default_factory=set)
    dropped: list[tuple[UserRef | None, str]] = field(default_factory=list)  # (user, reason)
    finished_in_journal: int = 0
    quarantined_to: Path | None = None


def journal_path(snapshot: Path) -> Path:
    return snapshot.with_name(snapshot.stem + ".journal")


# ---------------------------------------------------------------- writing


def encode_snapshot(
    jobs: Iterable[FollowUpJob], opted_out: Iterable[UserRef], *, saved_at: datetime
) -> bytes:
    rows = [
        (
            j.job_id,
            j.trace,
            j.chat,
            j.user,
            j.language,
            j.campaign,
            j.due_at,
            None if j.next_try_at == j.due_at else j.next_try_at,
            j.attempts,
        )
        for j in jobs
    ]
    return orjson.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "saved_at": saved_at,
            "opted_out": sorted(opted_out),
            "columns": COLUMNS,
            "jobs": rows,
        },
        option=_TIME_OPTIONS,
    )


def save_snapshot(
    path: Path, jobs: Iterable[FollowUpJob], opted_out: Iterable[UserRef], *, saved_at: datetime
) -> int:
    """Write the snapshot atomically, then empty the journal it supersedes; returns bytes written."""
    data = encode_snapshot(jobs, opted_out, saved_at=saved_at)
    write_atomic(path, data)
    journal = journal_path(path)
    if journal.exists():
        os.truncate(journal, 0)
    return len(data)


def append_finished(path: Path, finished: Mapping[str, str], *, at: datetime) -> None:
    """Durably record jobs finished for good (job id → outcome) before they are acknowledged."""
    journal = journal_path(path)
    created = not journal.exists()
    journal.parent.mkdir(parents=True, exist_ok=True)
    lines = b"".join(
        orjson.dumps(
            {"job_id": job_id, "outcome": outcome, "at": at}, option=orjson.OPT_APPEND_NEWLINE
        )
        for job_id, outcome in finished.items()
    )
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        view = memoryview(lines)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:  # the new directory entry must survive a crash too
        dir_fd = os.open(journal.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ---------------------------------------------------------------- reading


def load_snapshot(path: Path, *, now: float, default_language: Language) -> LoadedSnapshot:
    """Read the snapshot and replay the journal. Never raises for bad content: a bad file is
    quarantined (moved aside with a timestamp) and whatever records still parse are kept."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        loaded = LoadedSnapshot(status="missing")
    else:
        with gc_paused():
            loaded = _decode(data, default_language)
        if loaded.status in {"empty", "torn", "unknown_format"}:
            loaded.quarantined_to = quarantine(path, now=now)
    finished = _read_journal(journal_path(path))
    if finished:
        before = len(loaded.jobs)
        loaded.jobs = [job for job in loaded.jobs if job.job_id not in finished]
        loaded.finished_in_journal = before - len(loaded.jobs)
    return loaded


def _decode(data: bytes, default_language: Language) -> LoadedSnapshot:
    if not data.strip():
        return LoadedSnapshot(status="empty")
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _salvage(data, default_language)
    if isinstance(doc, list):  # the original bot's format
        loaded = LoadedSnapshot(status="legacy")
        _add_records(loaded, doc, default_language)
        return loaded
    if (
        isinstance(doc, dict)
        and doc.get("format") == FORMAT
        and doc.get("version") == VERSION
        and doc.get("columns") == list(COLUMNS)
        and isinstance(doc.get("jobs"), list)
    ):
        loaded = LoadedSnapshot(status="ok", opted_out=_users(doc.get("opted_out")))
        _add_rows(loaded, doc["jobs"], default_language)
        return loaded
    return LoadedSnapshot(status="unknown_format")  # e.g. a newer version: keep it aside, untouched


def _salvage(data: bytes, default_language: Language) -> LoadedSnapshot:
    loaded = LoadedSnapshot(status="torn")
    records: list[object] = []
    for match in _FLAT_OBJECT.finditer(data):  # the original bot's records
        try:
            records.append(orjson.loads(match.group()))
        except orjson.JSONDecodeError:
            continue
    _add_records(loaded, records, default_language)
    rows: list[object] = []
    for match in _FLAT_ARRAY.finditer(data):  # our rows
        try:
            row = orjson.loads(match.group())
        except orjson.JSONDecodeError:
            continue
        if isinstance(row, list) and len(row) == len(COLUMNS) and row != list(COLUMNS):
            rows.append(row)
    _add_rows(loaded, rows, default_language)
    found = _OPTED_OUT.search(data)
    if found:
        loaded.opted_out = {UserRef(int(x)) for x in found.group(1).split(b",") if x.strip()}
    return loaded


def _users(raw: object) -> set[UserRef]:
    if not isinstance(raw, list):
        return set()
    return {UserRef(x) for x in raw if isinstance(x, int) and not isinstance(x, bool)}


def _add_records(loaded: LoadedSnapshot, records: list[object], default_language: Language) -> None:
    seen: set[str] = set()
    for rec in records:
        job, reason = _job(rec, default_language)
        if job is None:
            loaded.dropped.append((_user_of(rec), reason))
            continue
        if job.job_id in seen:
            continue  # the same record written twice: one job
        seen.add(job.job_id)
        loaded.jobs.append(job)


def _user_of(rec: object) -> UserRef | None:
    if isinstance(rec, list) and len(rec) == len(COLUMNS):
        rec = {"user": rec[3]}
    if isinstance(rec, dict):
        raw = rec.get("user", rec.get("chat_id"))
        if isinstance(raw, int) and not isinstance(raw, bool):
            return UserRef(raw)
    return None


def _add_rows(loaded: LoadedSnapshot, rows: list[object], default_language: Language) -> None:
    """Version-1 rows. The hot path of a restore (100,000 rows): checks inline, no calls per field."""
    seen: set[str] = set()
    jobs, dropped = loaded.jobs, loaded.dropped
    fromiso, languages = datetime.fromisoformat, _LANGUAGE_SET
    width = len(COLUMNS)
    for row in rows:
        if type(row) is not list or len(row) != width:
            dropped.append((None, "bad_record"))
            continue
        try:
            job_id, trace, chat, user, language, campaign, due_at, next_try_at, attempts = row
            if not (
                type(job_id) is str
                and type(trace) is str
                and type(chat) is int
                and type(user) is int
                and type(attempts) is int
                and type(due_at) is str
                and (campaign is None or type(campaign) is str)
                and (next_try_at is None or type(next_try_at) is str)
                and 0 < len(job_id) <= 128
            ):
                raise TypeError("bad field types")
            due = fromiso(due_at)
            next_try = due if next_try_at is None else fromiso(next_try_at)
            if due.tzinfo is None or next_try.tzinfo is None:
                raise ValueError("naive time: refusing to guess its zone")
        except (TypeError, ValueError):
            dropped.append((_user_of(row), "bad_record"))
            continue
        if job_id in seen:
            continue  # the same record written twice: one job
        seen.add(job_id)
        jobs.append(
            FollowUpJob(
                job_id=job_id,
                trace=trace,
                chat=chat,  # type: ignore[arg-type]  # ChatRef/UserRef: NewTypes of int, no call
                user=user,  # type: ignore[arg-type]
                language=language if language in languages else default_language,
                campaign=campaign,
                due_at=due,
                next_try_at=next_try,
                attempts=attempts,
            )
        )


def _job(rec: object, default_language: Language) -> tuple[FollowUpJob | None, str]:
    """A record of the original bot's list."""
    try:
        if isinstance(rec, dict) and "run_at" in rec:
            if rec.get("kind", "followup_24h") not in LEGACY_KINDS:
                return None, "unknown_kind"
            return _job_from_legacy(rec, default_language), ""
    except (KeyError, TypeError, ValueError):
        pass
    return None, "bad_record"


def _job_from_legacy(rec: dict[str, object], default_language: Language) -> FollowUpJob:
    chat = _int(rec["chat_id"])
    due = _aware(rec["run_at"])
    job_id = _str(rec["job_id"])
    return FollowUpJob(
        job_id=job_id,
        trace=new_trace(),  # traces are hex (the analytics writer checks); old ids are not
        chat=ChatRef(chat),
        user=UserRef(chat),  # private chats: the chat id is the user id
        language=default_language,
        due_at=due,
        next_try_at=due,
    )


_LANGUAGE_SET = frozenset(LANGUAGES)


def _int(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TypeError("expected an integer")
    return raw


def _str(raw: object) -> str:
    if not isinstance(raw, str) or not raw or len(raw) > 128:
        raise TypeError("expected a short string")
    return raw


def _aware(raw: object) -> datetime:
    if not isinstance(raw, str):
        raise TypeError("expected an ISO 8601 time")
    when = datetime.fromisoformat(raw)
    if when.tzinfo is None:
        raise ValueError("naive time: refusing to guess its zone")
    return when


def _read_journal(journal: Path) -> set[str]:
    try:
        data = journal.read_bytes()
    except FileNotFoundError:
        return set()
    finished: set[str] = set()
    for line in data.splitlines():
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a torn last line: that confirmation never completed
        if isinstance(rec, dict) and isinstance(rec.get("job_id"), str):
            finished.add(rec["job_id"])
    return finished
