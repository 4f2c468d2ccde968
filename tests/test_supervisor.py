"""The supervisor in-process: restart types, redelivery, dead letters, intensity, backoff,
control operations and graceful shutdown. Time is a FakeClock; backoff is 0 unless a test
is about backoff."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import anyio
import pytest

from resumebek.config import ActorPolicy, RestartType, SupervisorConfig
from resumebek.errors import UnknownActor
from resumebek.runtime import Mailbox
from resumebek.runtime.supervisor import ActorStatus, Supervisor
from tests.fakes import FakeClock

CONFIG = SupervisorConfig(
    max_restarts=3,
    within_seconds=60.0,
    backoff_initial_s=0.0,
    backoff_max_s=0.0,
    shutdown_timeout_s=2.0,
    actors=(ActorPolicy(name="worker", mailbox=8), ActorPolicy(name="counter", mailbox=8)),
)


class Crash(Exception):
    pass


class DeadLetters:
    def __init__(self) -> None:
        self.items: list[tuple[str, object, str]] = []

    async def __call__(self, actor: str, message: object, error_kind: str) -> None:
        self.items.append((actor, message, error_kind))


def status(sup: Supervisor, name: str) -> ActorStatus:
    return next(s for s in sup.status() if s.name == name)


@asynccontextmanager
async def running(sup: Supervisor) -> AsyncIterator[list[int]]:
    """Run `sup` in the background; on exit shut it down and collect its exit code."""
    codes: list[int] = []

    async def run() -> None:
        codes.append(await sup.run())

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await anyio.wait_all_tasks_blocked()
            yield codes
            sup.request_shutdown()


async def settle(sup: Supervisor, name: str, pred: Callable[[ActorStatus], bool]) -> ActorStatus:
    with anyio.fail_after(2):
        await anyio.wait_all_tasks_blocked()
        while not pred(status(sup, name)):
            await anyio.wait_all_tasks_blocked()
    return status(sup, name)


def make(
    config: SupervisorConfig = CONFIG, clock: FakeClock | None = None
) -> tuple[Supervisor, DeadLetters]:
    dead = DeadLetters()
    sup = Supervisor(config, clock=clock or FakeClock(), on_dead_letter=dead, handle_signals=False)
    return sup, dead


def counter_actor(box: Mailbox[str], seen: list[str]) -> Callable[[], Awaitable[None]]:
    """A sibling with state: its `seen` list survives only if it is never restarted."""

    async def run() -> None:
        local: list[str] = []
        async for msg in box:
            local.append(msg)
            seen[:] = local

    return run


async def test_a_crash_restarts_only_that_actor_and_siblings_keep_state() -> None:
    sup, _ = make()
    work: Mailbox[str] = sup.mailbox("worker")
    count: Mailbox[str] = sup.mailbox("counter")
    handled: list[str] = []
    seen: list[str] = []
    incarnations = 0

    async def worker() -> None:
        nonlocal incarnations
        incarnations += 1
        async for msg in work:
            if msg == "crash" and incarnations == 1:
                raise Crash
            handled.append(msg)

    sup.add("counter", start=counter_actor(count, seen))
    sup.add("worker", start=worker)
    async with running(sup):
        await count.send("a")
        await count.send("b")
        await work.send("crash")
        await work.send("after")
        st = await settle(sup, "worker", lambda s: s.processed == 2)
        assert handled == ["crash", "after"]  # redelivered to the new incarnation, then the rest
        assert (st.restarts, st.state, st.last_error) == (1, "running", "Crash")
        sibling = status(sup, "counter")
        assert (sibling.restarts, sibling.state, sibling.processed) == (0, "running", 2)
        assert seen == ["a", "b"]  # the same incarnation, its state intact
        await count.send("c")
        await settle(sup, "counter", lambda s: s.processed == 3)
        assert seen == ["a", "b", "c"]


async def test_poison_message_is_redelivered_once_then_dead_lettered() -> None:
    sup, dead = make()
    box: Mailbox[str] = sup.mailbox("worker")
    attempts: list[str] = []

    async def worker() -> None:
        async for msg in box:
            attempts.append(msg)
            if msg == "poison":
                raise Crash

    sup.add("worker", start=worker)
    async with running(sup):
        await box.send("poison")
        await box.send("fine")
        st = await settle(sup, "worker", lambda s: s.processed == 1)
    assert attempts == ["poison", "poison", "fine"]
    assert dead.items == [("worker", "poison", "Crash")]
    assert st.dead_letters == 1 and st.restarts == 2


async def test_concurrent_actor_dead_letters_only_the_poison_message() -> None:
    sup, dead = make()
    box: Mailbox[str] = sup.mailbox("worker")
    done: list[str] = []
    release = anyio.Event()

    async def lane() -> None:
        while True:
            try:
                async with box.take() as msg:
                    if msg == "poison":
                        raise Crash
                    await release.wait()
                    done.append(msg)
            except anyio.EndOfStream:
                return

    async def worker() -> None:  # two messages in flight at once
        async with anyio.create_task_group() as tg:
            tg.start_soon(lane)
            tg.start_soon(lane)

    sup.add("worker", start=worker)
    async with running(sup):
        await box.send("slow")
        await anyio.wait_all_tasks_blocked()
        await box.send("poison")
        await settle(sup, "worker", lambda s: s.dead_letters == 1)
        release.set()
        st = await settle(sup, "worker", lambda s: s.processed == 1)
    assert dead.items == [("worker", "poison", "Crash")]
    assert done == ["slow"]  # in flight during both crashes, still delivered
    assert st.restarts == 2


@pytest.mark.parametrize(
    ("restart", "restarted"),
    [
        pytest.param("permanent", True, id="permanent"),
        pytest.param("transient", True, id="transient"),
        pytest.param("temporary", False, id="temporary"),
    ],
)
async def test_crash_restarts_by_restart_type(restart: RestartType, restarted: bool) -> None:
    sup, _ = make()
    runs = 0

    async def service() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise Crash
        await anyio.sleep_forever()

    sup.add("svc", start=service, restart=restart)
    async with running(sup):
        st = await settle(sup, "svc", lambda s: s.state in ("running", "failed") and runs >= 1)
        assert (runs, st.state, st.restarts, st.last_error) == (
            (2, "running", 1, "Crash") if restarted else (1, "failed", 0, "Crash")
        )


@pytest.mark.parametrize(
    ("restart", "restarted"),
    [
        pytest.param("permanent", True, id="permanent"),
        pytest.param("transient", False, id="transient"),
        pytest.param("temporary", False, id="temporary"),
    ],
)
async def test_normal_return_restarts_only_permanent(restart: RestartType, restarted: bool) -> None:
    sup, _ = make()
    runs = 0

    async def service() -> None:
        nonlocal runs
        runs += 1
        if runs > 1:
            await anyio.sleep_forever()

    sup.add("svc", start=service, restart=restart)
    async with running(sup):
        await anyio.wait_all_tasks_blocked()
        st = status(sup, "svc")
        assert (runs, st.state) == ((2, "running") if restarted else (1, "stopped"))
        assert st.last_error is None


async def test_exceeding_the_intensity_stops_the_tree_with_exit_code_1() -> None:
    sup, _ = make()
    sibling_cancelled = anyio.Event()

    async def crasher() -> None:
        raise Crash

    async def sibling() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            sibling_cancelled.set()

    sup.add("sibling", start=sibling)
    sup.add("crasher", start=crasher)
    with anyio.fail_after(5):
        code = await sup.run()
    assert code == 1
    assert sibling_cancelled.is_set()
    st = status(sup, "crasher")
    assert st.state == "failed" and st.restarts == CONFIG.max_restarts


async def test_restarts_spread_beyond_the_window_are_forgiven() -> None:
    clock = FakeClock()
    sup, _ = make(clock=clock)
    box: Mailbox[int] = sup.mailbox("worker")
    seen: set[int] = set()

    async def worker() -> None:
        async for msg in box:
            if msg not in seen:  # each message crashes once, then goes through
                seen.add(msg)
                raise Crash

    sup.add("worker", start=worker)
    async with running(sup) as codes:
        for i in range(CONFIG.max_restarts * 3):
            await box.send(i)
            await settle(sup, "worker", lambda s: s.processed == len(seen))
            clock.advance(CONFIG.within_seconds / 2)
        st = status(sup, "worker")
        assert (st.state, st.restarts) == ("running", CONFIG.max_restarts * 3)
    assert codes == [0]


async def test_backoff_doubles_up_to_the_cap() -> None:
    clock = FakeClock()
    config = replace(CONFIG, max_restarts=10, backoff_initial_s=1.0, backoff_max_s=4.0)
    sup, _ = make(config, clock)

    async def crasher() -> None:
        raise Crash

    sup.add("svc", start=crasher)
    waits: list[float] = []
    async with running(sup):
        for _ in range(4):
            await settle(sup, "svc", lambda s: s.state == "backoff")
            start, restarts = clock.now(), status(sup, "svc").restarts
            while status(sup, "svc").restarts == restarts:
                clock.advance(0.5)
                await anyio.wait_all_tasks_blocked()
            waits.append(clock.now() - start)
    assert waits == [1.0, 2.0, 4.0, 4.0]


async def test_control_restart_keeps_queue_and_siblings_and_redelivers_in_flight() -> None:
    sup, dead = make()
    work: Mailbox[str] = sup.mailbox("worker")
    count: Mailbox[str] = sup.mailbox("counter")
    seen: list[str] = []
    handled: list[str] = []
    first = True

    async def worker() -> None:
        nonlocal first
        async for msg in work:
            if first:
                first = False
                await anyio.sleep_forever()  # stuck: the operator restarts it
            handled.append(msg)

    sup.add("counter", start=counter_actor(count, seen))
    sup.add("worker", start=worker)
    async with running(sup):
        await count.send("x")
        for m in ("a", "b", "c"):
            await work.send(m)
        await anyio.wait_all_tasks_blocked()
        assert status(sup, "worker").in_flight == 1
        sup.restart("worker")
        st = await settle(sup, "worker", lambda s: s.processed == 3)
        assert handled == ["a", "b", "c"]
        assert st.restarts == 1 and st.dead_letters == 0 and st.last_error is None
        assert status(sup, "counter").restarts == 0 and seen == ["x"]
    assert dead.items == []


async def test_control_stop_and_start_keep_queued_messages() -> None:
    sup, _ = make()
    box: Mailbox[str] = sup.mailbox("worker")
    handled: list[str] = []

    async def worker() -> None:
        async for msg in box:
            handled.append(msg)

    sup.add("worker", start=worker)
    async with running(sup):
        sup.stop("worker")
        st = await settle(sup, "worker", lambda s: s.state == "stopped")
        await box.send("queued while stopped")
        assert status(sup, "worker").depth == 1 and handled == []
        sup.start("worker")
        st = await settle(sup, "worker", lambda s: s.processed == 1)
        assert handled == ["queued while stopped"] and st.state == "running"
        with pytest.raises(UnknownActor, match="nope"):
            sup.restart("nope")


async def test_shutdown_drains_in_reverse_order_and_calls_stop_intake_first() -> None:
    sup, dead = make()
    events: list[str] = []
    first: Mailbox[str] = sup.mailbox("first")
    second: Mailbox[str] = sup.mailbox("second")

    def actor(name: str, box: Mailbox[str]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            async for msg in box:
                await anyio.sleep(0.01)  # in-flight work that must complete
                events.append(f"{name} did {msg}")
            events.append(f"{name} returned")

        return run

    async def intake() -> None:
        events.append("second intake stopped")

    sup.add("first", start=actor("first", first))
    sup.add("second", start=actor("second", second), stop_intake=intake)
    async with running(sup) as codes:
        await first.send("1")
        await second.send("2")
    assert codes == [0]
    assert events[0] == "second intake stopped"
    assert events.index("second returned") < events.index("first returned")
    assert {"first did 1", "second did 2"} <= set(events)
    assert dead.items == []


async def test_shutdown_timeout_cancels_and_hands_leftovers_to_dead_letter_handler() -> None:
    sup, dead = make(replace(CONFIG, shutdown_timeout_s=0.05))
    box: Mailbox[str] = sup.mailbox("worker")

    async def stuck() -> None:
        async for _ in box:
            await anyio.sleep_forever()

    sup.add("worker", start=stuck)
    async with running(sup) as codes:
        await box.send("in flight")
        await box.send("queued")
    assert codes == [0]
    assert dead.items == [("worker", "in flight", "shutdown"), ("worker", "queued", "shutdown")]
    assert status(sup, "worker").dead_letters == 0  # not a crash: counted apart


async def test_services_without_a_hook_are_cancelled_at_shutdown() -> None:
    sup, _ = make()
    cancelled = anyio.Event()

    async def service() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    sup.add("http", start=service)
    async with running(sup) as codes:
        assert status(sup, "http").kind == "service"
    assert codes == [0] and cancelled.is_set()
    assert status(sup, "http").state == "stopped"


async def test_crash_logs_and_status_carry_the_class_name_never_the_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sup, dead = make()
    box: Mailbox[str] = sup.mailbox("worker")

    async def worker() -> None:
        async for msg in box:
            raise ValueError(f"could not parse {msg}")

    sup.add("worker", start=worker)
    with caplog.at_level(logging.DEBUG):
        async with running(sup):
            await box.send("aigerim@example.kz")
            await settle(sup, "worker", lambda s: s.dead_letters == 1)
    assert "aigerim@example.kz" not in caplog.text
    assert "kind=ValueError" in caplog.text and "actor=worker" in caplog.text
    assert status(sup, "worker").last_error == "ValueError"
    assert dead.items == [("worker", "aigerim@example.kz", "ValueError")]


async def test_an_exception_group_is_reported_by_its_first_leaf() -> None:
    sup, _ = make()
    runs = 0

    async def service() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_raise_crash)
        await anyio.sleep_forever()

    sup.add("svc", start=service)
    async with running(sup):
        st = await settle(sup, "svc", lambda s: s.restarts == 1)
    assert st.last_error == "Crash"


async def _raise_crash() -> None:
    raise Crash


async def test_shutdown_during_backoff_restarts_at_once_to_drain() -> None:
    clock = FakeClock()  # never advanced: the backoff would last forever
    sup, dead = make(replace(CONFIG, backoff_initial_s=30.0, backoff_max_s=30.0), clock)
    box: Mailbox[str] = sup.mailbox("worker")
    handled: list[str] = []

    async def worker() -> None:
        async for msg in box:
            if msg == "crash once" and msg not in handled:
                handled.append(msg)
                raise Crash
            handled.append(msg)

    sup.add("worker", start=worker)
    async with running(sup) as codes:
        await box.send("crash once")
        await box.send("queued")
        await settle(sup, "worker", lambda s: s.state == "backoff")
    assert codes == [0]
    assert handled == ["crash once", "crash once", "queued"]
    assert dead.items == []


async def test_a_service_in_backoff_at_shutdown_is_not_restarted() -> None:
    clock = FakeClock()  # never advanced: the backoff would last forever
    sup, _ = make(replace(CONFIG, backoff_initial_s=30.0, backoff_max_s=30.0), clock)
    incarnations = 0
    stopped = anyio.Event()

    async def gateway() -> None:  # like a gateway whose start() cannot connect
        nonlocal incarnations
        incarnations += 1
        if incarnations == 1:
            raise Crash
        await stopped.wait()

    sup.add("telegram", start=gateway, stop_intake=stopped.set)
    async with running(sup) as codes:
        await settle(sup, "telegram", lambda s: s.state == "backoff")
    assert codes == [0]
    assert incarnations == 1
    assert status(sup, "telegram").state == "stopped"


async def test_a_service_crashing_after_shutdown_was_requested_is_not_restarted() -> None:
    sup, _ = make()  # backoff 0: without the guard it would restart at once, again and again
    incarnations = 0
    intake_stopped = anyio.Event()
    release_intake = anyio.Event()

    async def gateway() -> None:
        nonlocal incarnations
        incarnations += 1
        await intake_stopped.wait()  # a connect attempt failing while the tree shuts down
        raise Crash

    async def first_stop_intake() -> None:  # the child stopped before the gateway: slow
        intake_stopped.set()
        await release_intake.wait()

    sup.add("telegram", start=gateway)
    sup.add("http", start=release_intake.wait, stop_intake=first_stop_intake)
    async with running(sup) as codes:
        sup.request_shutdown()
        await settle(sup, "telegram", lambda s: s.state == "failed")
        assert status(sup, "telegram").restarts == 0
        release_intake.set()
    assert codes == [0]
    assert incarnations == 1
