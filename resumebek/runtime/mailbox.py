"""Bounded mailboxes owned by the supervisor, so they outlive the actors that read them.

A producer holds the mailbox as an `Address` (send / send_nowait). The actor reads it:

    async for msg in inbox:          # sequential: `msg` is done when the next one is asked for
        ...
    async with inbox.take() as msg:  # concurrent: `msg` is done when the block exits cleanly
        ...

A message that was received but not done when the actor crashed is "in flight": the
supervisor calls `recover()`, which puts it first in line for the restarted actor, or, if
it was already redelivered once, hands it back as a dead letter.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import anyio
from anyio.lowlevel import cancel_shielded_checkpoint, checkpoint_if_cancelled

from resumebek.errors import MailboxClosed

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Address(Protocol[T_contra]):
    """Where producers send. Real mailboxes and test fakes both fit."""

    @property
    def name(self) -> str: ...

    async def send(self, message: T_contra) -> None:
        """Wait for room (back-pressure); raise MailboxClosed once intake is closed."""
        ...

    def send_nowait(self, message: T_contra) -> bool:
        """Enqueue without waiting; False (and counted as dropped) when full or closed."""
        ...


@dataclass(slots=True)
class _Envelope(Generic[T]):
    message: T
    attempts: int = 0  # crashes this message was in flight for
    blamed: bool = False  # its `take()` block raised: the crash is this message's fault


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxStats:
    size: int
    depth: int  # queued, including messages waiting for redelivery
    in_flight: int
    high_water: int
    sent: int
    received: int
    dropped: int
    closed: bool
    processed: int = 0  # marked done (handled, or its failure handled)


class Mailbox(Generic[T]):
    def __init__(self, name: str, size: int) -> None:
        if size < 1:
            raise ValueError("a mailbox needs room for at least one message")
        self._name = name
        self.size = size
        self._queue: deque[_Envelope[T]] = deque()
        self._redeliver: deque[_Envelope[T]] = deque()
        self._in_flight: list[_Envelope[T]] = []
        self._closed = False
        self._readable = anyio.Event()
        self._writable = anyio.Event()
        self._recv_waiters = 0
        self._send_waiters = 0
        self._high_water = 0
        self._sent = 0
        self._received = 0
        self._dropped = 0
        self._processed = 0

    @property
    def name(self) -> str:
        return self._name

    # ------------------------------------------------------------ producer side

    async def send(self, message: T) -> None:
        await checkpoint_if_cancelled()
        while len(self._queue) >= self.size and not self._closed:
            self._send_waiters += 1
            try:
                await self._writable.wait()
            finally:
                self._send_waiters -= 1
        if self._closed:
            raise MailboxClosed(self._name)
        self._put(message)
        await cancel_shielded_checkpoint()  # enqueued: a cancel now must not look like a loss

    def send_nowait(self, message: T) -> bool:
        if self._closed or len(self._queue) >= self.size:
            self._dropped += 1
            return False
        self._put(message)
        return True

    def _put(self, message: T) -> None:
        self._queue.append(_Envelope(message))
        self._sent += 1
        depth = len(self._queue) + len(self._redeliver)
        if depth > self._high_water:
            self._high_water = depth
        if self._recv_waiters:
            self._readable.set()
            self._readable = anyio.Event()

    # ------------------------------------------------------------ actor side

    async def receive(self) -> T:
        """The next message (redeliveries first); it stays in flight until `done`.
        Raises anyio.EndOfStream once intake is closed and nothing is left."""
        await checkpoint_if_cancelled()
        while True:
            env = self._pop()
            if env is not None:
                break
            if self._closed:
                raise anyio.EndOfStream
            self._recv_waiters += 1
            try:
                await self._readable.wait()
            finally:
                self._recv_waiters -= 1
        self._in_flight.append(env)
        self._received += 1
        return env.message

    def _pop(self) -> _Envelope[T] | None:
        if self._redeliver:
            return self._redeliver.popleft()
        if self._queue:
            env = self._queue.popleft()
            if self._send_waiters:
                self._writable.set()
                self._writable = anyio.Event()
            return env
        return None

    def done(self, message: T) -> None:
        """The actor finished with `message` (handled it, or handled its failure)."""
        for i, env in enumerate(self._in_flight):
            if env.message is message:
                del self._in_flight[i]
                self._processed += 1
                return

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        while True:
            try:
                message = await self.receive()
            except anyio.EndOfStream:
                return
            yield message
            # reached only when the loop body asks for the next message: it went well
            self.done(message)

    @asynccontextmanager
    async def take(self) -> AsyncIterator[T]:
        """Receive one message; it is done when the block exits without an exception."""
        message = await self.receive()
        try:
            yield message
        except Exception:
            # Cancellation is not an Exception: only a real failure blames this message, so
            # with concurrent takes the innocent neighbours of a poison message keep their
            # delivery budget when the actor crashes.
            self._blame(message)
            raise
        self.done(message)

    def _blame(self, message: T) -> None:
        for env in self._in_flight:
            if env.message is message:
                env.blamed = True
                return

    # ------------------------------------------------------------ supervisor side

    def close(self) -> None:
        """Stop intake: senders get MailboxClosed; the actor drains what is queued."""
        self._closed = True
        self._readable.set()
        self._writable.set()

    def reopen(self) -> None:
        self._closed = False
        self._readable = anyio.Event()
        self._writable = anyio.Event()

    def recover(self, *, crashed: bool, max_deliveries: int = 2) -> list[T]:
        """Put in-flight messages back first in line for the next incarnation.

        With `crashed`, each counts one crash (only the blamed ones, when a `take()` block
        raised); one that reaches `max_deliveries` crashes is returned (a dead letter)
        instead of being redelivered."""
        dead: list[T] = []
        back: list[_Envelope[T]] = []
        any_blamed = any(env.blamed for env in self._in_flight)
        for env in self._in_flight:
            if crashed and (env.blamed or not any_blamed):
                env.attempts += 1
            env.blamed = False
            if env.attempts >= max_deliveries:
                dead.append(env.message)
            else:
                back.append(env)
        self._in_flight.clear()
        self._redeliver.extendleft(reversed(back))
        if back and self._recv_waiters:
            self._readable.set()
            self._readable = anyio.Event()
        return dead

    def drain(self) -> list[T]:
        """Remove and return everything still queued or in flight (after a hard stop)."""
        left = [e.message for e in (*self._in_flight, *self._redeliver, *self._queue)]
        self._in_flight.clear()
        self._redeliver.clear()
        self._queue.clear()
        return left

    def stats(self) -> MailboxStats:
        return MailboxStats(
            size=self.size,
            depth=len(self._queue) + len(self._redeliver),
            in_flight=len(self._in_flight),
            high_water=self._high_water,
            sent=self._sent,
            received=self._received,
            dropped=self._dropped,
            closed=self._closed,
            processed=self._processed,
        )
