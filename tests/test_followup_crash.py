"""Crash safety with a real process: `resumebek chat --keep-running`, FOLLOW_UP_DELAY=5s,
SIGKILL at random moments around the due time, restarted each time; every reminder that
was durably scheduled must be delivered, and at most one duplicate per kill (the window
is the one send awaiting its receipt). Slow: run with `-m slow`."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest

from tests.conftest import resumebek_env, shared_path

USERS = 12
KILLS = 20
pytestmark = pytest.mark.slow


def _chat_command_exists() -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "resumebek", "chat", "--help"],
        env=resumebek_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "--keep-running" in probe.stdout


def _pending(data_dir: Path) -> int | None:
    try:
        doc = orjson.loads((data_dir / "followup_jobs.json").read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    return len(doc["jobs"]) if isinstance(doc, dict) else None


def _start(data_dir: Path, out: Path, stdin: bytes | None) -> subprocess.Popen[bytes]:
    env = resumebek_env(
        DATA_DIR=str(data_dir),
        FOLLOW_UP_DELAY="5s",
        QUIET_HOURS="off",
        HTTP_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    with out.open("ab") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "resumebek", "chat", "--jsonl", "--keep-running"],
            env=env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.DEVNULL,
        )
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
    return proc


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _followups(out: Path) -> Counter[int]:
    sent: Counter[int] = Counter()
    for line in out.read_bytes().splitlines():
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a line cut by SIGKILL
        urls = [b.get("url", "") for b in rec.get("buttons", [])]
        if rec.get("action") == "send" and any("utm_campaign=followup" in u for u in urls):
            sent[int(rec["chat_id"])] += 1
    return sent


def test_every_reminder_is_delivered_once_across_sigkills(tmp_path: Path) -> None:
    resume = shared_path("cases", "text_english_resume_kz.txt")
    if not _chat_command_exists():
        pytest.skip("`resumebek chat --keep-running` is not built on this branch yet")
    rng = random.Random(int(os.environ.get("CRASH_SEED", "6")))
    data_dir, out = tmp_path / "data", tmp_path / "out.jsonl"
    data_dir.mkdir()
    script = b"".join(f"/as {100 + u}\n/paste {resume}\n".encode() for u in range(USERS))
    # phase 1: every user gets a review; kill as soon as all reminders are on disk
    proc = _start(data_dir, out, script)
    deadline = time.monotonic() + 60
    while (_pending(data_dir) or 0) < USERS and time.monotonic() < deadline:
        time.sleep(0.05)
    _kill(proc)
    scheduled = _pending(data_dir) or 0
    assert scheduled == USERS, "the reviews did not all get a durable reminder"
    # phase 2: crash loop around the due time
    kills = 0
    for _ in range(KILLS):
        proc = _start(data_dir, out, None)
        time.sleep(rng.uniform(0.2, 3.0))
        _kill(proc)
        kills += 1
    # phase 3: run until nothing is pending, then a graceful stop
    proc = _start(data_dir, out, None)
    deadline = time.monotonic() + 90
    while _pending(data_dir) != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    sent = _followups(out)
    duplicates = sum(n - 1 for n in sent.values())
    print(
        f"\ncrash loop: {USERS} reminders, {kills} SIGKILLs, sends={sum(sent.values())}, duplicates={duplicates}"
    )
    assert sorted(sent) == [100 + u for u in range(USERS)]  # none lost
    assert duplicates <= kills  # at most the one in flight per crash
