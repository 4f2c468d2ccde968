"""SIGKILL the bot at random moments during a load run, again and again, from one DATA_DIR.

    python -m bench.crash --kills 50 [--users-per-cycle 8] [--seed 1] [--json FILE]

Each cycle starts `python -m resumebek chat --keep-running --jsonl` (its own process group,
so the extractor worker processes die with it, as in a container kill), feeds new users'
resumes through stdin, and SIGKILLs the group after a random 1–5 s. Follow-ups are due 3 s
after a review (FOLLOW_UP_DELAY=3s, no quiet hours) so many fire between kills. After every
kill `followup_jobs.json` must parse; at the end one clean run sends what is due and stops on
SIGTERM. Then, from everything the bot printed across all runs:
- every delivered review has exactly one follow-up (sent once, or still pending),
- no follow-up was sent twice,
- analytics files parse except at most one torn line per crash.
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.harness import ROOT, corpus_resumes, machine
from resumebek.domain.followup import reminder_html
from resumebek.messages import LANGUAGES

REMINDERS = frozenset(reminder_html(lang) for lang in LANGUAGES)
FOLLOW_UP_DELAY_S = 3.0


def bot_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"API", "OPENAI_API_KEY", "OPENAI_BASE_URL", "BOT_TOKEN", "API_ID", "API_HASH"}
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATA_DIR=str(data_dir),
        HTTP_ENABLED="false",
        LOG_LEVEL="WARNING",
        FOLLOW_UP_DELAY=f"{FOLLOW_UP_DELAY_S}s",
        QUIET_HOURS="off",
        USER_DAILY_LIMIT="1000",
    )
    env.update(extra)
    return env


class Bot:
    """One incarnation of `resumebek chat`: stdin lines in, JSONL actions collected."""

    def __init__(self, env: dict[str, str], incarnation: int, sink: list[dict[str, Any]]) -> None:
        self.incarnation = incarnation
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "resumebek", "chat", "--keep-running", "--jsonl"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: workers die with it
        )
        self._sink = sink
        self.killed_at: float | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # a line torn by the kill: never reached "Telegram" whole
            record["incarnation"] = self.incarnation
            self._sink.append(record)

    def feed(self, line: str) -> bool:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def kill(self) -> None:
        self.killed_at = time.time()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)
        self._reader.join(10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def terminate(self, timeout_s: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        # `chat` blocks its exit on a stdin read until end of input (reported): give it one
        time.sleep(0.5)
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9
        self._reader.join(10)
        self._close_pipes()
        return code


@dataclass(slots=True)
class FileChecks:
    followup_snapshots_checked: int = 0
    followup_snapshot_unparsable: int = 0
    analytics_bad_lines: int = 0
    analytics_lines: int = 0
    analytics_files: int = 0
    quarantined: list[str] = field(default_factory=list)


def check_followup_snapshot(data_dir: Path, checks: FileChecks) -> None:
    path = data_dir / "followup_jobs.json"
    if not path.exists():
        return
    checks.followup_snapshots_checked += 1
    try:
        orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        checks.followup_snapshot_unparsable += 1


def check_analytics(data_dir: Path, checks: FileChecks) -> None:
    checks.analytics_bad_lines = checks.analytics_lines = checks.analytics_files = 0
    for path in sorted((data_dir / "analytics").glob("*.jsonl")):
        checks.analytics_files += 1
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            checks.analytics_lines += 1
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                checks.analytics_bad_lines += 1


def pending_followups(data_dir: Path) -> Counter[int]:
    """Chats with a pending job in the snapshot (after a clean stop the journal is folded in)."""
    path = data_dir / "followup_jobs.json"
    if not path.exists():
        return Counter()
    data = orjson.loads(path.read_bytes())
    finished: set[str] = set()
    journal = data_dir / "followup_jobs.journal"
    if journal.exists():
        for line in journal.read_bytes().splitlines():
            try:
                finished.add(str(orjson.loads(line).get("job_id")))
            except (orjson.JSONDecodeError, AttributeError):
                continue
    return Counter(
        int(job["chat"]) for job in data.get("jobs", []) if str(job.get("job_id")) not in finished
    )


def run_crashes(
    *,
    kills: int,
    users_per_cycle: int = 8,
    seed: int = 1,
    kill_after: tuple[float, float] = (1.0, 5.0),
    final_run_s: float = FOLLOW_UP_DELAY_S + 6.0,
    data_dir: Path | None = None,
) -> dict[str, Any]:
    rng = random.Random(seed)
    docs = corpus_resumes()
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="resumebek-crash-")
        data_dir = Path(tmp.name)
    env = bot_env(data_dir)
    records: list[dict[str, Any]] = []
    checks = FileChecks()
    sent: dict[int, int] = {}  # user → incarnation that got the upload
    next_user = 50_000
    killed_at: dict[int, float] = {}
    started = time.monotonic()
    try:
        for cycle in range(kills):
            bot = Bot(env, cycle, records)
            deadline = time.monotonic() + rng.uniform(*kill_after)
            for _ in range(users_per_cycle):
                doc = docs[next_user % len(docs)]
                path = CORPUS_DIR / doc.name
                if not (bot.feed(f"/as {next_user}") and bot.feed(f"/send {path}")):
                    break
                sent[next_user] = cycle
                next_user += 1
                time.sleep(rng.uniform(0.0, 0.3))
                if time.monotonic() >= deadline:
                    break
            time.sleep(max(0.0, deadline - time.monotonic()))
            bot.kill()
            killed_at[cycle] = bot.killed_at or time.time()
            check_followup_snapshot(data_dir, checks)
        # one clean run: restore, send what is due, stop gracefully
        bot = Bot(env, kills, records)
        time.sleep(final_run_s)
        final_exit = bot.terminate()
        check_followup_snapshot(data_dir, checks)
        check_analytics(data_dir, checks)
        checks.quarantined = sorted(p.name for p in data_dir.glob("followup_jobs*.bad*"))
        pending = pending_followups(data_dir)
    finally:
        if tmp is not None:
            tmp.cleanup()

    reviews: Counter[int] = Counter()
    followups: Counter[int] = Counter()
    review_before_kill: dict[int, float] = {}  # chat → seconds from its review to the kill
    for r in records:
        if r.get("action") not in ("send", "edit"):
            continue
        chat = r.get("chat_id")
        if not isinstance(chat, int):
            continue
        if any(str(b.get("data", "")).startswith("rate:") for b in r.get("buttons", [])):
            reviews[chat] += 1
            kill = killed_at.get(int(r.get("incarnation", -1)))
            if kill is not None and isinstance(r.get("ts"), float):
                review_before_kill[chat] = kill - float(r["ts"])
        elif r.get("action") == "send" and r.get("html") in REMINDERS:
            followups[chat] += 1
    reviewed = set(reviews)
    exactly_one = [c for c in reviewed if followups[c] + pending[c] == 1]
    missing = [c for c in reviewed if followups[c] + pending[c] == 0]
    twice_sent = [c for c in followups if followups[c] > 1]
    extra = [c for c in reviewed if followups[c] + pending[c] > 1]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "kills": kills,
        "users": len(sent),
        "reviews_delivered": len(reviewed),
        "review_messages": sum(reviews.values()),
        "users_without_review": len(set(sent) - reviewed),
        "followups_sent": sum(followups.values()),
        "followups_pending": sum(pending.values()),
        "reviews_with_exactly_one_followup": len(exactly_one),
        "reviews_missing_followup": len(missing),
        "followups_sent_twice": len(twice_sent),
        "missing_followup_review_to_kill_s": sorted(
            round(review_before_kill[c], 2) for c in missing if c in review_before_kill
        ),
        "reviews_with_more_than_one_followup": len(extra),
        "followups_without_review": len(set(followups) - reviewed),
        "followup_snapshots_checked": checks.followup_snapshots_checked,
        "followup_snapshot_unparsable": checks.followup_snapshot_unparsable,
        "followup_quarantined": checks.quarantined,
        "analytics_files": checks.analytics_files,
        "analytics_lines": checks.analytics_lines,
        "analytics_bad_lines": checks.analytics_bad_lines,
        "final_exit_code": final_exit,
        "wall_s": round(time.monotonic() - started, 1),
    }


CORPUS_DIR = ROOT.parent / "shared" / "corpus" / "dev"


def summary(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"{r['date']}  {r['machine']}",
            f"{r['kills']} SIGKILLs, {r['users']} users sent a resume; "
            f"{r['reviews_delivered']} reviews delivered "
            f"({r['users_without_review']} users lost their request to a kill)",
            f"follow-ups: sent {r['followups_sent']}, pending {r['followups_pending']}; "
            f"reviews with exactly one {r['reviews_with_exactly_one_followup']}, "
            f"missing {r['reviews_missing_followup']}, sent twice {r['followups_sent_twice']}, "
            f"more than one {r['reviews_with_more_than_one_followup']}",
            "missing follow-ups: seconds from the review to the kill: "
            f"{r['missing_followup_review_to_kill_s']}",
            f"followup_jobs.json checked {r['followup_snapshots_checked']} times, "
            f"unparsable {r['followup_snapshot_unparsable']}, quarantined "
            f"{r['followup_quarantined'] or 'none'}",
            f"analytics: {r['analytics_files']} files, {r['analytics_lines']} lines, "
            f"{r['analytics_bad_lines']} unparsable (allowed <= {r['kills']})",
            f"final clean stop exit code {r['final_exit_code']}; wall {r['wall_s']} s",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kills", type=int, default=50)
    p.add_argument("--users-per-cycle", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    result = run_crashes(kills=a.kills, users_per_cycle=a.users_per_cycle, seed=a.seed)
    print(summary(result))
    if a.json is not None:
        a.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    ok = (
        result["reviews_missing_followup"] == 0
        and result["followups_sent_twice"] == 0
        and result["followup_snapshot_unparsable"] == 0
        and result["analytics_bad_lines"] <= result["kills"]
        and result["final_exit_code"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
