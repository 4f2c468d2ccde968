"""`resumebek report [--days 30] -o report.html`: one self-contained HTML file (inline SVG
charts, no scripts, no network) for the last N local days."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from resumebek.analytics_admin import build_report
from resumebek.commands.stats import iso_date, os_error_line, positive_int, settings_from_env
from services.storage import write_atomic


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=positive_int, default=30, help="days to cover (30)")
    parser.add_argument("--to", dest="end", type=iso_date, help="last day (default: today)")
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("report.html"), help="file to write"
    )


def _write(path: Path, data: bytes) -> None:
    """Replace a regular file atomically (through a symlink: the file it points to); write
    straight into anything else (/dev/stdout, a pipe), which renaming over would destroy."""
    target = path.resolve()
    if target.exists() and not target.is_file():
        with target.open("wb") as handle:
            handle.write(data)
        return
    write_atomic(target, data)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_env("report")
    if settings is None:
        return 2
    if args.output.is_dir():
        print(f"resumebek report: {args.output} is a directory; name the file", file=sys.stderr)
        return 2
    try:
        html = build_report(settings, time.time(), days=args.days, end=args.end)
        _write(args.output, html.encode("utf-8"))
    except OSError as exc:
        print(os_error_line("report", exc), file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({len(html.encode('utf-8')) // 1024} KiB, {args.days} days)")
    return 0
