"""A small supervised app for the real-process tests: `python -m tests.runtime_app`.

It reads DATA_DIR from the environment (like `resumebek chat`) and runs three children:
  journal  an actor that appends each line it receives to DATA_DIR/journal.txt
  worker   an actor that handles jobs: "start N" to the journal, RUNTIME_APP_JOB_S seconds
           of work, then "done N"
  feeder   a service that sends RUNTIME_APP_JOBS jobs to the worker once, then waits; its
           stop_intake hook lets it return on shutdown (like a Telegram connection keeper)
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import anyio

from resumebek.config import ActorPolicy, SupervisorConfig, load_settings
from resumebek.errors import AlreadyRunning, ConfigError
from resumebek.runtime import Mailbox, Supervisor
from resumebek.runtime.control import control_socket_path


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


async def main() -> int:
    settings = load_settings(os.environ)
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    jobs = int(os.environ.get("RUNTIME_APP_JOBS", "0"))
    job_s = float(os.environ.get("RUNTIME_APP_JOB_S", "0.2"))
    config = SupervisorConfig(
        max_restarts=5,
        within_seconds=60,
        backoff_initial_s=0.01,
        backoff_max_s=0.1,
        shutdown_timeout_s=float(os.environ.get("RUNTIME_APP_SHUTDOWN_S", "10")),
        actors=(
            ActorPolicy(name="journal", mailbox=100),
            ActorPolicy(name="worker", mailbox=100),
            ActorPolicy(name="feeder", restart="transient"),
        ),
    )

    async def dead_letter(actor: str, message: object, error_kind: str) -> None:
        journal.append(f"dead {actor} {error_kind}")

    sup = Supervisor(config, on_dead_letter=dead_letter, control_path=control_socket_path(data_dir))
    journal = Journal(data_dir / "journal.txt")
    journal_box: Mailbox[str] = sup.mailbox("journal")
    work_box: Mailbox[int] = sup.mailbox("worker")
    fed = False
    intake_stopped = anyio.Event()

    async def journal_actor() -> None:
        async for line in journal_box:
            journal.append(line)

    async def worker() -> None:
        async for job in work_box:
            await journal_box.send(f"start {job}")
            await anyio.sleep(job_s)
            await journal_box.send(f"done {job}")

    async def feeder() -> None:
        nonlocal fed
        if not fed:
            fed = True
            for job in range(jobs):
                await work_box.send(job)
        await intake_stopped.wait()

    sup.add("journal", start=journal_actor)
    sup.add("worker", start=worker)
    sup.add("feeder", start=feeder, stop_intake=intake_stopped.set)
    try:
        return await sup.run()
    except (AlreadyRunning, ConfigError) as exc:
        sys.stderr.write(f"runtime_app: {exc}\n")
        return 2


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    sys.exit(anyio.run(main, backend="asyncio"))
