"""ProcessExtractor: runs services.documents.extract_bytes in killable worker processes.

Each job runs through anyio `to_process.run_sync(..., cancellable=True)` under
`fail_after(timeout_s)`: on timeout anyio kills the worker (SIGKILL) and the next job gets
a fresh one, so a hostile file can never hang the bot. Inside the worker, RLIMIT_AS caps
the address space (one fixed cap for every job, so a reused worker keeps it), and a file
that exhausts it comes back as `corrupt`, not as a dead bot. A worker that dies outright
(BrokenWorkerProcess) is replaced the same way.
"""

from __future__ import annotations

import logging
import resource
import time
from types import TracebackType

import anyio
import anyio.to_process
from anyio import BrokenWorkerProcess, CapacityLimiter

from services.documents import DEFAULT_MAX_BYTES, extract_bytes
from services.ports import Extraction

log = logging.getLogger(__name__)


def _cap_memory(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > limit:
        new_hard = hard if hard == resource.RLIM_INFINITY or hard >= limit else hard
        resource.setrlimit(resource.RLIMIT_AS, (min(limit, new_hard), new_hard))


def run_in_worker(
    data: bytes,
    name_hint: str,
    mime_type: str | None,
    max_pages: int,
    max_bytes: int,
    memory_mb: int,
) -> Extraction:
    """The job a worker runs (module level: workers import it by name)."""
    _cap_memory(memory_mb)
    started = time.perf_counter()
    try:
        return extract_bytes(
            data, name_hint=name_hint, mime_type=mime_type, max_pages=max_pages, max_bytes=max_bytes
        )
    except MemoryError:
        return Extraction(
            outcome="corrupt",
            format="unknown",
            elapsed_ms=int((time.perf_counter() - started) * 1000),
        )
    except RecursionError:
        return Extraction(outcome="corrupt", format="unknown")


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
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self._limiter = CapacityLimiter(workers)
        self._closed = False

    async def extract(self, data: bytes, *, name_hint: str, mime_type: str | None) -> Extraction:
        if self._closed:
            raise RuntimeError("ProcessExtractor is closed")
        if len(data) > self.max_bytes:
            return Extraction(outcome="too_large", format="unknown")
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                with anyio.fail_after(self.timeout_s):
                    return await anyio.to_process.run_sync(
                        run_in_worker,
                        data,
                        name_hint,
                        mime_type,
                        self.max_pages,
                        self.max_bytes,
                        self.memory_mb,
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

    async def aclose(self) -> None:
        # anyio owns its worker processes: idle ones are pruned and all are terminated
        # at event-loop shutdown; a closed extractor takes no new jobs
        self._closed = True

    async def __aenter__(self) -> ProcessExtractor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
