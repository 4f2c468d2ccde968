"""In-memory fakes shared by the tests. They inherit nothing; mypy checks their shape."""

from __future__ import annotations

from typing import Generic, TypeVar

import anyio

from resumebek.errors import MailboxClosed

T = TypeVar("T")


class FakeClock:
    """Time moves only when a test calls `advance`; sleepers wake then."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._now = start
        self._tick = anyio.Event()

    def now(self) -> float:
        return self._now

    async def sleep_until(self, deadline: float) -> None:
        while self._now < deadline:
            await self._tick.wait()

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._tick.set()
        self._tick = anyio.Event()


class Recorder(Generic[T]):
    """An Address that records what was sent to it."""

    def __init__(self, name: str = "recorder", *, closed: bool = False) -> None:
        self._name = name
        self.items: list[T] = []
        self.closed = closed

    @property
    def name(self) -> str:
        return self._name

    async def send(self, message: T) -> None:
        if self.closed:
            raise MailboxClosed(self._name)
        self.items.append(message)

    def send_nowait(self, message: T) -> bool:
        if self.closed:
            return False
        self.items.append(message)
        return True
