"""Daily analytics files: `DATA_DIR/analytics/YYYY-MM-DD.jsonl`, one JSON object per line.

The analytics actor is the only writer (`DailyWriter`); commands and /stats only read
(`read_day_lines`, `iter_events`). A crash can tear only the last line of a file: the
writer cuts it off before appending again (`repair_tail`), and readers skip and count it.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from resumebek.config import Settings
from resumebek.errors import ConfigError, os_error_kind
from services.storage import write_atomic

log = logging.getLogger(__name__)

SALT_FILE = "analytics_salt"
_DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.jsonl")


def analytics_dir(settings: Settings) -> Path:
    return settings.data_dir / "analytics"


def day_file(directory: Path, day: date) -> Path:
    return directory / f"{day.isoformat()}.jsonl"


def file_day(path: Path) -> date | None:
    """The day a file holds, or None for anything that is not `YYYY-MM-DD.jsonl`."""
    m = _DAY_FILE.fullmatch(path.name)
    if m is None:
        return None
    try:
        return date.fromisoformat(m.group(1))
    except ValueError:
        return None


def day_files(directory: Path) -> list[tuple[date, Path]]:
    """Every day file in the directory, oldest first."""
    if not directory.is_dir():
        return []
    found = [(d, p) for p in directory.iterdir() if (d := file_day(p)) is not None]
    return sorted(found)


# ---------------------------------------------------------------- salt


def load_salt(settings: Settings) -> bytes:
    """ANALYTICS_SALT, or in development a random salt kept in DATA_DIR (mode 0600), created
    once, so pseudonyms stay stable across restarts."""
    configured = settings.analytics_salt.reveal()
    if configured:
        return configured.encode("utf-8")
    if settings.bot_mode == "production":
        raise ConfigError("ANALYTICS_SALT", "required in production (at least 16 characters)")
    path = settings.data_dir / SALT_FILE
    try:
        existing = path.read_bytes().strip()
    except FileNotFoundError:
        existing = b""
    if len(existing) >= 16:
        return existing
    salt = secrets.token_hex(32).encode("ascii")
    write_atomic(path, salt + b"\n")  # created 0600
    log.info("analytics.salt_created dir=data_dir")
    return salt


# ---------------------------------------------------------------- writing


def repair_tail(path: Path) -> int:
    """Cut a torn last line (no trailing newline) back to the last newline; returns the
    number of bytes removed. The next append then starts on a fresh line."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return 0
        keep, chunk = 0, 65536
        pos = size
        while pos > 0:  # scan backwards for the last newline
            start = max(0, pos - chunk)
            block = os.pread(fd, pos - start, start)
            idx = block.rfind(b"\n")
            if idx >= 0:
                keep = start + idx + 1
                break
            pos = start
        os.ftruncate(fd, keep)
        os.fsync(fd)
        return size - keep
    finally:
        os.close(fd)


def remove_expired(directory: Path, today: date, retention_days: int) -> list[date]:
    """Delete day files older than `retention_days` (today counts as day 1); returns their days.
    An entry that cannot be removed (a directory, a failing disk) is logged and passed over,
    so it cannot keep every newer expired file too."""
    oldest_kept = today - timedelta(days=retention_days - 1)
    removed: list[date] = []
    for day, path in day_files(directory):
        if day < oldest_kept:
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.error(
                    "analytics.retention_remove_failed day=%s kind=%s", day, os_error_kind(exc)
                )
                continue
            removed.append(day)
    return removed


class DailyWriter:
    """Appends ready-made lines to day files. Single owner (the analytics actor), no lock.

    `append` hands bytes to the OS at once (a reader sees them); `sync` makes them durable
    (fsync), and the caller decides how often."""

    max_open = 3  # today, yesterday (late events around midnight), and one spare

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fds: dict[date, int] = {}
        self._dirty: set[int] = set()
        self._new_file = False
        self.repaired_bytes = 0

    @property
    def dirty(self) -> bool:
        return bool(self._dirty) or self._new_file

    def repair_all(self) -> int:
        """At start: cut torn tails of every day file (only the newest can be torn, but a
        copied-in file could be too); returns the bytes removed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        removed = sum(repair_tail(path) for _, path in day_files(self.directory))
        self.repaired_bytes += removed
        return removed

    def append(self, day: date, data: bytes) -> None:
        """All of `data` or none of it: when a write fails part way (disk full, I/O error),
        the file is cut back to where it was, so a retry of the same lines cannot duplicate
        the ones that got through. Raises the OSError."""
        fd = self._fds.get(day)
        if fd is None:
            fd = self._open(day)
        start = os.fstat(fd).st_size  # O_APPEND and one writer: where this data will begin
        view = memoryview(data)
        try:
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError:
            if len(view) < len(data):
                self._cut_back(day, fd, start)
            raise
        self._dirty.add(fd)

    def _cut_back(self, day: date, fd: int, size: int) -> None:
        try:
            os.ftruncate(fd, size)
        except OSError:
            # Forget the file: the next append reopens it and repair_tail cuts the torn
            # last line (lines that were whole stay, and a retry writes them again).
            self._fds.pop(day, None)
            self._dirty.discard(fd)
            os.close(fd)

    def _open(self, day: date) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = day_file(self.directory, day)
        existed = path.exists()
        if existed:
            self.repaired_bytes += repair_tail(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._fds[day] = fd
        self._new_file = self._new_file or not existed
        if len(self._fds) > self.max_open:
            self._close_day(min(self._fds))
        return fd

    def _close_day(self, day: date) -> None:
        fd = self._fds.pop(day)
        if fd in self._dirty:
            os.fsync(fd)
            self._dirty.discard(fd)
        os.close(fd)

    def sync(self) -> None:
        """fsync every file written since the last sync (and the directory for new files)."""
        for fd in self._dirty:
            os.fsync(fd)
        self._dirty.clear()
        if self._new_file:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            self._new_file = False

    def close(self) -> None:
        try:
            self.sync()
        finally:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()


# ---------------------------------------------------------------- reading


@dataclass(slots=True)
class ReadCounts:
    files: int = 0
    lines: int = 0
    skipped: int = 0  # torn or invalid lines: not JSON, not an object, no event/ts


def read_day_lines(directory: Path, day: date) -> list[bytes]:
    """The raw lines of one day file (empty when it does not exist). A last line without a
    newline is kept; the parser rejects it when it is torn. Raises OSError for anything but
    a regular file: a FIFO would block forever and /dev/zero would fill the memory."""
    path = day_file(directory, day)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO must not wait
    except FileNotFoundError:
        return []
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "Not a regular file", str(path))
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    return data.split(b"\n")


def parse_lines(lines: list[bytes], counts: ReadCounts) -> list[dict[str, Any]]:
    """Events from raw lines; a torn or invalid line is skipped and counted, never fatal."""
    events: list[dict[str, Any]] = []
    append = events.append
    loads = orjson.loads
    bad = empty = 0
    for line in lines:
        if not line:
            empty += 1
            continue
        try:
            obj = loads(line)
        except orjson.JSONDecodeError:
            bad += 1
            continue
        if (
            type(obj) is dict
            and type(obj.get("event")) is str
            and type(obj.get("ts")) is str
            and len(obj["ts"]) >= 19
        ):
            append(obj)
        else:
            bad += 1
    counts.lines += len(lines) - empty
    counts.skipped += bad
    return events


def iter_events(
    directory: Path, start: date, end: date, counts: ReadCounts | None = None
) -> Iterator[dict[str, Any]]:
    """Events of the days start..end inclusive, day by day, in file order."""
    counts = counts if counts is not None else ReadCounts()
    day = start
    while day <= end:
        lines = read_day_lines(directory, day)
        if lines:
            counts.files += 1
            yield from parse_lines(lines, counts)
        day += timedelta(days=1)
