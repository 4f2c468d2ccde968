"""The HTTP endpoint in-process on a free 127.0.0.1 port, with plain fakes for its callables."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from resumebek.config import load_settings
from resumebek.domain.click_token import ClickToken, click_key, derive_click_key, sign_click
from resumebek.messages import AnalyticsEvent
from services.http import (
    _bind,
    analytics_click_sink,
    http_service,
    serve,
    tree_healthy,
    tree_ready,
)
from tests.fakes import FakeClock, Recorder

KEY = derive_click_key("http-test-salt-0123456789")
PHOTOS = "https://t.me/resumebek_photo_bot?start=cv"


# Rows shaped like resumebek.runtime.supervisor.ActorStatus.to_dict()
ROWS: list[Mapping[str, object]] = [
    {
        "name": "analyzer",
        "kind": "actor",
        "restart": "permanent",
        "state": "running",
        "restarts": 2,
        "depth": 7,
        "in_flight": 3,
        "high_water": 50,
        "processed": 41,
        "dropped": 0,
        "dead_letters": 1,
        "last_error": None,
    },
    {
        "name": "outbox",
        "kind": "actor",
        "restart": "permanent",
        "state": "backoff",
        "restarts": 0,
        "depth": 0,
        "in_flight": 0,
        "high_water": 9,
        "processed": 40,
        "dropped": 5,
        "dead_letters": 0,
        "last_error": "ZeroDivisionError",
    },
    {
        "name": "reporter",
        "kind": "service",
        "restart": "temporary",
        "state": "stopped",
        "restarts": 0,
    },
]


@dataclass
class World:
    """What the server reads, changed by the tests between requests."""

    healthy: bool = True
    ready: bool = False
    actors: list[Mapping[str, object]] = field(default_factory=list)
    clicks: list[ClickToken] = field(default_factory=list)

    def status(self) -> Sequence[Mapping[str, object]]:
        return self.actors


@dataclass
class Running:
    world: World
    client: httpx2.AsyncClient
    port: int


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    world = World(actors=[dict(row) for row in ROWS])
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            port = await tg.start(
                partial(
                    serve,
                    host="127.0.0.1",
                    port=0,
                    health=lambda: world.healthy,
                    ready=lambda: world.ready,
                    actor_status=world.status,
                    on_click=world.clicks.append,
                    click_key=KEY,
                    photos_url=PHOTOS,
                )
            )
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                yield Running(world, client, port)
            tg.cancel_scope.cancel()


async def test_healthz_follows_the_supervisor(running: Running) -> None:
    assert (await running.client.get("/healthz")).status_code == 200
    running.world.healthy = False
    response = await running.client.get("/healthz")
    assert response.status_code == 503


async def test_readyz_follows_actors_and_gateway(running: Running) -> None:
    assert (await running.client.get("/readyz")).status_code == 503
    running.world.ready = True
    response = await running.client.get("/readyz")
    assert response.status_code == 200 and response.text == "ready\n"


async def test_metrics_parse_and_show_actor_status_at_scrape_time(running: Running) -> None:
    response = await running.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    # the process registry is there (reviews, LLM latency, analytics drops ...)
    for name in (
        "resumebek_reviews",
        "resumebek_llm_latency_seconds",
        "resumebek_analytics_events_dropped",
        "resumebek_flood_waits",
    ):
        assert name in families, name

    def value(family: str, **labels: str) -> float:
        for sample in families[family].samples:
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
        raise AssertionError(f"no {family} {labels}")

    assert value("resumebek_actor_up", actor="analyzer") == 1
    assert value("resumebek_actor_up", actor="outbox") == 0
    assert value("resumebek_actor_state", actor="outbox", state="backoff") == 1
    assert value("resumebek_actor_mailbox_depth", actor="analyzer") == 7
    assert value("resumebek_actor_in_flight", actor="analyzer") == 3
    assert value("resumebek_actor_mailbox_high_water", actor="outbox") == 9
    assert value("resumebek_actor_dropped", actor="outbox") == 5
    assert value("resumebek_actor_restarts", actor="analyzer") == 2
    assert value("resumebek_actor_processed", actor="outbox") == 40
    assert value("resumebek_actor_dead_letters", actor="analyzer") == 1
    assert "ZeroDivisionError" not in response.text  # free text from the status is never exported

    running.world.actors[0] = {**running.world.actors[0], "depth": 0}
    again = await running.client.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(again.text)}
    assert value("resumebek_actor_mailbox_depth", actor="analyzer") == 0


async def test_a_valid_click_counts_once_and_redirects_with_utm(running: Running) -> None:
    click = ClickToken(user_ref="ab12cd34ef56", language="kk", campaign="fair")
    response = await running.client.get(f"/r/{sign_click(KEY, click)}")
    assert response.status_code == 302
    assert response.headers["cache-control"] == "no-store"
    target = urlsplit(response.headers["location"])
    assert target.netloc == "t.me" and target.path == "/resumebek_photo_bot"
    assert parse_qs(target.query) == {
        "start": ["cv"],
        "utm_source": ["resumebek"],
        "utm_medium": ["telegram"],
        "utm_campaign": ["fair"],
        "utm_content": ["kk"],
    }
    assert running.world.clicks == [click]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("forged-token", id="garbage"),
        pytest.param(
            sign_click(derive_click_key("someone-else"), ClickToken(user_ref="x1", language="en")),
            id="other-key",
        ),
        pytest.param("A" * 400, id="too-long"),
    ],
)
async def test_a_forged_click_redirects_and_counts_nothing(running: Running, token: str) -> None:
    response = await running.client.get(f"/r/{token}")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["utm_source"] == ["resumebek"] and "utm_content" not in query
    assert running.world.clicks == []


async def test_unknown_paths_are_404(running: Running) -> None:
    assert (await running.client.get("/")).status_code == 404
    assert (await running.client.get("/r/")).status_code == 404


async def test_cancelling_stops_the_server_and_frees_the_port() -> None:
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            port = await tg.start(
                partial(
                    serve,
                    host="127.0.0.1",
                    port=0,
                    health=lambda: True,
                    ready=lambda: True,
                    actor_status=list,
                    on_click=lambda click: None,
                    click_key=None,
                    photos_url=PHOTOS,
                )
            )
            async with httpx2.AsyncClient() as client:
                # a keep-alive connection stays open: shutdown must not wait for it forever
                assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
                tg.cancel_scope.cancel()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


async def test_a_taken_port_fails_before_started() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with anyio.fail_after(5), pytest.raises(OSError, match="in use"):
            await serve(
                host="127.0.0.1",
                port=taken,
                health=lambda: True,
                ready=lambda: True,
                actor_status=list,
                on_click=lambda click: None,
                click_key=None,
                photos_url=PHOTOS,
            )


def test_click_sink_sends_a_cta_event_without_blocking() -> None:
    analytics: Recorder[AnalyticsEvent] = Recorder("analytics")
    sink = analytics_click_sink(analytics, FakeClock())
    sink(ClickToken(user_ref="ab12cd34ef56", language="en", campaign=None))
    assert [e.name for e in analytics.items] == ["cta_clicked"]
    analytics.closed = True
    sink(ClickToken(user_ref="ab12cd34ef56", language="en", campaign=None))  # dropped, no raise
    assert len(analytics.items) == 1


def test_health_and_readiness_from_status_rows() -> None:
    rows = [dict(row) for row in ROWS]
    assert tree_healthy(rows) and not tree_healthy([])
    assert not tree_ready(rows, gateway_connected=True)  # the outbox is in backoff
    rows[1]["state"] = "running"
    assert tree_ready(rows, gateway_connected=True)  # the temporary one may be stopped
    assert not tree_ready(rows, gateway_connected=False)
    rows[0]["state"] = "failed"
    assert not tree_healthy(rows) and not tree_ready(rows, gateway_connected=True)


async def test_http_service_wires_settings_status_gateway_and_analytics(
    free_tcp_port: int,
) -> None:
    salt = "service-test-salt-0123"
    settings = load_settings(
        {
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(free_tcp_port),
            "ANALYTICS_SALT": salt,
            "AI_PHOTOS_URL": "https://photos.example.kz/offer",
        }
    )
    rows = [dict(row, state="running") for row in ROWS[:2]]
    connected = [False]
    analytics: Recorder[AnalyticsEvent] = Recorder("analytics")
    start = http_service(
        settings,
        actor_status=lambda: rows,
        gateway_connected=lambda: connected[0],
        to_analytics=analytics,
        clock=FakeClock(),
    )
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(start)
            base = f"http://127.0.0.1:{free_tcp_port}"
            async with httpx2.AsyncClient(base_url=base) as client:
                while True:  # started without task_status: wait for the socket
                    try:
                        response = await client.get("/readyz")
                        break
                    except httpx2.ConnectError:
                        await anyio.sleep(0.02)
                assert response.status_code == 503  # gateway not connected yet
                connected[0] = True
                assert (await client.get("/readyz")).status_code == 200
                assert (await client.get("/healthz")).status_code == 200
                key = click_key(salt)
                assert key is not None
                token = sign_click(key, ClickToken(user_ref="ab12cd34ef56", language="ru"))
                response = await client.get(f"/r/{token}")
                assert response.headers["location"].startswith("https://photos.example.kz/offer?")
            tg.cancel_scope.cancel()
    assert [(e.name, dict(e.fields)) for e in analytics.items] == [
        ("cta_clicked", {"language": "ru", "campaign": None})
    ]


def test_the_listening_socket_is_tcp_so_asyncio_sets_nodelay() -> None:
    """Accepted sockets copy the listener's proto; asyncio sets TCP_NODELAY only when it is
    IPPROTO_TCP. With proto 0, every keep-alive request waited ~40 ms for a delayed ACK."""
    sock = _bind("127.0.0.1", 0)
    with sock:
        assert sock.proto == socket.IPPROTO_TCP
