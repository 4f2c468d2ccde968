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

from tests.conftest import resumebek_env

USERS = int(os.environ.get("CRASH_USERS", "12"))
KILLS = int(os.environ.get("CRASH_KILLS", "20"))
pytestmark = pytest.mark.slow


RESUME = """Aruzhan Seitkali
Junior Data Analyst
Almaty, Kazakhstan | aruzhan.seitkali@example.kz | +7 701 000 00 00

SUMMARY
Final-year economics student with two internships in data analysis. Skilled in SQL,
Python and Power BI; built dashboards used by a sales team of 40 people.

EXPERIENCE
Data Analyst Intern, Kaspi Marketplace partner, Almaty — June 2025 to August 2025
- Automated a weekly sales report in Python, saving 6 hours of manual work per week.
- Cleaned and joined 3 data sources (1.2 million rows) for a churn analysis.
Research Assistant, Narxoz University, Almaty — September 2024 to May 2025
- Collected and analysed survey data from 350 respondents for a regional study.

EDUCATION
Narxoz University, Bachelor of Economics, 2022 to 2026, GPA 3.6 of 4.0

SKILLS
SQL, Python (pandas), Power BI, Excel, statistics, presentation skills

LANGUAGES
Kazakh (native), Russian (fluent), English (B2, IELTS 6.5)
"""


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
        LOG_LEVEL="INFO",
    )
    with out.open("ab") as sink, out.with_suffix(".log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "resumebek", "chat", "--jsonl", "--keep-running"],
            env=env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=sink,
            stderr=log,
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
    resume = tmp_path / "resume.txt"
    resume.write_text(RESUME, encoding="utf-8")
    if not _chat_command_exists():
        pytest.skip("`resumebek chat --keep-running` is not built on this branch yet")
    rng = random.Random(int(os.environ.get("CRASH_SEED", "6")))
    data_dir, out = tmp_path / "data", tmp_path / "out.jsonl"
    data_dir.mkdir()
    script = b"".join(f"/as {100 + u}\n/paste {resume}\n".encode() for u in range(USERS))
    # phase 1: every user gets a review; kill as soon as all reminders are on disk
    proc = _start(data_dir, out, script)
    deadline = time.monotonic() + 60
    # (early reminders may already go out while later reviews are still being written)
    while (_pending(data_dir) or 0) + len(_followups(out)) < USERS and time.monotonic() < deadline:
        time.sleep(0.05)
    _kill(proc)
    accounted = (_pending(data_dir) or 0) + len(_followups(out))
    assert accounted >= USERS, "the reviews did not all get a durable reminder"
    # phase 2: crash loop around the due time
    kills = 0
    for _ in range(KILLS):
        proc = _start(data_dir, out, None)
        time.sleep(rng.uniform(0.2, 3.0))
        _kill(proc)
        kills += 1
    # phase 3: run until nothing is pending, then a graceful stop
    log = out.with_suffix(".log")
    started_before = log.read_bytes().count(b"supervisor.started")
    proc = _start(data_dir, out, None)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (
        log.read_bytes().count(b"supervisor.started") == started_before or _pending(data_dir) != 0
    ):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    sent = _followups(out)
    duplicates = sum(n - 1 for n in sent.values())
    sys.stdout.write(
        f"\ncrash loop: {USERS} reminders, {kills} SIGKILLs, "
        f"sends={sum(sent.values())}, duplicates={duplicates}\n"
    )
    assert code == 0
    assert sorted(sent) == [100 + u for u in range(USERS)]  # none lost
    assert duplicates <= kills  # at most the one in flight per crash
