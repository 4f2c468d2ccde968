"""Throughput of `resumebek inspect`'s pipeline on the dev PDFs versus raw in-process pypdf
extraction of the same files, measured in the same run.

    python -m bench.inspect_throughput [CORPUS_DIR] [--rounds N] [--workers N]

- raw pypdf: PdfReader + page.extract_text() for every page, one process, no repair;
- in-process extract_bytes: our extraction and repair, one process (the repair's cost);
- pool: the inspect pipeline (ProcessExtractor with N worker processes + detection),
  every file of every round in flight at once, after a warm-up round (steady state).
Target: pool throughput >= 0.8 x raw pypdf with two workers.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import anyio
import anyio.to_thread
import pypdf

from resumebek.domain.detection import detect_resume
from resumebek.domain.language import detect_language
from services.documents import extract_bytes
from services.extraction_pool import ProcessExtractor

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "dev"


def raw_pypdf(data: bytes) -> int:
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = 0
    for page in reader.pages:
        page.extract_text()
        pages += 1
    return pages


CPU: dict[str, float] = {"raw": 0.0, "ours": 0.0}  # CPU seconds: immune to a busy machine


def time_raw(files: list[bytes], rounds: int) -> tuple[float, int]:
    pages = 0
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for data in files:
            pages += raw_pypdf(data)
    CPU["raw"] += time.process_time() - cpu
    return time.perf_counter() - started, pages


def time_in_process(files: list[bytes], rounds: int) -> float:
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for data in files:
            ex = extract_bytes(data, name_hint="x.pdf", mime_type=None, max_pages=10)
            detect_resume(ex.text)
            detect_language(ex.text)
    CPU["ours"] += time.process_time() - cpu
    return time.perf_counter() - started


def _detect(text: str) -> None:
    detect_resume(text)
    detect_language(text)


async def time_pool(files: list[bytes], rounds: int, workers: int) -> tuple[float, float]:
    """(seconds for all rounds, seconds for the warm-up round)."""
    async with ProcessExtractor(
        workers=workers, timeout_s=60, memory_mb=768, max_pages=10
    ) as extractor:

        async def one(data: bytes) -> None:
            ex = await extractor.extract(data, name_hint="x.pdf", mime_type=None)
            await anyio.to_thread.run_sync(_detect, ex.text)  # as inspect does

        async def batch(n: int) -> float:
            started = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(n):
                    for data in files:
                        tg.start_soon(one, data)
            return time.perf_counter() - started

        warm = await batch(1)
        return await batch(rounds), warm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="repeat each measurement; median")
    args = parser.parse_args(argv)
    paths = sorted(args.corpus.glob("*.pdf"))
    if not paths:
        print(f"no PDFs in {args.corpus}", file=sys.stderr)
        return 2
    files = [p.read_bytes() for p in paths]
    n = len(files) * args.rounds
    raw_times, in_process_times, pool_times, ratios = [], [], [], []
    pages = 0
    # interleaved: each repeat measures all three back to back, so a busy neighbour on a
    # shared machine hits them alike; the per-repeat ratio is the figure to trust
    for _ in range(args.repeat):
        seconds, pages = time_raw(files, args.rounds)
        raw_times.append(seconds)
        in_process_times.append(time_in_process(files, args.rounds))
        pooled_seconds, _warm = anyio.run(time_pool, files, args.rounds, args.workers)
        pool_times.append(pooled_seconds)
        ratios.append(seconds / pooled_seconds)
    raw = statistics.median(raw_times)
    in_process = statistics.median(in_process_times)
    pooled = statistics.median(pool_times)
    load = os.getloadavg()[0]
    print(
        f"dev PDFs: {len(files)} files, {pages // args.rounds} pages per round, "
        f"{args.rounds} rounds, median of {args.repeat}; {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at the end"
    )
    print(f"{'pipeline':34s} {'files/s':>8s} {'vs raw':>7s}")
    print(f"{'raw pypdf, in-process':34s} {n / raw:8.1f} {1.0:7.2f}")
    print(f"{'extract_bytes+detect, in-process':34s} {n / in_process:8.1f} {raw / in_process:7.2f}")
    label = f"inspect pool, {args.workers} workers"
    print(f"{label:34s} {n / pooled:8.1f} {raw / pooled:7.2f}")
    print("pool/raw per repeat: " + " ".join(f"{r:.2f}" for r in ratios))
    runs = n * args.repeat
    print(
        f"CPU per file: raw pypdf {CPU['raw'] * 1000 / runs:.2f} ms, extract_bytes+detect "
        f"{CPU['ours'] * 1000 / runs:.2f} ms (ratio {CPU['raw'] / CPU['ours']:.2f})"
    )
    print(
        f"pypdf: {raw * 1000 / pages:.2f} ms/page wall, "
        f"{CPU['raw'] * 1000 / (pages * args.repeat):.2f} ms/page CPU (raw extract_text)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
