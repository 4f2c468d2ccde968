"""followup_jobs.json (snapshot) and followup_jobs.journal (finished jobs since it), read and written.

Snapshot, version 1 (orjson; times are ISO 8601 with an offset, UTC when we write them):
    {"format": "resumebek.followup_jobs", "version": 1, "saved_at": "...",
     "opted_out": [user ids], "jobs": [{"job_id", "trace", "chat", "user", "language",
     "campaign", "due_at", "next_try_at", "attempts"}, ...]}
The original bot's file (a bare list of {"job_id", "chat_id", "run_at", "kind"}) is read too.

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
from resumebek.messages import LANGUAGES, ChatRef, Language, UserRef
from services.storage import quarantine, write_atomic

log = logging.getLogger(__name__)

FORMAT = "resumebek.followup_jobs"
VERSION = 1
LEGACY_KINDS = frozenset({"followup_24h", "followup"})

LoadStatus = Literal["missing", "ok", "legacy", "empty", "torn", "unknown_format"]

_FLAT_OBJECT = re.compile(rb"\{[^{}]*\}")  # job records are flat: no nested objects
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
    # orjson serializes the slotted dataclasses and aware datetimes natively (in C).
    return orjson.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "saved_at": saved_at,
            "opted_out": sorted(opted_out),
            "jobs": list(jobs),
        }
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
        and isinstance(doc.get("jobs"), list)
    ):
        loaded = LoadedSnapshot(status="ok", opted_out=_users(doc.get("opted_out")))
        _add_records(loaded, doc["jobs"], default_language)
        return loaded
    return LoadedSnapshot(status="unknown_format")  # e.g. a newer version: keep it aside, untouched


def _salvage(data: bytes, default_language: Language) -> LoadedSnapshot:
    loaded = LoadedSnapshot(status="torn")
    records: list[object] = []
    for match in _FLAT_OBJECT.finditer(data):
        try:
            records.append(orjson.loads(match.group()))
        except orjson.JSONDecodeError:
            continue
    _add_records(loaded, records, default_language)
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
    if isinstance(rec, dict):
        raw = rec.get("user", rec.get("chat_id"))
        if isinstance(raw, int) and not isinstance(raw, bool):
            return UserRef(raw)
    return None


def _job(rec: object, default_language: Language) -> tuple[FollowUpJob | None, str]:
    if not isinstance(rec, dict):
        return None, "bad_record"
    try:
        if "run_at" in rec:  # legacy record
            if rec.get("kind", "followup_24h") not in LEGACY_KINDS:
                return None, "unknown_kind"
            chat = _int(rec["chat_id"])
            due = _aware(rec["run_at"])
            return (
                FollowUpJob(
                    job_id=_str(rec["job_id"]),
                    trace=_str(rec["job_id"]),
                    chat=ChatRef(chat),
                    user=UserRef(chat),  # private chats: the chat id is the user id
                    language=default_language,
                    due_at=due,
                    next_try_at=due,
                ),
                "",
            )
        language = rec.get("language")
        campaign = rec.get("campaign")
        return (
            FollowUpJob(
                job_id=_str(rec["job_id"]),
                trace=_str(rec.get("trace") or rec["job_id"]),
                chat=ChatRef(_int(rec["chat"])),
                user=UserRef(_int(rec["user"])),
                language=_language(language, default_language),
                campaign=campaign if isinstance(campaign, str) else None,
                due_at=_aware(rec["due_at"]),
                next_try_at=_aware(rec.get("next_try_at") or rec["due_at"]),
                attempts=_int(rec.get("attempts", 0)),
            ),
            "",
        )
    except (KeyError, TypeError, ValueError):
        return None, "bad_record"


def _language(raw: object, default: Language) -> Language:
    for lang in LANGUAGES:
        if raw == lang:
            return lang
    return default


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
