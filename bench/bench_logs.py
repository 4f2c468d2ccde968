"""Cost of one log line through resumebek.logs (format + redaction) against the standard
library's plain formatter in the same run.

    python -m bench.bench_logs [--lines 50000]
"""

from __future__ import annotations

import argparse
import io
import logging
import time

from resumebek.logs import configure_logging

MESSAGE = "analysis.done trace=%s lang=%s ms=%d source=%s score=%d outcome=%s"
ARGS = ("3f2a9c1e0b4d4e6f8a7b6c5d4e3f2a1b", "kk", 1234, "llm", 7, "ok")


def _run(lines: int) -> float:
    log = logging.getLogger("resumebek.actors.analyzer")
    start = time.perf_counter()
    for _ in range(lines):
        log.info(MESSAGE, *ARGS)
    return (time.perf_counter() - start) / lines


def main(lines: int) -> None:
    root = logging.getLogger()
    plain = logging.StreamHandler(io.StringIO())
    plain.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(plain)
    root.setLevel(logging.INFO)
    baseline = _run(lines)
    root.removeHandler(plain)
    print(f"stdlib Formatter (baseline)  {baseline * 1e6:6.1f} µs/line")
    for log_format in ("text", "json"):
        configure_logging(level="INFO", log_format=log_format, stream=io.StringIO())
        per_line = _run(lines)
        print(
            f"resumebek {log_format:<4} + redaction  {per_line * 1e6:6.1f} µs/line  x{per_line / baseline:.1f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50_000)
    main(parser.parse_args().lines)
