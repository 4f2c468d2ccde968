"""Reading a local file named on the command line, bounded: `analyze` and `inspect` must
not read /dev/zero or a 5 GB file whole before noticing it is not a resume."""

from __future__ import annotations

import stat
from pathlib import Path


class NotARegularFile(Exception):
    """A directory, device, FIFO or socket: nothing to read as a document."""


class FileTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size  # at least this many bytes


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file `path`, checked with stat before opening (so a FIFO is
    never opened) and read at most `max_bytes + 1` bytes (a file that grows, or /proc files
    that stat as empty). Raises NotARegularFile, FileTooLarge or OSError."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise NotARegularFile(_kind(info.st_mode))
    if info.st_size > max_bytes:
        raise FileTooLarge(info.st_size)
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(len(data))
    return data


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"
