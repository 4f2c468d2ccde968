"""The real clock. Tests use tests/fakes.py FakeClock, which never sleeps for real."""

from __future__ import annotations

import time

import anyio


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep_until(self, deadline: float) -> None:
        # Sleep in slices so a wall-clock jump (NTP, suspend) is noticed within a minute.
        while (left := deadline - time.time()) > 0:
            await anyio.sleep(min(left, 60.0))
