"""`resumebek inspect FILE... [--json] [--text]`: extract text and detect resume/language.

Files run in parallel on the same worker pool the bot uses (EXTRACT_WORKERS processes,
EXTRACT_TIMEOUT, EXTRACT_MEMORY_MB, MAX_PAGES, MAX_FILE_MB). Every file yields exactly one
result, in the order given, even when it is missing, unreadable or kills a worker.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from resumebek.config import Settings, load_settings
from resumebek.domain.detection import detect_resume
from resumebek.domain.language import detect_language
from resumebek.errors import ConfigError
from services.ports import Extraction


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="PDF, DOCX or TXT files")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--text", action="store_true", help="include the cleaned text")
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default EXTRACT_WORKERS)"
    )


def run(args: argparse.Namespace) -> int:
    import os

    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"resumebek inspect: {exc}", file=sys.stderr)
        return 2
    workers = args.workers or settings.extract_workers
    results = anyio.run(_inspect_all, [Path(f) for f in args.files], settings, workers)
    for result in results:
        if not args.text:
            result.pop("text", None)
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            print(_human(result, with_text=args.text), flush=True)
    unreadable = sum(1 for r in results if "error" in r)
    return 1 if unreadable == len(results) else 0


async def _inspect_all(files: list[Path], settings: Settings, workers: int) -> list[dict[str, Any]]:
    from services.extraction_pool import ProcessExtractor

    results: list[dict[str, Any]] = [{} for _ in files]
    async with ProcessExtractor.from_settings(settings, workers=workers) as extractor:
        limiter = anyio.CapacityLimiter(max(1, workers) * 2)  # keep each worker fed

        async def one(index: int, path: Path) -> None:
            async with limiter:
                results[index] = await _inspect(path, extractor, settings)

        async with anyio.create_task_group() as tg:
            for index, path in enumerate(files):
                tg.start_soon(one, index, path)
    return results


async def _inspect(path: Path, extractor: Any, settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        data = await anyio.Path(path).read_bytes()
    except OSError as exc:
        # the file itself could not be read: still one line, with the reason
        return _result(
            path,
            Extraction(outcome="corrupt", format="unknown"),
            started,
            error=exc.strerror or type(exc).__name__,
        )
    extraction: Extraction = await extractor.extract(data, name_hint=path.name, mime_type=None)
    # detection in a thread: the event loop stays free to hand the next file to a worker
    return await anyio.to_thread.run_sync(
        functools.partial(_result, path, extraction, started, threshold=settings.resume_threshold)
    )


def _result(
    path: Path,
    extraction: Extraction,
    started: float,
    *,
    threshold: int = 40,
    error: str | None = None,
) -> dict[str, Any]:
    text = extraction.text
    ok = extraction.outcome == "ok"
    verdict = detect_resume(text) if text else None
    guess = detect_language(text)
    result: dict[str, Any] = {
        "file": str(path),
        "format": extraction.format,
        "pages": extraction.pages,
        "chars": len(text),
        "words": len(text.split()),
        "outcome": extraction.outcome,
        "is_resume": bool(ok and verdict is not None and verdict.is_resume(threshold)),
        "resume_confidence": verdict.confidence if verdict is not None else 0,
        "language": guess.language,
        "language_confidence": guess.confidence,
        "signals": list(verdict.signals) if verdict is not None else [],
        "notes": list(extraction.notes),
        "elapsed_ms": int((time.perf_counter() - started) * 1000),
        "text": text,
    }
    if error is not None:
        result["error"] = error
    return result


def _human(result: dict[str, Any], *, with_text: bool) -> str:
    line = (
        f"{result['file']}: {result['outcome']} format={result['format']} "
        f"pages={result['pages']} words={result['words']} "
        f"resume={'yes' if result['is_resume'] else 'no'}({result['resume_confidence']}) "
        f"language={result['language']}({result['language_confidence']:.2f}) "
        f"{result['elapsed_ms']}ms"
    )
    if result["notes"]:
        line += " notes=" + ",".join(result["notes"])
    if result["signals"]:
        line += "\n  signals: " + " ".join(result["signals"])
    if with_text and result.get("text"):
        line += "\n" + "\n".join("  | " + t for t in str(result["text"]).splitlines())
    return line
