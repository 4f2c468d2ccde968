"""Hostile and broken input through `resumebek chat`: one answer each, no hang, bounded memory.

    python -m bench.badinput [--fuzz 60] [--timeout 10] [--json FILE]

Inputs: every file in ../shared/cases, plus a fuzzed set written to a temp dir: PDFs and
DOCX from the dev corpus mutated by hypothesis (bit flips, truncation, deleted, duplicated
or random chunks), random bytes under resume-like names, 0-byte files, a 50 MB file, and a
200,000-character text (as a .txt document and pasted as a message). Each input is sent by
its own user, two at a time (the extractor's worker count), and the next pair goes only
once both are answered, so each input's time is its own. Checks: exactly one answer per
input (the ⏳ is edited into it), no answer later than the extraction timeout plus a
margin, the peak memory of the bot's process tree, and `ctl status`: no actor restarted
more than the supervisor's intensity allows, none failed; SIGTERM then exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.harness import CASES, CORPUS, ROOT, TreeMemorySampler, corpus_resumes, machine
from resumebek.domain.texts import t
from resumebek.messages import LANGUAGES

PLACEHOLDERS = tuple(t("analyzing", lang) for lang in LANGUAGES)


@dataclass(frozen=True, slots=True)
class Input:
    label: str  # file name (a fixture or a generated one): bench output only
    path: Path
    paste: bool = False  # send the file's text as a message instead of a document


# ---------------------------------------------------------------- the fuzzed set


def mutate(data: bytes, ops: list[tuple[str, int, int, bytes]]) -> bytes:
    """Apply (op, position, length, bytes) mutations; positions wrap around the data."""
    buf = bytearray(data)
    for op, pos, length, chunk in ops:
        if not buf:
            buf.extend(chunk)
            continue
        i = pos % len(buf)
        if op == "flip":
            buf[i] ^= 1 << (length % 8)
        elif op == "truncate":
            del buf[i:]
        elif op == "delete":
            del buf[i : i + length]
        elif op == "duplicate":
            buf[i:i] = buf[i : i + length]
        elif op == "insert":
            buf[i:i] = chunk
        elif op == "zero":
            buf[i : i + length] = bytes(len(buf[i : i + length]))
    return bytes(buf)


def hypothesis_mutants(sources: list[tuple[str, bytes]], n: int, seed: int) -> list[bytes]:
    """`n` mutants drawn by hypothesis (derandomized: the same set for the same seed)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    out: list[bytes] = []
    op = st.tuples(
        st.sampled_from(["flip", "truncate", "delete", "duplicate", "insert", "zero"]),
        st.integers(min_value=0, max_value=1 << 20),
        st.integers(min_value=1, max_value=4096),
        st.binary(min_size=1, max_size=256),
    )

    @settings(
        max_examples=n,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.integers(min_value=0, max_value=len(sources) - 1), st.lists(op, min_size=1, max_size=6)
    )
    def draw(index: int, ops: list[tuple[str, int, int, bytes]]) -> None:
        if len(out) < n:
            out.append(mutate(sources[index][1], ops))

    random.seed(seed)
    draw()
    return out


def fuzz_inputs(directory: Path, n: int, seed: int) -> list[Input]:
    rng = random.Random(seed)
    docs = [d for d in corpus_resumes(CORPUS) if d.name.endswith((".pdf", ".docx"))]
    sources = [(d.name, d.data) for d in docs]
    inputs: list[Input] = []

    def write(name: str, data: bytes, paste: bool = False) -> None:
        path = directory / name
        path.write_bytes(data)
        inputs.append(Input(name, path, paste))

    for i, data in enumerate(hypothesis_mutants(sources, n, seed)):
        ext = ".pdf" if data[:4] == b"%PDF" else ".docx"
        write(f"mutant_{i:03d}{ext}", data)
    for i, name in enumerate(["resume.pdf", "CV_final.docx", "Резюме.txt", "түйіндеме.pdf"]):
        write(f"random_{i}_{name}", rng.randbytes(rng.randint(1, 200_000)))
    for name in ("empty.pdf", "empty.docx", "empty.txt"):
        write(name, b"")
    write("huge_50mb_resume.pdf", b"%PDF-1.7\n" + rng.randbytes(50 * 1024 * 1024))
    text = next(d.data for d in corpus_resumes(CORPUS) if d.name.endswith(".txt"))
    long_text = (text.decode("utf-8", "replace") * (200_000 // max(1, len(text)) + 1))[:200_000]
    write("long_200k_chars.txt", long_text.encode())
    inputs.append(Input("long_200k_chars (pasted)", directory / "long_200k_chars.txt", True))
    return inputs


def case_inputs() -> list[Input]:
    return [
        Input(p.name, p) for p in sorted(CASES.iterdir()) if p.is_file() and p.name != "README.md"
    ]


# ---------------------------------------------------------------- running them


class ChatProcess:
    """`resumebek chat --keep-running --jsonl`: final state of every message, per chat."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "resumebek", "chat", "--keep-running", "--jsonl"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,  # the bot's own log lines: event names, kinds, no user data
            start_new_session=True,
        )
        self.tail: list[str] = []
        self.messages: dict[tuple[int, int], str] = {}
        self.answered_at: dict[int, float] = {}
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                r = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if r.get("action") not in ("send", "edit", "send_document"):
                continue
            chat, mid = r.get("chat_id"), r.get("message_id")
            if not isinstance(chat, int) or not isinstance(mid, int):
                continue
            html = str(r.get("html", ""))
            with self._lock:
                self.messages[(chat, mid)] = html
                if not html.startswith(PLACEHOLDERS):
                    self.answered_at.setdefault(chat, time.monotonic())

    def answers(self, chat: int) -> int:
        with self._lock:
            return sum(
                1
                for (c, _), html in self.messages.items()
                if c == chat and not html.startswith(PLACEHOLDERS)
            )

    def placeholders(self, chat: int) -> int:
        with self._lock:
            return sum(
                1
                for (c, _), html in self.messages.items()
                if c == chat and html.startswith(PLACEHOLDERS)
            )

    def feed(self, *lines: str) -> bool:
        """False when the bot is gone (its stdin pipe broke)."""
        assert self.proc.stdin is not None
        try:
            for line in lines:
                self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def log_tail(self, lines: int = 25) -> list[str]:
        self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return [line for line in text if "WARNING" in line or "ERROR" in line][-lines:]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # `chat` waits for end of input before exiting (reported)
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = -9
        self.proc.wait(30)
        self._reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.tail = self.log_tail()
        self._log.close()
        return code


def _wait(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def run_inputs(
    inputs: list[Input],
    *,
    extract_timeout_s: float = 10.0,
    parallel: int = 2,
    settle_s: float = 1.2,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="resumebek-bad-") as tmp:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"API", "OPENAI_API_KEY", "OPENAI_BASE_URL", "BOT_TOKEN"}
        }
        env.update(
            PYTHONPATH=str(ROOT),
            DATA_DIR=tmp,
            HTTP_ENABLED="false",
            LOG_LEVEL="WARNING",
            EXTRACT_TIMEOUT=f"{extract_timeout_s}s",
            USER_DAILY_LIMIT="1000",
        )
        bot = ChatProcess(env, Path(tmp) / "bot.log")
        died_at: str | None = None  # the input being fed when the bot was found gone
        # download, the outbox's 1 msg/s per chat, and queueing behind the 2 workers
        margin = 15.0 + extract_timeout_s * (parallel // 2 - 1)
        rows: list[dict[str, Any]] = []
        with TreeMemorySampler(bot.proc.pid) as memory:
            user = 70_000
            for start in range(0, len(inputs), parallel):
                batch = []
                for item in inputs[start : start + parallel]:
                    verb = "/paste" if item.paste else "/send"
                    if died_at is None and not bot.feed(f"/as {user}", f"{verb} {item.path}"):
                        died_at = item.label
                    batch.append((user, item, time.monotonic()))
                    user += 1
                if died_at is not None:
                    break
                _wait(
                    lambda batch=batch: all(bot.answers(u) > 0 for u, _, _ in batch),  # type: ignore[misc]
                    extract_timeout_s + margin,
                )
                time.sleep(settle_s)  # a second answer would come within the per-chat interval
                for u, item, sent in batch:
                    answered = bot.answered_at.get(u)
                    rows.append(
                        {
                            "input": item.label,
                            "answers": bot.answers(u),
                            "dangling_placeholders": bot.placeholders(u),
                            "seconds": None if answered is None else round(answered - sent, 2),
                        }
                    )
            status_env = dict(env)
            status = subprocess.run(
                [sys.executable, "-m", "resumebek", "ctl", "status", "--json"],
                cwd=ROOT,
                env=status_env,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            actors = json.loads(status.stdout) if status.returncode == 0 else []
        exit_code = bot.stop()
        log_tail = bot.tail
    return {
        "rows": rows,
        "bot_died_feeding": died_at,
        "log_tail": log_tail,
        "actors": actors,
        "exit_code": exit_code,
        "peak_rss_mb": round(memory.peak_rss_kb / 1024, 1),
        "peak_pss_mb": round(memory.peak_pss_kb / 1024, 1),
        "extract_timeout_s": extract_timeout_s,
        "deadline_s": extract_timeout_s + margin,
    }


def verdict(result: dict[str, Any], max_restarts: int = 5) -> dict[str, Any]:
    rows = result["rows"]
    seconds = [r["seconds"] for r in rows if r["seconds"] is not None]
    return {
        "inputs": len(rows),
        "bot_died_feeding": result["bot_died_feeding"],
        "exactly_one_answer": sum(1 for r in rows if r["answers"] == 1),
        "no_answer": [r["input"] for r in rows if r["answers"] == 0],
        "several_answers": [r["input"] for r in rows if r["answers"] > 1],
        "dangling_placeholders": [r["input"] for r in rows if r["dangling_placeholders"]],
        "slowest_s": max(seconds, default=0.0),
        "over_deadline": [r["input"] for r in rows if (r["seconds"] or 0) > result["deadline_s"]],
        "restarts": {a["name"]: a["restarts"] for a in result["actors"]},
        "failed_actors": [a["name"] for a in result["actors"] if a["state"] == "failed"],
        "over_intensity": [a["name"] for a in result["actors"] if a["restarts"] > max_restarts],
        "status_read": bool(result["actors"]),
        "exit_code": result["exit_code"],
        "peak_rss_mb": result["peak_rss_mb"],
        "peak_pss_mb": result["peak_pss_mb"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--fuzz", type=int, default=60, help="hypothesis mutants of corpus PDF/DOCX")
    p.add_argument("--timeout", type=float, default=10.0, help="EXTRACT_TIMEOUT for the bot")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--keep", type=Path, default=None, help="write the fuzzed files here (kept)")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="resumebek-fuzz-") as tmp:
        where = a.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        inputs = case_inputs() + fuzz_inputs(where, a.fuzz, a.seed)
        result = run_inputs(inputs, extract_timeout_s=a.timeout)
    v = verdict(result)
    v["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    v["machine"] = machine()
    for key, value in v.items():
        print(f"{key}: {value}")
    if a.json is not None:
        a.json.write_text(json.dumps({"verdict": v, **result}, indent=2), encoding="utf-8")
    if v["bot_died_feeding"] is not None:
        print("the bot died; its last warnings and errors:")
        print("\n".join(result["log_tail"]))
    ok = (
        v["bot_died_feeding"] is None
        and v["exactly_one_answer"] == v["inputs"]
        and not v["over_deadline"]
        and not v["failed_actors"]
        and not v["over_intensity"]
        and v["exit_code"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
