"""`resumebek stats [--date D | --days N | --from D --to D] [--format table|json|csv]`.

Reads DATA_DIR/analytics/ (days are local days in TIMEZONE); never writes."""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from datetime import date, timedelta

import orjson

from resumebek.analytics_admin import load_summary, local_today
from resumebek.config import Settings, load_settings
from resumebek.domain.stats import Summary, summary_dict, summary_rows
from resumebek.errors import ConfigError
from services.analytics_files import analytics_dir

# Dates a command accepts: the years the writer accepts timestamps for, far enough from
# date.min and date.max that "the day before" or "N days back" can never overflow.
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)
MAX_DAYS = 36_600  # about a century: any --days the calendar arithmetic can take


def iso_date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-12-03, got {text!r}") from None
    if not EARLIEST <= day <= LATEST:
        raise argparse.ArgumentTypeError(
            f"expected a date from {EARLIEST.isoformat()} to {LATEST.isoformat()}, got {text!r}"
        )
    return day


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of days >= 1, got {text!r}")
    if value > MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of days from 1 to {MAX_DAYS}, got {text!r}"
        )
    return value


def settings_from_env(command: str) -> Settings | None:
    """Settings from the environment, or None after printing the one-line problem.

    A DATA_DIR the bot never wrote analytics to still gives figures (zeros), with a note on
    stderr: an admin who mistyped it should not take the zeros for a quiet week."""
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"resumebek: configuration error: {exc}", file=sys.stderr)
        return None
    folder = analytics_dir(settings)
    try:
        missing = not folder.is_dir()
    except OSError:  # not searchable: the command's own read reports it, in one line
        missing = False
    if missing:
        print(
            f"resumebek {command}: note: no analytics in {folder} (is DATA_DIR the bot's?)",
            file=sys.stderr,
        )
    return settings


def os_error_line(command: str, exc: OSError) -> str:
    """One line for a file the command could not read or write, e.g.
    `resumebek export: No such file or directory: out/x.csv`."""
    where = f": {exc.filename}" if exc.filename else ""
    return f"resumebek {command}: {exc.strerror or type(exc).__name__}{where}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--date", type=iso_date, help="one local day (default: today)")
    when.add_argument("--days", type=positive_int, help="the last N days, today included")
    when.add_argument("--from", dest="start", type=iso_date, help="first day (with --to)")
    parser.add_argument("--to", dest="end", type=iso_date, help="last day (with --from)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")


def pick_range(args: argparse.Namespace, today: date) -> tuple[date, date] | str:
    """The (start, end) the arguments ask for, or a problem to print."""
    if (args.start is None) != (args.end is None):
        return "--from and --to go together"
    if args.start is not None:
        if args.end < args.start:
            return "--to is before --from"
        return args.start, args.end
    if args.days is not None:
        return today - timedelta(days=args.days - 1), today
    day = args.date or today
    return day, day


def _printable(text: str) -> str:
    """`text` with control characters spelled out (ESC as \\x1b): labels come from files a
    hostile writer could fill with escape sequences that retitle or clear the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _table(summary: Summary) -> str:
    rows = [(_printable(k), _printable(v)) for k, v in summary_rows(summary)]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    if len(summary.days) > 1:
        lines += ["", "date        users  starts  received  rejected  delivered  cta_clicks"]
        for d in summary.days:
            lines.append(
                f"{d.day.isoformat()}  {d.users:>5}  {d.starts:>6}  {d.received:>8}  "
                f"{d.rejected:>8}  {d.delivered:>9}  {d.cta_clicks:>10}"
            )
    return "\n".join(lines) + "\n"


def _render(summary: Summary, fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps(summary_dict(summary), option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("metric", "value"))
        writer.writerows(summary_rows(summary))
        return buffer.getvalue()
    return _table(summary)


def discard_stdout() -> None:
    """Point stdout at /dev/null after a failed write, so the interpreter's last flush of
    what is still buffered cannot add an "Exception ignored" traceback to our one line."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_env("stats")
    if settings is None:
        return 2
    chosen = pick_range(args, local_today(settings, time.time()))
    if isinstance(chosen, str):
        print(f"resumebek stats: {chosen}", file=sys.stderr)
        return 2
    try:
        summary = load_summary(settings, *chosen)
    except OSError as exc:
        print(os_error_line("stats", exc), file=sys.stderr)
        return 2
    try:
        sys.stdout.write(_render(summary, args.format))
        sys.stdout.flush()  # a full disk shows here, not after run() returns
    except BrokenPipeError:
        raise  # `resumebek stats | head`: the CLI treats it as a normal end
    except OSError as exc:
        discard_stdout()
        print(os_error_line("stats", exc), file=sys.stderr)
        return 2
    if summary.skipped_lines:
        print(f"note: {summary.skipped_lines} damaged line(s) skipped", file=sys.stderr)
    return 0
