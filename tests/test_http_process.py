"""/healthz, /readyz and /metrics of a real `resumebek chat --keep-running` process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import resumebek_env
from tests.test_privacy_logs import needs_chat


@needs_chat
def test_endpoints_of_a_running_chat_process(tmp_path: Path, free_tcp_port: int) -> None:
    env = resumebek_env(
        DATA_DIR=str(tmp_path / "data"),
        HTTP_ENABLED="true",
        HTTP_HOST="127.0.0.1",
        HTTP_PORT=str(free_tcp_port),
        LOG_FORMAT="json",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "resumebek", "chat", "--jsonl", "--keep-running"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        base = f"http://127.0.0.1:{free_tcp_port}"
        deadline = time.monotonic() + 20
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx2.get(f"{base}/healthz", timeout=2)
                break
            except httpx2.TransportError:
                time.sleep(0.1)
        if proc.poll() is not None:
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"chat exited {proc.returncode}: {err[-2000:]}")
        assert health is not None, "no /healthz within 20 s: is the http child wired into chat?"
        assert health.status_code == 200
        ready = None
        while time.monotonic() < deadline:  # actors may still be starting
            ready = httpx2.get(f"{base}/readyz", timeout=2)
            if ready.status_code == 200:
                break
            time.sleep(0.1)
        assert ready is not None and ready.status_code == 200
        metrics = httpx2.get(f"{base}/metrics", timeout=5)
        families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
        up = {s.labels["actor"]: s.value for s in families["resumebek_actor_up"].samples}
        for actor in ("ingress", "extractor", "analyzer", "outbox", "followup", "analytics"):
            assert up.get(actor) == 1, (actor, up)
        assert "resumebek_reviews" in families
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
