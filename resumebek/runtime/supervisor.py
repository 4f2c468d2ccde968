"""One supervisor for the whole actor tree (OTP one-for-one, per-actor restart types).

The supervisor owns one Mailbox per actor, so a restarted actor reads the same mailbox
and nothing queued is lost. Each child runs in its own cancel scope; its `start` callable
is called afresh for every incarnation:

    sup = Supervisor(config, clock=clock, on_dead_letter=tell_user, control_path=sock)
    box: Mailbox[Job] = sup.mailbox("worker")
    sup.add("worker", start=lambda: worker.run(box, ...))
    sup.add("http", start=serve_http)                # a service: no mailbox of its own
    code = await sup.run()                           # 0 after SIGTERM/SIGINT, 1 if it gave up

Restart types: permanent (always), transient (only after a crash), temporary (never).
Backoff doubles from backoff_initial_s to backoff_max_s; more than max_restarts exits of one
actor within within_seconds stop the whole tree (run() returns 1). Once shutdown is
requested a service is never restarted; an actor restarts only to drain its mailbox.
The message in flight during a crash is redelivered once; the second crash makes it a dead letter, handed to the
application's `on_dead_letter(actor, message, error_kind)`. Only exception class names are
logged or kept: an exception's text may carry user data.
"""

from __future__ import annotations

import inspect
import logging
import signal
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import anyio
from anyio.abc import TaskStatus

from resumebek.config import RestartType, SupervisorConfig
from resumebek.errors import UnknownActor
from resumebek.runtime.clock import SystemClock
from resumebek.runtime.mailbox import Mailbox

log = logging.getLogger("resumebek.runtime")

T = TypeVar("T")

State = Literal["starting", "running", "backoff", "stopped", "failed"]
StartFn = Callable[[], Awaitable[None]]
StopIntakeFn = Callable[[], Awaitable[None] | None]
DeadLetterHandler = Callable[[str, Any, str], Awaitable[None]]

SHUTDOWN_KIND = "shutdown"  # error_kind for messages still queued when shutdown gave up


class Clock(Protocol):
    """The part of services.ports.Clock the runtime needs (runtime imports no services)."""

    def now(self) -> float: ...

    async def sleep_until(self, deadline: float) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorStatus:
    name: str
    kind: Literal["actor", "service"]
    restart: RestartType
    state: State
    restarts: int
    depth: int  # queued, including redeliveries
    in_flight: int
    high_water: int
    processed: int
    dropped: int  # send_nowait refusals (full mailbox)
    dead_letters: int
    last_error: str | None  # exception class name only

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class _Child:
    """Book-keeping for one supervised child; the supervisor is its only writer."""

    def __init__(
        self,
        name: str,
        start: StartFn,
        restart: RestartType,
        stop_intake: StopIntakeFn | None,
    ) -> None:
        self.name = name
        self.start = start
        self.restart: RestartType = restart
        self.mailbox: Mailbox[Any] | None = None  # linked at run(): sup.mailbox(name)
        self.stop_intake = stop_intake
        self.state: State = "starting"
        self.restarts = 0
        self.dead_letters = 0
        self.last_error: str | None = None
        self.crashes: deque[float] = deque()  # exit times inside the intensity window
        self.wanted = True  # should an incarnation be running?
        self.draining = False  # shutdown: a normal return ends the child for good
        self.scope: anyio.CancelScope | None = None  # of the incarnation or its backoff
        self.loop_scope = anyio.CancelScope()
        self.changed = anyio.Event()
        self.wake = anyio.Event()
        self.finished = anyio.Event()

    def set_state(self, state: State) -> None:
        self.state = state
        self.changed.set()
        self.changed = anyio.Event()

    def poke(self) -> None:
        self.wake.set()
        self.wake = anyio.Event()


class Supervisor:
    def __init__(
        self,
        config: SupervisorConfig,
        *,
        clock: Clock | None = None,
        on_dead_letter: DeadLetterHandler | None = None,
        control_path: Path | None = None,
        handle_signals: bool = True,
    ) -> None:
        self.config = config
        self._clock: Clock = clock or SystemClock()
        self._on_dead_letter = on_dead_letter
        self._control_path = control_path
        self._handle_signals = handle_signals
        self._mailboxes: dict[str, Mailbox[Any]] = {}
        self._children: dict[str, _Child] = {}
        self._order: list[_Child] = []
        self._stop_requested = anyio.Event()
        self._exit_code = 0
        self._running = False

    # ------------------------------------------------------------ building the tree

    def mailbox(self, name: str, size: int | None = None) -> Mailbox[T]:
        """The mailbox of actor `name` (created once; size from supervisor.toml by default).

        Type it where you take it: `box: Mailbox[Job] = sup.mailbox("worker")`."""
        box = self._mailboxes.get(name)
        if box is None:
            box = Mailbox(name, size if size is not None else self.config.actor(name).mailbox)
            self._mailboxes[name] = box
        return box

    def add(
        self,
        name: str,
        *,
        start: StartFn,
        stop_intake: StopIntakeFn | None = None,
        restart: RestartType | None = None,
    ) -> None:
        """Supervise `name`; children start in the order added and stop in reverse.

        If `sup.mailbox(name)` exists when run() starts, the child is an actor fed by it: on shutdown its
        mailbox is closed and it drains. Otherwise it is a service (an HTTP endpoint, a
        connection keeper): cancelled on shutdown unless `stop_intake` lets it return.
        `stop_intake` (sync or async) runs first on shutdown: stop taking new work."""
        if self._running:
            raise RuntimeError("add children before run()")
        if name in self._children:
            raise ValueError(f"actor {name!r} added twice")
        child = _Child(name, start, restart or self.config.actor(name).restart, stop_intake)
        self._children[name] = child
        self._order.append(child)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self._order)

    # ------------------------------------------------------------ running

    async def run(self) -> int:
        """Run the tree until SIGTERM/SIGINT or request_shutdown() (0), or until one actor
        exceeds the restart intensity (1). Returns the process exit code.

        Raises AlreadyRunning (another live process owns the control socket) or
        ConfigError (unusable socket path) before any child starts."""
        from resumebek.runtime.control import open_control, serve_control  # import cycle

        self._running = True
        for child in self._order:
            child.mailbox = self._mailboxes.get(child.name)
        for name in self._mailboxes.keys() - self._children.keys():
            log.warning("supervisor.orphan_mailbox name=%s: no actor reads it", name)
        listener = None
        if self._control_path is not None:
            listener = await open_control(self._control_path)
        async with anyio.create_task_group() as tg:
            if self._handle_signals:
                tg.start_soon(self._watch_signals)
            if listener is not None and self._control_path is not None:
                await tg.start(serve_control, self, listener, self._control_path)
            for child in self._order:
                await tg.start(self._child_loop, child)
            log.info("supervisor.started actors=%s", ",".join(self.names))
            await self._stop_requested.wait()
            await self._shutdown()
            tg.cancel_scope.cancel()
        log.info("supervisor.stopped code=%d", self._exit_code)
        return self._exit_code

    def request_shutdown(self) -> None:
        """Graceful stop: intake first, then each actor drains, in reverse start order."""
        self._stop_requested.set()

    async def _watch_signals(self) -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                if self._stop_requested.is_set():
                    log.warning("supervisor.second_signal signal=%d: cancelling now", signum)
                    self._exit_code = self._exit_code or 1
                    for child in self._order:
                        child.loop_scope.cancel()
                else:
                    log.info("supervisor.signal signal=%d: shutting down", signum)
                    self.request_shutdown()

    async def _shutdown(self) -> None:
        deadline = anyio.current_time() + self.config.shutdown_timeout_s
        for child in reversed(self._order):
            child.draining = True
            if child.stop_intake is not None:
                with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
                    try:
                        result = child.stop_intake()
                        if inspect.isawaitable(result):
                            await result
                    except Exception as exc:  # one bad hook must not block the shutdown
                        log.error(
                            "actor.stop_intake_failed actor=%s kind=%s", child.name, _kind(exc)
                        )
            if child.mailbox is not None:
                child.mailbox.close()
            elif child.stop_intake is None:
                child.loop_scope.cancel()  # a service with no way to finish on its own
            if child.scope is not None and child.state == "backoff":
                # drain now rather than after the backoff (wanted stays True: it restarts)
                child.scope.cancel()
            child.poke()
            with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
                await child.finished.wait()
            if not child.finished.is_set():
                log.warning("actor.shutdown_timeout actor=%s: cancelling", child.name)
                child.loop_scope.cancel()
                await child.finished.wait()
            if child.mailbox is not None:
                left = child.mailbox.drain()
                if left:
                    log.warning("actor.shutdown_left actor=%s messages=%d", child.name, len(left))
                for message in left:
                    await self._dead_letter(child, message, SHUTDOWN_KIND, count=False)

    # ------------------------------------------------------------ one child

    async def _child_loop(
        self, child: _Child, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        try:
            with child.loop_scope:
                task_status.started()
                await self._keep_alive(child)
        finally:
            if child.state not in ("failed", "stopped"):
                child.set_state("stopped")
            child.finished.set()

    async def _keep_alive(self, child: _Child) -> None:
        while True:
            if not child.wanted:
                if child.draining:
                    return
                wake = child.wake
                await wake.wait()
                continue
            outcome, error = await self._incarnate(child)
            if outcome == "cancelled":  # a control stop or restart
                if child.wanted and self._shutting_down(child):
                    self._end_for_shutdown(child, "stopped")
                elif child.wanted:
                    child.restarts += 1
                    log.info("actor.restarted actor=%s by=control", child.name)
                else:
                    child.set_state("stopped")
                continue
            if outcome == "returned":
                if child.draining:
                    child.wanted = False
                    child.set_state("stopped")
                    return
                if self._shutting_down(child):
                    self._end_for_shutdown(child, "stopped")
                    continue
                if child.restart != "permanent":
                    log.info("actor.returned actor=%s restart=%s", child.name, child.restart)
                    child.wanted = False
                    child.set_state("stopped")
                    continue
                log.warning("actor.returned actor=%s: permanent, restarting", child.name)
            else:
                assert error is not None
                child.last_error = _kind(error)
                log.error(
                    "actor.crashed actor=%s kind=%s at=%s",
                    child.name,
                    child.last_error,
                    _where(error),
                )
                if child.restart == "temporary":
                    child.wanted = False
                    child.set_state("failed")
                    continue
                if self._shutting_down(child):
                    self._end_for_shutdown(child, "failed")
                    continue
            if not self._count_exit(child):
                child.wanted = False
                child.set_state("failed")
                log.error(
                    "supervisor.gave_up actor=%s restarts_within=%gs max=%d: stopping the tree",
                    child.name,
                    self.config.within_seconds,
                    self.config.max_restarts,
                )
                self._exit_code = 1
                self.request_shutdown()
                continue
            await self._backoff(child)
            if child.wanted and self._shutting_down(child):
                self._end_for_shutdown(child, "stopped")
            elif child.wanted:
                child.restarts += 1
                log.info("actor.restarted actor=%s restarts=%d", child.name, child.restarts)

    def _shutting_down(self, child: _Child) -> bool:
        """Shutdown was requested and `child` is a service: it gets no new incarnation.
        (An actor with a mailbox still restarts, without backoff, to drain its queue.)"""
        return self._stop_requested.is_set() and child.mailbox is None

    def _end_for_shutdown(self, child: _Child, state: State) -> None:
        log.info("actor.not_restarted actor=%s reason=shutdown", child.name)
        child.wanted = False
        child.set_state(state)

    async def _incarnate(self, child: _Child) -> tuple[str, Exception | None]:
        """Run one incarnation: 'returned', 'crashed' (with the error) or 'cancelled'."""
        outcome, error = "returned", None
        scope = child.scope = anyio.CancelScope()
        child.set_state("running")
        try:
            with scope:
                try:
                    await child.start()
                except Exception as exc:  # cancellation is not an Exception: it passes
                    outcome, error = "crashed", exc
        finally:
            child.scope = None
            dead = []
            if child.mailbox is not None:
                dead = child.mailbox.recover(crashed=outcome == "crashed")
        if scope.cancelled_caught:
            outcome = "cancelled"
        for message in dead:
            assert error is not None
            await self._dead_letter(child, message, _kind(error))
        return outcome, error

    def _count_exit(self, child: _Child) -> bool:
        """Record one unplanned exit; False when it breaks the restart intensity."""
        now = self._clock.now()
        while child.crashes and child.crashes[0] <= now - self.config.within_seconds:
            child.crashes.popleft()
        child.crashes.append(now)
        return len(child.crashes) <= self.config.max_restarts

    async def _backoff(self, child: _Child) -> None:
        delay = min(
            self.config.backoff_initial_s * 2 ** (len(child.crashes) - 1),
            self.config.backoff_max_s,
        )
        if delay <= 0 or child.draining:
            return
        child.set_state("backoff")
        scope = child.scope = anyio.CancelScope()
        with scope:
            await self._clock.sleep_until(self._clock.now() + delay)
        child.scope = None
        if scope.cancelled_caught and not child.wanted:
            child.set_state("stopped")

    async def _dead_letter(
        self, child: _Child, message: object, kind: str, *, count: bool = True
    ) -> None:
        if count:
            child.dead_letters += 1
            log.error("actor.dead_letter actor=%s kind=%s", child.name, kind)
        if self._on_dead_letter is None:
            return
        try:
            await self._on_dead_letter(child.name, message, kind)
        except Exception as exc:  # the handler's own failure must not take the child down
            log.error(
                "supervisor.dead_letter_handler_failed actor=%s kind=%s", child.name, _kind(exc)
            )

    # ------------------------------------------------------------ control

    def _child(self, name: str) -> _Child:
        child = self._children.get(name)
        if child is None:
            raise UnknownActor(name, self.names)
        return child

    def restart(self, name: str) -> None:
        """Restart one actor now (no backoff, not counted against the intensity).
        Its in-flight messages are redelivered; its mailbox and siblings are untouched."""
        child = self._child(name)
        if child.draining:
            return
        child.wanted = True
        if child.scope is not None:
            child.scope.cancel()
        elif child.state in ("stopped", "failed"):
            child.restarts += 1
        child.poke()

    def stop(self, name: str) -> None:
        """Stop one actor; its mailbox keeps taking messages for a later start."""
        child = self._child(name)
        child.wanted = False
        if child.scope is not None:
            child.scope.cancel()
        child.poke()

    def start(self, name: str) -> None:
        """Start a stopped or failed actor again (a running one is left alone)."""
        child = self._child(name)
        if child.draining or child.wanted:
            return
        child.wanted = True
        if child.scope is not None:  # in backoff: skip the rest of it
            child.scope.cancel()
        child.poke()

    async def wait_state(
        self, name: str, states: Sequence[State], timeout_s: float, *, min_restarts: int = 0
    ) -> State:
        """Wait until actor `name` is in one of `states` having restarted at least
        `min_restarts` times (or the timeout passes); its state then."""
        child = self._child(name)
        with anyio.move_on_after(timeout_s):
            while child.state not in states or child.restarts < min_restarts:
                await child.changed.wait()
        return child.state

    def status(self) -> list[ActorStatus]:
        return [self._status(c) for c in self._order]

    def _status(self, child: _Child) -> ActorStatus:
        stats = child.mailbox.stats() if child.mailbox is not None else None
        return ActorStatus(
            name=child.name,
            kind="actor" if child.mailbox is not None else "service",
            restart=child.restart,
            state=child.state,
            restarts=child.restarts,
            depth=stats.depth if stats else 0,
            in_flight=stats.in_flight if stats else 0,
            high_water=stats.high_water if stats else 0,
            processed=stats.processed if stats else 0,
            dropped=stats.dropped if stats else 0,
            dead_letters=child.dead_letters,
            last_error=child.last_error,
        )


def _kind(exc: BaseException) -> str:
    """The class name of the innermost cause (first leaf of a group): never the message."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return type(exc).__name__


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame: enough to find the bug, carries no user data."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"
