"""ProcessExtractor: runs services.documents.extract_bytes in killable worker processes.

A caller may pass a classifier (a module-level function, e.g. resume and language
detection): the worker runs it on an "ok" text in the same job, so that CPU work is spent
in the worker, not on the event loop, and costs no second round trip.

Each job runs through anyio `to_process.run_sync(..., cancellable=True)` under
`fail_after(timeout_s)`: on timeout anyio kills the worker (SIGKILL) and the next job gets
a fresh one, so a hostile file can never hang the bot. Inside the worker, RLIMIT_AS caps
the address space (one fixed cap for every job, so a reused worker keeps it), and a file
that exhausts it comes back as `corrupt`, not as a dead bot. A worker that dies outright
(BrokenWorkerProcess) is replaced the same way.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType

import anyio
import anyio.to_process
from anyio import BrokenWorkerProcess, CapacityLimiter

from resumebek.config import Settings
from services.documents import DEFAULT_MAX_BYTES, extract_bytes
from services.ports import Classifier, Extraction

log = logging.getLogger(__name__)

# data, name_hint, mime_type, max_pages, max_bytes, memory_mb: run_in_worker's arguments
JobArgs = tuple[bytes, str, "str | None", int, int, int]
Job = Callable[[bytes, str, "str | None", int, int, int], Extraction]


def run_in_worker(
    data: bytes,
    name_hint: str,
    mime_type: str | None,
    max_pages: int,
    max_bytes: int,
    memory_mb: int,
) -> Extraction:
    """The job a worker runs (module level: workers import it by name). The address-space
    cap holds for this job only and is lifted afterwards, because anyio reuses workers."""
    started = time.perf_counter()
    previous = resource.getrlimit(resource.RLIMIT_AS)
    try:
        _cap_memory(memory_mb, previous)
        return extract_bytes(
            data, name_hint=name_hint, mime_type=mime_type, max_pages=max_pages, max_bytes=max_bytes
        )
    except (MemoryError, RecursionError):
        # a decompression or parse bomb hit the cap: a damaged file, not a dead bot
        return Extraction(
            outcome="corrupt",
            format="unknown",
            elapsed_ms=int((time.perf_counter() - started) * 1000),
        )
    except Exception as exc:  # noqa: BLE001 - the process boundary for untrusted files
        # a parser bug on a hostile file must still give the user an answer; the class
        # name is logged (never the message: it can quote the document)
        log.error("extract.parser_bug kind=%s", type(exc).__name__)
        return Extraction(
            outcome="corrupt",
            format="unknown",
            notes=("parser_error",),
            elapsed_ms=int((time.perf_counter() - started) * 1000),
        )
    finally:
        resource.setrlimit(resource.RLIMIT_AS, previous)


def extract_and_classify(job: Job, classifier: Classifier | None, args: JobArgs) -> Extraction:
    """What a worker runs for one document: `job(*args)` (run_in_worker), then `classifier`
    on an "ok" text. The classifier runs outside the job's memory cap and its exceptions
    reach the caller, as they would from a call on the event loop; the caller's timeout
    covers both."""
    extraction = job(*args)
    if classifier is None or extraction.outcome != "ok":
        return extraction
    return replace(extraction, detection=classifier(extraction.text))


def _cap_memory(memory_mb: int, previous: tuple[int, int]) -> None:
    soft, hard = previous
    limit = memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def warm_up() -> int:
    """A no-op job: spawning a worker and importing the parsers happens before real work."""
    return os.getpid()


async def stop_idle_workers(grace_s: float = 5.0) -> None:
    """End anyio's idle worker processes of this event loop: EOF on a worker's stdin makes
    it return, and we wait for its exit here.

    Left to anyio, they are SIGKILLed from the root task's done callback while the loop
    closes; asyncio's child watcher thread then races another waitpid() for the same pid
    (most likely the subprocess transport's close(), which polls its Popen) and logs "Unknown child process pid N, will report returncode 255".
    anyio has no public call for this, so its pool's RunVars are read directly."""
    try:
        workers = anyio.to_process._process_pool_workers.get()
        idle = anyio.to_process._process_pool_idle_workers.get()
    except LookupError:
        return  # no worker was ever started in this loop
    with anyio.CancelScope(shield=True):  # a cancelled caller still leaves no stray child
        while idle:
            process, _idle_since = idle.popleft()
            workers.discard(process)
            if process.stdin is not None:
                await process.stdin.aclose()
            with anyio.move_on_after(grace_s):
                await process.wait()
            if process.returncode is None:
                process.kill()
            await process.aclose()


class ProcessExtractor:
    """DocumentExtractor backed by a pool of `workers` processes."""

    def __init__(
        self,
        *,
        workers: int,
        timeout_s: float,
        memory_mb: int,
        max_pages: int,
        max_bytes: int = DEFAULT_MAX_BYTES,
        job: Job = run_in_worker,
    ) -> None:
        """`job` is the module-level function a worker runs; tests substitute it."""
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self._job = job
        self._limiter = CapacityLimiter(workers)
        # A job waits for a free worker here, outside its timeout: with more files in
        # flight than workers (the extractor actor downloads ahead), time spent queueing
        # behind a slow file must not count against the next file's parse time.
        self._free_worker = anyio.Semaphore(workers)
        self._closed = False
        self._warm = False

    @classmethod
    def from_settings(cls, settings: Settings, *, workers: int | None = None) -> ProcessExtractor:
        """EXTRACT_WORKERS, EXTRACT_TIMEOUT, EXTRACT_MEMORY_MB, MAX_PAGES and MAX_FILE_MB."""
        return cls(
            workers=workers or settings.extract_workers or 2,
            timeout_s=settings.extract_timeout_s,
            memory_mb=settings.extract_memory_mb,
            max_pages=settings.max_pages,
            max_bytes=settings.max_file_bytes,
        )

    async def extract(
        self,
        data: bytes,
        *,
        name_hint: str,
        mime_type: str | None,
        classifier: Classifier | None = None,
    ) -> Extraction:
        if self._closed:
            raise RuntimeError("ProcessExtractor is closed")
        if len(data) > self.max_bytes:
            return Extraction(outcome="too_large", format="unknown")
        async with self._free_worker:
            return await self._extract(
                data, name_hint=name_hint, mime_type=mime_type, classifier=classifier
            )

    async def _extract(
        self, data: bytes, *, name_hint: str, mime_type: str | None, classifier: Classifier | None
    ) -> Extraction:
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                with anyio.fail_after(self.timeout_s):
                    return await anyio.to_process.run_sync(
                        extract_and_classify,
                        self._job,
                        classifier,
                        (
                            data,
                            name_hint,
                            mime_type,
                            self.max_pages,
                            self.max_bytes,
                            self.memory_mb,
                        ),
                        cancellable=True,
                        limiter=self._limiter,
                    )
            except TimeoutError:
                log.warning("extract.timeout timeout_s=%s", self.timeout_s)
                return Extraction(
                    outcome="timeout",
                    format="unknown",
                    elapsed_ms=int((time.perf_counter() - started) * 1000),
                )
            except BrokenWorkerProcess:
                # the worker died (killed by the kernel, a crash in C code): a fresh one
                # gets one more try; a file that kills two workers is damaged
                log.warning("extract.worker_died attempt=%d", attempt)
        return Extraction(
            outcome="corrupt",
            format="unknown",
            elapsed_ms=int((time.perf_counter() - started) * 1000),
        )

    async def start(self) -> None:
        """Spawn and warm every worker now, so the first documents do not pay the start-up
        (process spawn and parser imports) inside their timeout."""
        if self._warm:
            return
        self._warm = True

        async def one() -> None:
            try:
                with anyio.fail_after(max(self.timeout_s, 30.0)):
                    await anyio.to_process.run_sync(
                        warm_up, cancellable=True, limiter=self._limiter
                    )
            except (TimeoutError, BrokenWorkerProcess):
                log.warning("extract.warm_up_failed")  # jobs will spawn workers on demand

        async with anyio.create_task_group() as tg:
            for _ in range(self.workers):
                tg.start_soon(one)

    async def aclose(self) -> None:
        """Take no new jobs, and let the idle workers exit while the loop still runs."""
        self._closed = True
        await stop_idle_workers()

    async def __aenter__(self) -> ProcessExtractor:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
