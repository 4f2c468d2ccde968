"""Shared pieces of the proving-ground benchmarks: corpus, process-tree memory, the LLM server.

Nothing here is timed against a target; the scripts print figures and the README keeps them.
"""

from __future__ import annotations

import csv
import mimetypes
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "dev"
CASES = SHARED / "cases"


@dataclass(frozen=True, slots=True)
class Doc:
    name: str
    data: bytes
    mime_type: str | None


def corpus_resumes(corpus: Path = CORPUS) -> list[Doc]:
    """Every file the manifest labels `resume` (the load scenarios cycle through them)."""
    docs: list[Doc] = []
    with (corpus / "manifest.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["label"] == "resume":
                path = corpus / row["file"]
                mime, _ = mimetypes.guess_type(path.name)
                docs.append(Doc(path.name, path.read_bytes(), mime))
    if not docs:
        raise FileNotFoundError(f"no resumes listed in {corpus / 'manifest.tsv'}")
    return docs


# ---------------------------------------------------------------- memory of a process tree


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces or parentheses: ppid follows the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        kids.setdefault(int(fields[1]), []).append(int(entry.name))
    return kids


def process_tree(root: int) -> list[int]:
    kids = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, ()))
    return out


def _kb(path: str, key: bytes) -> int:
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory_kb(root: int) -> tuple[int, int, int]:
    """(sum of RSS, sum of PSS, processes) of `root` and every descendant, in KiB.
    RSS counts shared pages once per process (pessimistic); PSS splits them."""
    rss = pss = 0
    pids = process_tree(root)
    for pid in pids:
        rss += _kb(f"/proc/{pid}/status", b"VmRSS:")
        pss += _kb(f"/proc/{pid}/smaps_rollup", b"Pss:")
    return rss, pss, len(pids)


class TreeMemorySampler:
    """Samples the memory of a process tree every `interval_s` in a thread; keeps the peaks."""

    def __init__(self, root: int | None = None, *, interval_s: float = 0.25) -> None:
        self.root = root if root is not None else os.getpid()
        self.interval_s = interval_s
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mem-sampler", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def sample(self) -> None:
        rss, pss, n = tree_memory_kb(self.root)
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)
        self.peak_processes = max(self.peak_processes, n)
        self.samples += 1

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sample()


# ---------------------------------------------------------------- the LLM server, out of process


class LLMServerProcess:
    """bench/llm_server.py in its own process, so its memory and CPU are not the bot's.

    `stop()` then `start()` brings it back on the same port (a provider outage)."""

    def __init__(
        self,
        *,
        latency: tuple[float, float] = (0.0, 0.0),
        fail_rate: float = 0.0,
        seed: int = 1,
        port: int = 0,
    ) -> None:
        self.latency = latency
        self.fail_rate = fail_rate
        self.seed = seed
        self.port = port
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LLMServerProcess:
        cmd = [
            sys.executable,
            "-m",
            "bench.llm_server",
            "--port",
            str(self.port),
            "--latency",
            f"{self.latency[0]}-{self.latency[1]}",
            "--fail-rate",
            str(self.fail_rate),
            "--seed",
            str(self.seed),
        ]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self._proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError("the LLM server did not start")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(10)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
        self._proc = None

    def __enter__(self) -> LLMServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine() -> str:
    cpus = os.cpu_count() or 0
    mem_kb = _kb("/proc/meminfo", b"MemTotal:")
    return f"{cpus} CPU, {mem_kb / 1024 / 1024:.0f} GiB RAM, Python {sys.version.split()[0]}"


def wait_for(predicate: object, timeout_s: float, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(poll_s)
    return bool(callable(predicate) and predicate())
