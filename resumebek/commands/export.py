"""`resumebek export --from D --to D --format json|csv [--events] [-o FILE]`.

Daily aggregates (JSON array or CSV rows), or with --events the raw pseudonymous events
(JSON Lines or CSV), streamed day by day."""

from __future__ import annotations

import argparse
import contextlib
import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import orjson

from resumebek.analytics_admin import load_daily
from resumebek.commands.stats import iso_date, os_error_line, settings_from_env
from resumebek.config import Settings
from resumebek.domain.events import FIELD_CHECKS
from resumebek.domain.stats import DAILY_COLUMNS, daily_row
from services.analytics_files import ReadCounts, analytics_dir, iter_events

# "v" first: a reader of the CSV must know which schema version each row follows
EVENT_COLUMNS = ("v", "ts", "event", "user", "trace", *sorted(FIELD_CHECKS))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=iso_date, required=True, help="first day")
    parser.add_argument("--to", dest="end", type=iso_date, required=True, help="last day")
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.add_argument(
        "--events", action="store_true", help="raw events instead of daily aggregates"
    )
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def run(args: argparse.Namespace) -> int:
    if args.end < args.start:
        print("resumebek export: --to is before --from", file=sys.stderr)
        return 2
    settings = settings_from_env("export")
    if settings is None:
        return 2
    counts = ReadCounts()
    try:
        with _output(args.output) as out:
            _write(out, args, settings, counts)
    except BrokenPipeError:
        raise  # `resumebek export ... | head`: the CLI treats it as a normal end
    except OSError as exc:
        print(os_error_line("export", exc), file=sys.stderr)
        return 2
    if counts.skipped:
        print(f"note: {counts.skipped} damaged line(s) skipped", file=sys.stderr)
    return 0


def _csv_cell(value: object) -> object:
    """As the JSON lines spell it: true/false, not Python's True/False."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _write(out: IO[str], args: argparse.Namespace, settings: Settings, counts: ReadCounts) -> None:
    if args.events:
        events = iter_events(analytics_dir(settings), args.start, args.end, counts)
        if args.format == "json":
            for ev in events:
                out.write(orjson.dumps(ev, option=orjson.OPT_APPEND_NEWLINE).decode())
        else:
            writer = csv.DictWriter(out, EVENT_COLUMNS, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: _csv_cell(v) for k, v in ev.items()} for ev in events)
        return
    rows = [daily_row(day) for day in load_daily(settings, args.start, args.end)]
    if args.format == "json":
        out.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        writer = csv.DictWriter(out, DAILY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
