"""The file layer: torn tails, the reader, retention, and the analytics salt."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from resumebek.config import Secret, Settings
from resumebek.errors import ConfigError
from services.analytics_files import (
    SALT_FILE,
    DailyWriter,
    ReadCounts,
    iter_events,
    load_salt,
    remove_expired,
    repair_tail,
)
from tests.conftest import FIXTURES, shared_path

TORN = FIXTURES / "analytics" / "analytics_torn_last_line.jsonl"


@pytest.mark.parametrize("source", ["fixture", "shared"])
def test_reader_skips_the_torn_last_line(tmp_path: Path, source: str) -> None:
    case = TORN if source == "fixture" else shared_path("cases", "analytics_torn_last_line.jsonl")
    (tmp_path / "2025-03-02.jsonl").write_bytes(case.read_bytes())
    counts = ReadCounts()
    events = list(iter_events(tmp_path, date(2025, 3, 1), date(2025, 3, 3), counts))
    assert [e["event"] for e in events] == ["file_received", "review_sent"]
    assert counts.skipped == 1 and counts.files == 1


def test_repair_tail_cuts_back_to_the_last_newline(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(TORN.read_bytes())
    removed = repair_tail(path)
    data = path.read_bytes()
    assert removed > 0 and data.endswith(b"\n") and data.count(b"\n") == 2
    assert repair_tail(path) == 0  # idempotent
    path.write_bytes(b'{"no newline at all"')
    assert repair_tail(path) == len(b'{"no newline at all"') and path.read_bytes() == b""
    assert repair_tail(tmp_path / "missing.jsonl") == 0


def test_writer_appends_after_a_torn_tail_on_a_fresh_line(tmp_path: Path) -> None:
    (tmp_path / "2025-03-02.jsonl").write_bytes(TORN.read_bytes())
    writer = DailyWriter(tmp_path)
    writer.append(date(2025, 3, 2), b'{"ts":"2025-03-02T00:00:01+05:00","event":"quota_hit"}\n')
    writer.close()
    counts = ReadCounts()
    events = list(iter_events(tmp_path, date(2025, 3, 2), date(2025, 3, 2), counts))
    assert [e["event"] for e in events] == ["file_received", "review_sent", "quota_hit"]
    assert counts.skipped == 0


def test_remove_expired_keeps_the_window_and_foreign_files(tmp_path: Path) -> None:
    for name in ("2026-01-01.jsonl", "2026-01-02.jsonl", "2026-01-31.jsonl", "README.txt"):
        (tmp_path / name).write_bytes(b"")
    removed = remove_expired(tmp_path, date(2026, 1, 31), 30)  # keeps 01-02 .. 01-31
    assert removed == [date(2026, 1, 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-01-02.jsonl",
        "2026-01-31.jsonl",
        "README.txt",
    ]


def test_development_salt_is_generated_once_with_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_salt(settings)
    assert len(first) >= 32 and load_salt(settings) == first
    assert oct(os.stat(tmp_path / SALT_FILE).st_mode & 0o777) == "0o600"


def test_configured_salt_wins_and_production_requires_one(tmp_path: Path) -> None:
    configured = Settings(data_dir=tmp_path, analytics_salt=Secret("s" * 16))
    assert load_salt(configured) == b"s" * 16
    assert not (tmp_path / SALT_FILE).exists()
    with pytest.raises(ConfigError, match="ANALYTICS_SALT"):
        load_salt(Settings(data_dir=tmp_path, bot_mode="production"))


def test_remove_expired_goes_on_past_an_entry_it_cannot_remove(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Retention is a privacy promise: one odd entry must not keep every later file."""
    (tmp_path / "2025-12-01.jsonl").mkdir()  # oldest first: it used to stop the loop
    for name in ("2025-12-02.jsonl", "2026-01-01.jsonl", "2026-01-31.jsonl"):
        (tmp_path / name).write_bytes(b"")
    removed = remove_expired(tmp_path, date(2026, 1, 31), 30)
    assert removed == [date(2025, 12, 2), date(2026, 1, 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-12-01.jsonl", "2026-01-31.jsonl"]
    assert "analytics.retention_remove_failed day=2025-12-01 kind=EISDIR" in caplog.text
