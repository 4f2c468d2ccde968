"""Bounded mailboxes owned by the supervisor, so they outlive the actors that read them.

A producer holds the mailbox as an `Address` (send / send_nowait). The actor reads it:

    async for msg in inbox:          # sequential: `msg` is done when the next one is asked for
        ...
    async with inbox.take() as msg:  # concurrent: `msg` is done when the block exits cleanly
        ...
    async with inbox.take_batch(512) as msgs:  # everything queued, up to 512, in one go
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


@dataclass(slots=True)
class _Batch(Generic[T]):
    """Messages taken together by `take_batch`: one in-flight record for all of them, so a
    busy actor pays for the bookkeeping once per batch rather than once per message."""

    messages: list[T]
    attempts: list[int] | None = None  # per message, when the batch holds redeliveries
    blamed: bool = False

    def envelopes(self) -> list[_Envelope[T]]:
        attempts = self.attempts or [0] * len(self.messages)
        return [_Envelope(m, a, self.blamed) for m, a in zip(self.messages, attempts, strict=True)]


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
        self._queue: deque[T] = deque()  # first deliveries: bare messages, nothing to track yet
        self._redeliver: deque[_Envelope[T]] = deque()
        self._in_flight: list[_Envelope[T] | _Batch[T]] = []
        self._in_flight_count = 0
        self._closed = False
        self._readable = anyio.Event()
        self._writable = anyio.Event()
        self._recv_waiters = 0
        self._wake_pending = False  # _readable is set and no waiter has replaced it yet
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
            if self._writable.is_set():  # a wake-up for an earlier wait: use a fresh event
                self._writable = anyio.Event()
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
        self._queue.append(message)
        self._sent += 1
        depth = len(self._queue) + len(self._redeliver)
        if depth > self._high_water:
            self._high_water = depth
        if self._recv_waiters and not self._wake_pending:
            self._wake_receivers()

    def _wake_receivers(self) -> None:
        # Set once per wait, not once per message: a burst of sends to a waiting actor
        # would otherwise make (and set) a new event for every message.
        if self._recv_waiters and not self._readable.is_set():
            self._readable.set()
            self._wake_pending = True

    def _wake_senders(self) -> None:
        if self._send_waiters and not self._writable.is_set():
            self._writable.set()

    # ------------------------------------------------------------ actor side

    async def receive(self) -> T:
        """The next message (redeliveries first); it stays in flight until `done`.
        Raises anyio.EndOfStream once intake is closed and nothing is left."""
        await self._wait_for_message()
        if self._redeliver:
            env = self._redeliver.popleft()
        else:
            env = _Envelope(self._queue.popleft())
            self._wake_senders()
        self._in_flight.append(env)
        self._in_flight_count += 1
        self._received += 1
        return env.message

    async def _wait_for_message(self) -> None:
        await checkpoint_if_cancelled()
        while not (self._redeliver or self._queue):
            if self._closed:
                raise anyio.EndOfStream
            if self._readable.is_set():  # a wake-up for an earlier wait: use a fresh event
                self._readable = anyio.Event()
                self._wake_pending = False
            self._recv_waiters += 1
            try:
                await self._readable.wait()
            finally:
                self._recv_waiters -= 1

    def done(self, message: T) -> None:
        """The actor finished with `message` (handled it, or handled its failure)."""
        for i, record in enumerate(self._in_flight):
            if type(record) is _Envelope and record.message is message:
                del self._in_flight[i]
                self._in_flight_count -= 1
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
        for record in self._in_flight:
            if type(record) is _Envelope and record.message is message:
                record.blamed = True
                return

    @asynccontextmanager
    async def take_batch(self, limit: int) -> AsyncIterator[list[T]]:
        """Wait for one message, then take it with everything queued behind it, up to
        `limit` (redeliveries first); the batch is done when the block exits cleanly.
        A batch is recovered like single messages: an exception blames all of it."""
        batch = await self._receive_batch(max(1, limit))
        try:
            yield batch.messages
        except Exception:
            batch.blamed = True
            raise
        self._settle(batch)

    async def _receive_batch(self, limit: int) -> _Batch[T]:
        await self._wait_for_message()
        if self._redeliver:
            envelopes = [self._redeliver.popleft() for _ in range(min(limit, len(self._redeliver)))]
            batch = _Batch([e.message for e in envelopes], [e.attempts for e in envelopes])
        else:
            queue = self._queue
            if limit >= len(queue):
                messages = list(queue)
                queue.clear()
            else:
                messages = [queue.popleft() for _ in range(limit)]
            batch = _Batch(messages)
            self._wake_senders()
        self._in_flight.append(batch)
        self._in_flight_count += len(batch.messages)
        self._received += len(batch.messages)
        return batch

    def _settle(self, batch: _Batch[T]) -> None:
        for i, record in enumerate(self._in_flight):
            if record is batch:
                del self._in_flight[i]
                self._in_flight_count -= len(batch.messages)
                self._processed += len(batch.messages)
                return

    def _in_flight_envelopes(self) -> list[_Envelope[T]]:
        envelopes: list[_Envelope[T]] = []
        for record in self._in_flight:
            if isinstance(record, _Batch):
                envelopes.extend(record.envelopes())
            else:
                envelopes.append(record)
        return envelopes

    # ------------------------------------------------------------ supervisor side

    def close(self) -> None:
        """Stop intake: senders get MailboxClosed; the actor drains what is queued."""
        self._closed = True
        self._readable.set()
        self._writable.set()

    def reopen(self) -> None:
        self._closed = False
        self._readable = anyio.Event()
        self._wake_pending = False
        self._writable = anyio.Event()

    def recover(self, *, crashed: bool, max_deliveries: int = 2) -> list[T]:
        """Put in-flight messages back first in line for the next incarnation.

        With `crashed`, each counts one crash (only the blamed ones, when a `take()` block
        raised); one that reaches `max_deliveries` crashes is returned (a dead letter)
        instead of being redelivered."""
        dead: list[T] = []
        back: list[_Envelope[T]] = []
        in_flight = self._in_flight_envelopes()
        any_blamed = any(env.blamed for env in in_flight)
        for env in in_flight:
            if crashed and (env.blamed or not any_blamed):
                env.attempts += 1
            env.blamed = False
            if env.attempts >= max_deliveries:
                dead.append(env.message)
            else:
                back.append(env)
        self._in_flight.clear()
        self._in_flight_count = 0
        self._redeliver.extendleft(reversed(back))
        if back:
            self._wake_receivers()
        return dead

    def drain(self) -> list[T]:
        """Remove and return everything still queued or in flight (after a hard stop)."""
        left = [e.message for e in (*self._in_flight_envelopes(), *self._redeliver)]
        left.extend(self._queue)
        self._in_flight.clear()
        self._in_flight_count = 0
        self._redeliver.clear()
        self._queue.clear()
        return left

    def stats(self) -> MailboxStats:
        return MailboxStats(
            size=self.size,
            depth=len(self._queue) + len(self._redeliver),
            in_flight=self._in_flight_count,
            high_water=self._high_water,
            sent=self._sent,
            received=self._received,
            dropped=self._dropped,
            closed=self._closed,
            processed=self._processed,
        )
