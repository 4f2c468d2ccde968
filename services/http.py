"""The operations HTTP endpoint: /healthz, /readyz, /metrics and /r/{token} (CTA clicks).

Served by uvicorn (a Starlette app) inside the supervisor's task group. It knows nothing of
the runtime's internals: the composition root hands it plain callables.

    /healthz    200 while `health()` is true (the supervisor is running), else 503
    /readyz     200 while `ready()` is true (permanent actors running, gateway connected)
    /metrics    Prometheus text: resumebek.metrics.REGISTRY plus per-actor series taken from
                `actor_status()` at scrape time
    /r/{token}  a verified click token → `on_click(click)` and 302 to the photo offer with
                its UTM parameters; a forged or unknown token still redirects, counts nothing

uvicorn's own signal handling is switched off: SIGTERM belongs to the supervisor, which
cancels this task; the server then stops accepting and drains within a few seconds.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import anyio
import uvicorn
from anyio.abc import TaskStatus
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from resumebek.config import Settings
from resumebek.domain.click_token import (
    ClickToken,
    click_event,
    settings_click_key,
    verify_click,
    with_utm,
)
from resumebek.messages import AnalyticsEvent
from resumebek.metrics import REGISTRY
from resumebek.runtime.mailbox import Address
from services.ports import Clock

log = logging.getLogger(__name__)

ActorStatus = Mapping[str, object]
"""One actor's row, as `resumebek.runtime.supervisor.ActorStatus.to_dict()` gives it. Keys
read (others are ignored): `name`, `state` ("running", "backoff", ...), `restart`
("permanent", ...), and the numbers `restarts`, `depth`, `in_flight`, `high_water`,
`processed`, `dropped`, `dead_letters`. A missing number is simply not exported; free text
such as `last_error` never is."""

GRACEFUL_STOP_S = 3  # open requests get this long to finish once the supervisor cancels us

# (metric suffix, row key, help, is a counter)
_ACTOR_SERIES: tuple[tuple[str, str, str, bool], ...] = (
    ("mailbox_depth", "depth", "Messages queued for the actor (redeliveries included)", False),
    ("in_flight", "in_flight", "Messages the actor has taken and not finished", False),
    ("mailbox_high_water", "high_water", "Deepest the mailbox has been", False),
    ("restarts", "restarts", "Restarts since the process started", True),
    ("processed", "processed", "Messages the actor finished", True),
    ("dropped", "dropped", "Messages refused by a full mailbox (send_nowait)", True),
    ("dead_letters", "dead_letters", "Messages that crashed the actor twice", True),
)


# ---------------------------------------------------------------- health and readiness


def tree_healthy(rows: Sequence[ActorStatus]) -> bool:
    """The supervisor runs its tree: there is one, and no actor has failed for good."""
    return bool(rows) and all(row.get("state") != "failed" for row in rows)


def tree_ready(rows: Sequence[ActorStatus], *, gateway_connected: bool) -> bool:
    """Every permanent actor is running and the Telegram gateway is connected."""
    permanent = [row for row in rows if row.get("restart", "permanent") == "permanent"]
    return (
        gateway_connected
        and bool(permanent)
        and all(row.get("state") == "running" for row in permanent)
    )


# ---------------------------------------------------------------- /metrics


def _number(row: ActorStatus, key: str) -> float | None:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class ActorCollector:
    """Per-actor series built from the supervisor's status at each scrape (no copies kept)."""

    def __init__(self, actor_status: Callable[[], Sequence[ActorStatus]]) -> None:
        self._actor_status = actor_status

    def collect(self) -> Iterator[Metric]:
        rows = list(self._actor_status())
        up = GaugeMetricFamily(
            "resumebek_actor_up", "1 while the actor is running", labels=["actor"]
        )
        state = GaugeMetricFamily(
            "resumebek_actor_state",
            "The actor's current state (1 for it)",
            labels=["actor", "state"],
        )
        series: list[tuple[str, GaugeMetricFamily | CounterMetricFamily]] = []
        for suffix, key, help_text, is_counter in _ACTOR_SERIES:
            family_type = CounterMetricFamily if is_counter else GaugeMetricFamily
            series.append(
                (key, family_type(f"resumebek_actor_{suffix}", help_text, labels=["actor"]))
            )
        for row in rows:
            name = str(row.get("name", "?"))
            current = str(row.get("state", "unknown"))
            up.add_metric([name], 1.0 if current == "running" else 0.0)
            state.add_metric([name, current], 1.0)
            for key, family in series:
                value = _number(row, key)
                if value is not None:
                    family.add_metric([name], value)
        yield up
        yield state
        for _, family in series:
            yield family


class _Exposition:
    """What /metrics renders: the process registry, then the per-actor collector."""

    def __init__(self, registry: Any, actors: ActorCollector) -> None:
        self._registry = registry
        self._actors = actors

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()
        yield from self._actors.collect()


# ---------------------------------------------------------------- the app


def build_app(
    *,
    health: Callable[[], bool],
    ready: Callable[[], bool],
    actor_status: Callable[[], Sequence[ActorStatus]],
    on_click: Callable[[ClickToken], None],
    click_key: bytes | None,
    photos_url: str,
    registry: Any = REGISTRY,
) -> Starlette:
    """The ASGI app alone (tests and the server use it)."""
    exposition = _Exposition(registry, ActorCollector(actor_status))
    plain_redirect = with_utm(photos_url, language=None, campaign=None)
    # The token must not travel on as a Referer, and a cached redirect would skip counting.
    redirect_headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

    async def healthz(request: Request) -> Response:
        ok = health()
        return PlainTextResponse("ok\n" if ok else "stopped\n", status_code=200 if ok else 503)

    async def readyz(request: Request) -> Response:
        ok = ready()
        return PlainTextResponse("ready\n" if ok else "not ready\n", 200 if ok else 503)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(exposition), media_type=CONTENT_TYPE_LATEST)

    async def click(request: Request) -> Response:
        verified = verify_click(click_key, request.path_params["token"])
        if verified is None:
            log.info("http.click outcome=unverified")
            return RedirectResponse(plain_redirect, status_code=302, headers=redirect_headers)
        on_click(verified)
        log.info("http.click outcome=counted lang=%s", verified.language)
        target = with_utm(photos_url, language=verified.language, campaign=verified.campaign)
        return RedirectResponse(target, status_code=302, headers=redirect_headers)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/r/{token}", click),
        ]
    )


# ---------------------------------------------------------------- serving


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: SIGTERM/SIGINT are the supervisor's."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: accepted sockets copy it, and asyncio sets TCP_NODELAY only
    # on sockets that say they are TCP. With proto 0 every keep-alive request waited ~40 ms
    # for a delayed ACK (measured: 44 ms median, 1 ms with this).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


async def serve(
    *,
    host: str,
    port: int,
    health: Callable[[], bool],
    ready: Callable[[], bool],
    actor_status: Callable[[], Sequence[ActorStatus]],
    on_click: Callable[[ClickToken], None],
    click_key: bytes | None,
    photos_url: str,
    registry: Any = REGISTRY,
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled. `task_status.started(port)` reports the bound port (useful with
    port 0) once the socket listens; a bind failure (port taken) raises OSError before it."""
    app = build_app(
        health=health,
        ready=ready,
        actor_status=actor_status,
        on_click=on_click,
        click_key=click_key,
        photos_url=photos_url,
        registry=registry,
    )
    config = uvicorn.Config(
        app,
        log_config=None,  # our handlers (resumebek.logs) format everything
        access_log=False,  # access lines would carry click tokens; we log outcomes instead
        lifespan="off",
        http="h11",
        ws="none",
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_STOP_S,
        limit_concurrency=64,  # scrapes and clicks only: shed load rather than queue it
    )
    server = _EmbeddedServer(config)
    sock = _bind(host, port)
    bound_port = int(sock.getsockname()[1])
    try:
        log.info("http.started host=%s port=%d", host, bound_port)
        task_status.started(bound_port)
        async with anyio.create_task_group() as tg:
            # uvicorn is asyncio code with its own shutdown; run it shielded and turn our
            # cancellation into its graceful stop, with a hard deadline on top.
            with anyio.CancelScope(shield=True) as shield:

                async def stop_when_cancelled() -> None:
                    try:
                        await anyio.sleep_forever()
                    finally:
                        server.should_exit = True
                        shield.deadline = anyio.current_time() + GRACEFUL_STOP_S + 2

                tg.start_soon(stop_when_cancelled)
                await server.serve(sockets=[sock])
            tg.cancel_scope.cancel()
    finally:
        sock.close()
        log.info("http.stopped port=%d", bound_port)


def analytics_click_sink(
    to_analytics: Address[AnalyticsEvent], clock: Clock
) -> Callable[[ClickToken], None]:
    """`on_click` that sends a cta_clicked event without ever blocking the request."""

    def on_click(click: ClickToken) -> None:
        if not to_analytics.send_nowait(click_event(click, at=clock.now())):
            log.warning("http.click outcome=analytics_full")

    return on_click


async def serve_from_settings(
    settings: Settings,
    *,
    health: Callable[[], bool],
    ready: Callable[[], bool],
    actor_status: Callable[[], Sequence[ActorStatus]],
    to_analytics: Address[AnalyticsEvent],
    clock: Clock,
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """`serve` with HTTP_HOST/HTTP_PORT, AI_PHOTOS_URL and the click key from Settings
    (ANALYTICS_SALT, else BOT_TOKEN). What the composition root starts in its task group."""
    await serve(
        host=settings.http_host,
        port=settings.http_port,
        health=health,
        ready=ready,
        actor_status=actor_status,
        on_click=analytics_click_sink(to_analytics, clock),
        click_key=settings_click_key(settings),
        photos_url=settings.ai_photos_url,
        task_status=task_status,
    )


def http_service(
    settings: Settings,
    *,
    actor_status: Callable[[], Sequence[ActorStatus]],
    gateway_connected: Callable[[], bool],
    to_analytics: Address[AnalyticsEvent],
    clock: Clock,
) -> Callable[[], Coroutine[Any, Any, None]]:
    """The start function of the "http" child for `Supervisor.add`: health and readiness
    computed from the status rows and the gateway, everything else from Settings."""

    async def start() -> None:
        await serve_from_settings(
            settings,
            health=lambda: tree_healthy(actor_status()),
            ready=lambda: tree_ready(actor_status(), gateway_connected=gateway_connected()),
            actor_status=actor_status,
            to_analytics=to_analytics,
            clock=clock,
        )

    return start
