"""Latency of the operations endpoint, in-process (server and client share one event loop,
so the figures include the client's cost too).

    python -m bench.bench_http [--requests 500]

Baseline in the same run: /healthz (the smallest HTTP round trip through uvicorn and
starlette). /metrics is reported as a ratio to it, and `generate_latest` alone shows how
much of /metrics is the Prometheus rendering."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from functools import partial

import anyio
import httpx2
from prometheus_client import generate_latest

from resumebek.domain.click_token import ClickToken, derive_click_key, sign_click
from resumebek.metrics import LLM_LATENCY, REGISTRY, REVIEWS
from services.http import ActorCollector, serve

ACTORS = ("ingress", "extractor", "analyzer", "outbox", "followup", "analytics", "http")


def _rows() -> list[dict[str, object]]:
    return [
        {
            "name": name,
            "kind": "actor",
            "restart": "permanent",
            "state": "running",
            "restarts": 0,
            "depth": 3,
            "in_flight": 1,
            "high_water": 40,
            "processed": 12345,
            "dropped": 0,
            "dead_letters": 0,
        }
        for name in ACTORS
    ]


def _figures(label: str, samples: list[float], baseline: float | None = None) -> float:
    samples.sort()
    median = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    ratio = f"  x{median / baseline:.2f} of /healthz" if baseline else ""
    print(f"{label:<28} median {median * 1e3:7.3f} ms  p99 {p99 * 1e3:7.3f} ms{ratio}")
    return median


async def _time(n: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(20):  # warm-up
        await call()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        out.append(time.perf_counter() - start)
    return out


async def main(n: int) -> None:
    # realistic registry content: every language/source pair and a filled histogram
    for lang in ("kk", "ru", "en"):
        for source in ("llm", "rules"):
            REVIEWS.labels(source=source, language=lang).inc(10)
    for i in range(100):
        LLM_LATENCY.observe(i / 10)
    key = derive_click_key("bench-salt-0123456789")
    token = sign_click(key, ClickToken(user_ref="ab12cd34ef56", language="kk", campaign="fair"))
    clicks: list[ClickToken] = []
    async with anyio.create_task_group() as tg:
        port = await tg.start(
            partial(
                serve,
                host="127.0.0.1",
                port=0,
                health=lambda: True,
                ready=lambda: True,
                actor_status=_rows,
                on_click=clicks.append,
                click_key=key,
                photos_url="https://t.me/resumebek_photo_bot",
            )
        )
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            base = _figures(
                "GET /healthz (baseline)", await _time(n, partial(client.get, "/healthz"))
            )
            _figures("GET /readyz", await _time(n, partial(client.get, "/readyz")), base)
            _figures("GET /metrics", await _time(n, partial(client.get, "/metrics")), base)
            _figures(
                "GET /r/{token} (302)", await _time(n, partial(client.get, f"/r/{token}")), base
            )
            size = len((await client.get("/metrics")).content)
        tg.cancel_scope.cancel()

    class _Both:
        def collect(self):  # type: ignore[no-untyped-def]
            yield from REGISTRY.collect()
            yield from ActorCollector(_rows).collect()

    async def render() -> None:
        generate_latest(_Both())

    _figures("generate_latest only", await _time(n, render), base)
    print(f"/metrics body: {size} bytes for {len(ACTORS)} actors; clicks counted: {len(clicks)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    anyio.run(main, parser.parse_args().requests, backend="asyncio")
