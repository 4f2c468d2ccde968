"""`resumebek stats | export | report` as a user runs them (subprocesses)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import IO

import orjson
import pytest

from tests.conftest import FIXTURES, PYTHON, resumebek_env


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "analytics" / "small", tmp_path / "data" / "analytics")
    return tmp_path / "data"


def resumebek(
    data_dir: Path, *args: str, stdout: IO[str] | int = subprocess.PIPE, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    """The command as an admin runs it; `stdout` may be a file or descriptor to write into."""
    env = resumebek_env(DATA_DIR=str(data_dir), TIMEZONE="Asia/Almaty", BOT_MODE="development")
    return subprocess.run(
        [PYTHON, "-m", "resumebek", *args],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_stats_json_for_a_range(data_dir: Path) -> None:
    done = resumebek(
        data_dir, "stats", "--from", "2026-05-09", "--to", "2026-05-10", "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["users"] == 3 and stats["reviews_delivered"] == 3
    assert stats["skipped_lines"] == 2 and "2 damaged line(s) skipped" in done.stderr


def test_stats_table_and_csv_for_one_day(data_dir: Path) -> None:
    table = resumebek(data_dir, "stats", "--date", "2026-05-10")
    assert table.returncode == 0, table.stderr
    assert "reviews_delivered" in table.stdout and "rejections.not_resume" in table.stdout
    rows = dict(
        csv.reader(
            io.StringIO(
                resumebek(data_dir, "stats", "--date", "2026-05-10", "--format", "csv").stdout
            )
        )
    )
    assert rows["users"] == "3" and rows["median_score"] == "6.5"


def test_stats_rejects_half_a_range(data_dir: Path) -> None:
    done = resumebek(data_dir, "stats", "--from", "2026-05-09")
    assert done.returncode == 2 and "--from and --to go together" in done.stderr
    bad = resumebek(data_dir, "stats", "--date", "yesterday")
    assert bad.returncode == 2 and "expected a date" in bad.stderr


def test_export_daily_csv_and_raw_events(data_dir: Path, tmp_path: Path) -> None:
    daily = resumebek(
        data_dir, "export", "--from", "2026-05-09", "--to", "2026-05-10", "--format", "csv"
    )
    assert daily.returncode == 0, daily.stderr
    rows = list(csv.DictReader(io.StringIO(daily.stdout)))
    assert [(r["date"], r["delivered"]) for r in rows] == [("2026-05-09", "1"), ("2026-05-10", "2")]
    out = tmp_path / "events.jsonl"
    raw = resumebek(
        data_dir,
        "export",
        "--from",
        "2026-05-09",
        "--to",
        "2026-05-10",
        "--format",
        "json",
        "--events",
        "-o",
        str(out),
    )
    assert raw.returncode == 0, raw.stderr
    events = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(events) == 20 and events[0]["event"] == "user_started"


def test_export_raw_events_as_csv_and_daily_json_on_stdout(data_dir: Path) -> None:
    span = ("--from", "2026-05-09", "--to", "2026-05-10")
    raw = resumebek(data_dir, "export", *span, "--format", "csv", "--events")
    assert raw.returncode == 0, raw.stderr
    rows = list(csv.DictReader(io.StringIO(raw.stdout)))
    assert len(rows) == 20 and rows[0]["event"] == "user_started"
    # the schema version travels with every raw event, in CSV as in JSON
    assert {r["v"] for r in rows} == {"1"}
    daily = resumebek(data_dir, "export", *span, "--format", "json")
    assert daily.returncode == 0, daily.stderr
    days = json.loads(daily.stdout)
    assert [(d["date"], d["delivered"], d["cta_clicks"]) for d in days] == [
        ("2026-05-09", 1, 0),
        ("2026-05-10", 2, 1),
    ]


def test_raw_csv_spells_booleans_as_the_json_does(data_dir: Path) -> None:
    line = (
        b'{"v":1,"ts":"2026-05-10T12:00:00.000+05:00","event":"followup_failed","user":null,'
        b'"trace":null,"reason":"network","final":false,"attempts":1}\n'
    )
    with (data_dir / "analytics" / "2026-05-10.jsonl").open("ab") as handle:
        handle.write(line)
    span = ("--from", "2026-05-10", "--to", "2026-05-10")
    raw = resumebek(data_dir, "export", *span, "--format", "csv", "--events")
    assert raw.returncode == 0, raw.stderr
    (row,) = [r for r in csv.DictReader(io.StringIO(raw.stdout)) if r["reason"] == "network"]
    assert (row["final"], row["attempts"], row["user"]) == ("false", "1", "")


def test_report_writes_one_html_file(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = resumebek(data_dir, "report", "--days", "30", "--to", "2026-05-10", "-o", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<svg" in html and "Not a resume" in html
    assert "http://" not in html and "https://" not in html


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("export", "--from", "2026-05-09", "--to", "2026-05-10", "-o", "{tmp}/no/such/x.json"),
         "resumebek export: No such file or directory: {tmp}/no/such/x.json"),
        (("export", "--from", "2026-05-09", "--to", "2026-05-10", "-o", "{tmp}"),
         "resumebek export: Is a directory: {tmp}"),
        (("report", "-o", "{tmp}"), "resumebek report: {tmp} is a directory; name the file"),
    ],
)  # fmt: skip
def test_an_output_that_cannot_be_written_is_one_line_and_exit_2(
    data_dir: Path, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    done = resumebek(data_dir, *(a.format(tmp=tmp_path) for a in args))
    assert done.returncode == 2
    assert done.stderr.strip() == expected.format(tmp=tmp_path)


def test_stats_are_right_when_the_cache_cannot_be_written(data_dir: Path) -> None:
    (data_dir / "cache").write_bytes(b"a file where the cache directory should be")
    done = resumebek(data_dir, "stats", "--date", "2026-05-10", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["users"] == 3
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("stats", "--date", "0001-01-01"), "expected a date from 2000-01-01 to 2199-12-31"),
        (("stats", "--date", "9999-12-31"), "expected a date from 2000-01-01 to 2199-12-31"),
        (("stats", "--days", "10000000"), "expected a whole number of days from 1 to 36600"),
        (("export", "--from", "9999-12-30", "--to", "9999-12-31", "--events"), "expected a date"),
        (("report", "--to", "0001-01-05", "-o", "x.html"), "expected a date"),
    ],
)  # fmt: skip
def test_dates_at_the_ends_of_the_calendar_are_usage_errors(
    data_dir: Path, args: tuple[str, ...], expected: str
) -> None:
    done = resumebek(data_dir, *args)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_stats_to_a_full_disk_is_one_line_and_exit_2(data_dir: Path, fmt: str) -> None:
    with open("/dev/full", "w") as full:  # noqa: PTH123
        done = resumebek(
            data_dir, "stats", "--date", "2026-05-10", "--format", fmt, stdout=full, timeout=60
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[0] == "resumebek stats: No space left on device"
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_report_to_a_device_writes_to_it_and_never_replaces_it(
    data_dir: Path, tmp_path: Path
) -> None:
    link = tmp_path / "full"  # stands in for `-o /dev/full` without touching /dev
    link.symlink_to("/dev/full")
    done = resumebek(data_dir, "report", "--to", "2026-05-10", "-o", str(link))
    assert done.returncode == 2
    assert done.stderr.strip().startswith("resumebek report: No space left on device")
    assert link.is_symlink() and link.resolve() == Path("/dev/full")


def test_report_through_a_symlink_updates_the_file_it_points_to(
    data_dir: Path, tmp_path: Path
) -> None:
    real = tmp_path / "site" / "report.html"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "report.html"
    link.symlink_to(real)
    done = resumebek(data_dir, "report", "--to", "2026-05-10", "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("<!doctype html>")


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_a_day_file_that_is_not_a_file_is_one_line_not_a_hang(data_dir: Path, kind: str) -> None:
    odd = data_dir / "analytics" / "2026-05-08.jsonl"
    if kind == "fifo":
        os.mkfifo(odd)  # reading it would wait for a writer forever
    elif kind == "device":
        odd.symlink_to("/dev/zero")  # reading it would fill the memory
    else:
        odd.mkdir()
    done = resumebek(data_dir, "stats", "--date", "2026-05-08")
    assert done.returncode == 2
    assert done.stderr.strip() == f"resumebek stats: Not a regular file: {odd}"


def test_stats_table_never_sends_control_characters_from_files_to_the_terminal(
    data_dir: Path,
) -> None:
    hostile = "x\x1b]0;owned\x07\x1b[2J\rline\nbreak"  # retitle, clear screen, overwrite
    line = {"v": 1, "ts": "2026-05-10T12:00:00+05:00", "event": "resume_rejected",
            "user": "u9", "trace": None, "reason": hostile}  # fmt: skip
    with (data_dir / "analytics" / "2026-05-10.jsonl").open("ab") as handle:
        handle.write(orjson.dumps(line) + b"\n")
    done = resumebek(data_dir, "stats", "--date", "2026-05-10")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\r" not in done.stdout
    assert "rejections.x\\x1b]0;owned\\x07\\x1b[2J\\rline\\nbreak  1" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("export", "--events", "--format", "json"), id="export-json"),
        pytest.param(("export", "--events", "--format", "csv"), id="export-csv"),
        pytest.param(("stats", "--format", "json"), id="stats"),
    ],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(
    data_dir: Path, args: tuple[str, ...]
) -> None:
    """`resumebek export ... | head -1`: a closed pipe is the reader's choice, not an error."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line
    try:
        span = ("--from", "2026-05-09", "--to", "2026-05-10")
        done = resumebek(data_dir, *args, *span, stdout=write_end)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_data_dir_without_analytics_gives_zeros_and_says_so(tmp_path: Path) -> None:
    done = resumebek(tmp_path / "typo", "stats", "--date", "2026-05-10", "--format", "json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["users"] == 0
    assert done.stderr == (
        f"resumebek stats: note: no analytics in {tmp_path / 'typo' / 'analytics'}"
        " (is DATA_DIR the bot's?)\n"
    )
    export = resumebek(tmp_path / "typo", "export", "--from", "2026-05-10", "--to", "2026-05-10")
    assert export.returncode == 0 and export.stderr.startswith("resumebek export: note: ")
    assert not (tmp_path / "typo").exists()  # reading never creates the bot's directories


def test_a_data_dir_that_cannot_be_searched_is_left_to_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Path.is_dir() raises EACCES on Python 3.11: the note must not turn that into a
    traceback before the command's own read can report it in one line."""
    from resumebek.commands.stats import settings_from_env

    def denied(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BOT_MODE", "development")
    monkeypatch.setattr(Path, "is_dir", denied)
    assert settings_from_env("stats") is not None
    assert capsys.readouterr().err == ""
