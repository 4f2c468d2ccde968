"""A real process under the supervisor: `resumebek ctl` over the control socket, SIGTERM
with work in flight, a stale socket from a killed process.

The process is `python -m tests.runtime_app` (journal, worker, feeder). To run the same
tests against the real bot once it exists, change `app_command()` to
`[PYTHON, "-m", "resumebek", "chat", "--keep-running"]` and RESTART_TARGET/SIBLINGS to its
actor names (the SIGTERM test needs the app's job knobs, so it stays on the test app).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from resumebek.errors import ControlUnavailable
from resumebek.runtime.control import control_socket_path, request
from tests.conftest import PYTHON, resumebek_env

RESTART_TARGET = "worker"
SIBLINGS = ("journal", "feeder")
START_TIMEOUT_S = 15.0


def app_command() -> list[str]:
    return [PYTHON, "-m", "tests.runtime_app"]


def ctl(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "resumebek", "ctl", *args],
        env=resumebek_env(DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=30,
    )


class App:
    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.log = (data_dir.parent / f"app-{time.monotonic_ns()}.log").open("w+")
        self.proc = subprocess.Popen(
            app_command(),
            env=resumebek_env(DATA_DIR=str(data_dir), **env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        """Poll the control socket until the process answers (real time: it is another process)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert self.proc.poll() is None, f"app exited early:\n{self.output()}"
            try:
                request(control_socket_path(self.data_dir), {"cmd": "status"}, timeout_s=2)
                return
            except ControlUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def journal(self) -> list[str]:
        path = self.data_dir / "journal.txt"
        return path.read_text().splitlines() if path.exists() else []

    def wait_journal(self, line: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while line not in self.journal():
            assert self.proc.poll() is None, f"app exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"{line!r} never journaled"
            time.sleep(0.02)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        finally:
            self.log.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "d"
    path.mkdir()
    return path


@pytest.fixture
def app(data_dir: Path) -> Iterator[App]:
    running = App(data_dir)
    try:
        running.wait_ready()
        yield running
    finally:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait(timeout=10)
        running.log.close()


def status_json(data_dir: Path) -> dict[str, dict[str, object]]:
    result = ctl(data_dir, "status", "--json")
    assert result.returncode == 0, result.stderr
    return {a["name"]: a for a in json.loads(result.stdout)}


def test_ctl_status_prints_a_table_and_json(app: App) -> None:
    table = ctl(app.data_dir, "status")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    for column in (
        "actor",
        "state",
        "restarts",
        "depth",
        "processed",
        "dead letters",
        "last error",
    ):
        assert column in header
    assert [r.split()[0] for r in rows] == ["journal", RESTART_TARGET, "feeder"]
    actors = status_json(app.data_dir)
    assert all(a["state"] == "running" for a in actors.values())
    assert actors[RESTART_TARGET]["kind"] == "actor" and actors["feeder"]["kind"] == "service"


def test_ctl_restart_restarts_one_actor_and_leaves_the_others(app: App) -> None:
    result = ctl(app.data_dir, "restart", RESTART_TARGET)
    assert result.returncode == 0, result.stderr
    assert f"{RESTART_TARGET}: running" in result.stdout
    actors = status_json(app.data_dir)
    assert actors[RESTART_TARGET]["restarts"] == 1
    assert actors[RESTART_TARGET]["state"] == "running"
    for name in SIBLINGS:
        assert (actors[name]["restarts"], actors[name]["state"]) == (0, "running")
    assert app.stop() == 0


def test_ctl_stop_then_start(app: App) -> None:
    stopped = ctl(app.data_dir, "stop", RESTART_TARGET)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert status_json(app.data_dir)[RESTART_TARGET]["state"] == "stopped"
    started = ctl(app.data_dir, "start", RESTART_TARGET)
    assert started.returncode == 0 and "running" in started.stdout


def test_ctl_unknown_actor_is_a_clear_error(app: App) -> None:
    result = ctl(app.data_dir, "restart", "nope")
    assert result.returncode == 2
    assert "unknown actor 'nope'" in result.stderr and RESTART_TARGET in result.stderr


def test_ctl_without_a_running_process_says_so(data_dir: Path) -> None:
    result = ctl(data_dir, "status")
    assert result.returncode == 2
    assert "no running resumebek process" in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_lets_in_flight_work_finish_then_exits_0(data_dir: Path, signum: int) -> None:
    running = App(data_dir, RUNTIME_APP_JOBS="3", RUNTIME_APP_JOB_S="0.3")
    running.wait_journal("start 0")  # job 0 in flight, jobs 1 and 2 queued
    running.proc.send_signal(signum)
    code = running.proc.wait(timeout=20)
    output = running.output()
    running.log.close()
    assert code == 0, output
    journal = running.journal()
    assert [line for line in journal if line.startswith("done")] == ["done 0", "done 1", "done 2"]
    assert not control_socket_path(data_dir).exists()  # removed on the way out


def test_a_killed_process_leaves_a_socket_the_next_one_replaces(data_dir: Path) -> None:
    first = App(data_dir)
    first.wait_ready()
    first.proc.kill()
    first.proc.wait(timeout=10)
    first.log.close()
    assert control_socket_path(data_dir).exists()  # stale
    assert ctl(data_dir, "status").returncode == 2
    second = App(data_dir)
    second.wait_ready()
    assert (os.stat(control_socket_path(data_dir)).st_mode & 0o777) == 0o600
    assert status_json(data_dir)[RESTART_TARGET]["state"] == "running"
    assert second.stop() == 0


def test_a_second_process_on_the_same_data_dir_is_refused(app: App) -> None:
    second = App(app.data_dir)
    code = second.proc.wait(timeout=20)
    output = second.output()
    second.log.close()
    assert code == 2 and "another resumebek process is running" in output
    assert status_json(app.data_dir)[RESTART_TARGET]["state"] == "running"


@pytest.mark.parametrize("error", [BrokenPipeError, ConnectionResetError])
def test_a_process_that_closes_the_connection_mid_request_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[OSError]
) -> None:
    """Not a BrokenPipeError for the CLI to take for a closed stdout (exit 0, no output)."""
    import socket

    path = tmp_path / "control.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(os.fspath(path))
    server.listen(1)

    def closed(self: socket.socket, data: bytes) -> None:
        raise error

    monkeypatch.setattr(socket.socket, "sendall", closed)
    try:
        with pytest.raises(ControlUnavailable, match="closed the control connection"):
            request(path, {"op": "status"})
    finally:
        server.close()
