"""ProcessExtractor: real worker processes, wall timeout (the worker is killed, not
abandoned), the address-space cap, and a worker that dies is replaced."""

from __future__ import annotations

import os
import time
from pathlib import Path

import anyio
import pytest

from services.extraction_pool import ProcessExtractor
from services.ports import Detection, Extraction
from tests.conftest import FIXTURES
from tests.docgen import build_pdf, text_lines

DOCS = FIXTURES / "documents"
RESUME = build_pdf(
    [
        text_lines(
            [
                "Aruzhan Test - Junior Analyst",
                "Experience: analyst intern, Test Bank, 2023 - 2024",
                "Education: BSc Statistics, Test University, 2020 - 2024",
                "Skills: SQL, Python, Excel, Power BI",
            ]
        )
    ]
)


def slow_pdf() -> bytes:
    """A valid page with ~400k text operators: seconds of pypdf work."""
    return build_pdf([b"BT /F1 1 Tf " + b"(a) Tj " * 400_000 + b"ET"])


def pool(**overrides: float) -> ProcessExtractor:
    options: dict[str, float] = {"workers": 2, "timeout_s": 20, "memory_mb": 768, "max_pages": 10}
    options.update(overrides)
    return ProcessExtractor(
        workers=int(options["workers"]),
        timeout_s=options["timeout_s"],
        memory_mb=int(options["memory_mb"]),
        max_pages=int(options["max_pages"]),
    )


def die(
    data: bytes,
    name_hint: str,
    mime_type: str | None,
    max_pages: int,
    max_bytes: int,
    memory_mb: int,
) -> Extraction:
    os._exit(3)  # a worker killed from inside (the kernel's OOM killer, a C crash)


def hang(
    data: bytes,
    name_hint: str,
    mime_type: str | None,
    max_pages: int,
    max_bytes: int,
    memory_mb: int,
) -> Extraction:
    Path(data.decode()).write_text(str(os.getpid()))
    time.sleep(60)  # a parser stuck in a loop
    return Extraction(outcome="ok", format="never")


def report_pid(
    data: bytes,
    name_hint: str,
    mime_type: str | None,
    max_pages: int,
    max_bytes: int,
    memory_mb: int,
) -> Extraction:
    return Extraction(outcome="ok", format=str(os.getpid()))


def nap(
    data: bytes,
    name_hint: str,
    mime_type: str | None,
    max_pages: int,
    max_bytes: int,
    memory_mb: int,
) -> Extraction:
    time.sleep(0.8)  # a slow but honest parse
    return Extraction(outcome="ok", format="pdf")


def worker_pid(text: str) -> Detection:
    """A classifier that says which process ran it."""
    return Detection(
        resume_confidence=50, signals=(str(os.getpid()),), language="en", language_confidence=1.0
    )


def hang_classifier(text: str) -> Detection:
    time.sleep(60)  # a detector stuck in a loop on some text
    raise AssertionError("not reached")


def broken_classifier(text: str) -> Detection:
    raise ValueError("a detector bug")


async def test_waiting_for_a_busy_worker_does_not_count_against_the_timeout() -> None:
    # three files for one worker: each parse fits its timeout, the queue before it does not
    results: list[str] = []
    async with ProcessExtractor(
        workers=1, timeout_s=1.5, memory_mb=768, max_pages=10, job=nap
    ) as extractor:

        async def one() -> None:
            result = await extractor.extract(b"x", name_hint="cv.pdf", mime_type=None)
            results.append(result.outcome)

        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(one)
    assert results == ["ok", "ok", "ok"]


async def test_extracts_in_a_worker_process() -> None:
    async with pool() as extractor:
        result = await extractor.extract(RESUME, name_hint="cv.pdf", mime_type=None)
    assert result.outcome == "ok" and "Junior Analyst" in result.text


async def test_every_case_file_returns_an_outcome() -> None:
    names = sorted(p.name for p in DOCS.iterdir())
    results: dict[str, str] = {}
    async with pool() as extractor:

        async def one(name: str) -> None:
            data = (DOCS / name).read_bytes()
            results[name] = (await extractor.extract(data, name_hint=name, mime_type=None)).outcome

        async with anyio.create_task_group() as tg:
            for name in names:
                tg.start_soon(one, name)
    assert set(results) == set(names)
    assert results["docx_zip_bomb_300mb_text.docx"] == "corrupt"
    assert results["pdf_flate_bomb_nested.pdf"] == "corrupt"
    assert results["pdf_cyrillic_kk_ru_ok.pdf"] == "ok"


async def test_timeout_kills_the_worker_and_the_pool_goes_on(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    async with ProcessExtractor(
        workers=1, timeout_s=0.5, memory_mb=768, max_pages=10, job=hang
    ) as hanging:
        started = time.perf_counter()
        result = await hanging.extract(str(pid_file).encode(), name_hint="x", mime_type=None)
        took = time.perf_counter() - started
    assert result.outcome == "timeout"
    assert took < 3.0  # control came back: nobody waited for the job
    pid = int(pid_file.read_text())
    for _ in range(100):  # a real process dying: there is no clock to fake
        if not _alive(pid):
            break
        await anyio.sleep(0.05)
    else:
        raise AssertionError("the timed-out worker is still running")
    async with pool() as extractor:
        after = await extractor.extract(RESUME, name_hint="cv.pdf", mime_type=None)
    assert after.outcome == "ok"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a killed child not yet reaped is a zombie: dead for our purpose
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


async def test_memory_cap_turns_an_allocation_bomb_into_corrupt() -> None:
    async with pool(memory_mb=64) as extractor:  # far below what parsing needs
        result = await extractor.extract(slow_pdf(), name_hint="cv.pdf", mime_type=None)
    assert result.outcome in ("corrupt", "timeout")
    async with pool() as extractor:  # the cap was lifted after the job: workers are reused
        assert (await extractor.extract(RESUME, name_hint="cv.pdf", mime_type=None)).outcome == "ok"


async def test_a_dead_worker_is_replaced() -> None:
    async with ProcessExtractor(
        workers=1, timeout_s=10, memory_mb=768, max_pages=10, job=die
    ) as dying:
        result = await dying.extract(RESUME, name_hint="cv.pdf", mime_type=None)
    assert result.outcome == "corrupt"
    async with ProcessExtractor(
        workers=1, timeout_s=10, memory_mb=768, max_pages=10, job=report_pid
    ) as healthy:
        pid = (await healthy.extract(RESUME, name_hint="cv.pdf", mime_type=None)).format
    assert pid.isdigit() and int(pid) != os.getpid()


async def test_oversized_input_never_reaches_a_worker() -> None:
    async with ProcessExtractor(
        workers=1, timeout_s=10, memory_mb=768, max_pages=10, max_bytes=100, job=die
    ) as extractor:
        result = await extractor.extract(b"x" * 101, name_hint="a.txt", mime_type=None)
    assert result.outcome == "too_large"


async def test_closed_extractor_refuses_work() -> None:
    extractor = pool()
    await extractor.aclose()
    try:
        await extractor.extract(RESUME, name_hint="cv.pdf", mime_type=None)
    except RuntimeError:
        pass
    else:
        raise AssertionError("a closed extractor took a job")


async def test_from_settings_uses_the_configured_limits() -> None:
    from resumebek.config import load_settings

    settings = load_settings({"MAX_FILE_MB": "0.001", "EXTRACT_WORKERS": "1", "MAX_PAGES": "3"})
    extractor = ProcessExtractor.from_settings(settings)
    assert (extractor.workers, extractor.max_pages, extractor.max_bytes) == (1, 3, 1048)
    result = await extractor.extract(b"x" * 2000, name_hint="a.txt", mime_type=None)
    assert result.outcome == "too_large"


async def test_aclose_lets_idle_workers_exit_before_the_loop_closes() -> None:
    """Left to anyio's loop-shutdown kill, asyncio's child watcher may log "Unknown child
    process pid N" for them."""
    import anyio.to_process

    async with pool(workers=2) as extractor:
        pdf = build_pdf([b"BT /F1 12 Tf (Aigerim, intern) Tj ET"])
        await extractor.extract(pdf, name_hint="cv.pdf", mime_type=None)
        workers = set(anyio.to_process._process_pool_workers.get())
        assert len(workers) == 2  # warmed at start
    assert anyio.to_process._process_pool_workers.get() == set()
    assert [w.returncode for w in workers] == [0, 0]  # they exited on their own: EOF


async def test_the_classifier_runs_in_the_worker_on_an_ok_text() -> None:
    async with pool(workers=1) as extractor:
        result = await extractor.extract(
            RESUME, name_hint="cv.pdf", mime_type=None, classifier=worker_pid
        )
        refused = await extractor.extract(
            b"{\\rtf1 x}", name_hint="cv.rtf", mime_type=None, classifier=worker_pid
        )
        plain = await extractor.extract(RESUME, name_hint="cv.pdf", mime_type=None)
    assert result.outcome == "ok" and result.detection is not None
    [pid] = result.detection.signals
    assert pid.isdigit() and int(pid) != os.getpid()
    assert refused.outcome != "ok" and refused.detection is None  # nothing to classify
    assert plain.outcome == "ok" and plain.detection is None  # no classifier, no figures


async def test_a_hanging_classifier_times_out_like_a_hanging_parser() -> None:
    async with ProcessExtractor(workers=1, timeout_s=1.0, memory_mb=768, max_pages=10) as ex:
        started = time.perf_counter()
        result = await ex.extract(
            RESUME, name_hint="cv.pdf", mime_type=None, classifier=hang_classifier
        )
        took = time.perf_counter() - started
        after = await ex.extract(RESUME, name_hint="cv.pdf", mime_type=None)
    assert result.outcome == "timeout" and took < 4.0
    assert after.outcome == "ok"  # a fresh worker took over


async def test_a_classifier_bug_reaches_the_caller_as_on_the_event_loop() -> None:
    # not turned into "corrupt": the actor crashes and is restarted, as it was when it
    # ran the detectors itself
    async with pool(workers=1) as extractor:
        with pytest.raises(ValueError, match="a detector bug"):
            await extractor.extract(
                RESUME, name_hint="cv.pdf", mime_type=None, classifier=broken_classifier
            )
        after = await extractor.extract(RESUME, name_hint="cv.pdf", mime_type=None)
    assert after.outcome == "ok"
