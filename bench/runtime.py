"""Runtime benchmarks (prints figures; not a test): `python -m bench.runtime [--messages N]`.

1. Throughput of a chain of three supervised actors (Mailbox, redelivery book-keeping,
   the supervisor's scopes) against a bare chain of three anyio memory object streams, in
   the same run. Target: supervised >= 0.5 x bare.
2. Crash-to-running restart latency: from the `raise` in an actor to the first line of its
   next incarnation, backoff set to 0 (so only the supervisor's own work is timed).
   Target: median < 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from resumebek.config import ActorPolicy, SupervisorConfig
from resumebek.runtime import Mailbox, Supervisor

BUFFER = 1000
CONFIG = SupervisorConfig(
    max_restarts=1_000_000,
    within_seconds=60.0,
    backoff_initial_s=0.0,
    backoff_max_s=0.0,
    shutdown_timeout_s=5.0,
    actors=tuple(ActorPolicy(name=n, mailbox=BUFFER) for n in ("a", "b", "c")),
)


# ---------------------------------------------------------------- throughput


async def bare_chain(n: int) -> float:
    """Seconds to push n messages through three forwarding tasks on memory streams."""
    tx0, rx0 = anyio.create_memory_object_stream[int](BUFFER)
    tx1, rx1 = anyio.create_memory_object_stream[int](BUFFER)
    tx2, rx2 = anyio.create_memory_object_stream[int](BUFFER)
    done = anyio.Event()

    async def forward(rx: MemoryObjectReceiveStream[int], tx: MemoryObjectSendStream[int]) -> None:
        async with rx, tx:
            async for m in rx:
                await tx.send(m)

    async def sink(rx: MemoryObjectReceiveStream[int]) -> None:
        count = 0
        async with rx:
            async for _ in rx:
                count += 1
                if count == n:
                    done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(forward, rx0, tx1)
        tg.start_soon(forward, rx1, tx2)
        tg.start_soon(sink, rx2)
        started = time.perf_counter()
        async with tx0:
            for i in range(n):
                await tx0.send(i)
        await done.wait()
        elapsed = time.perf_counter() - started
    return elapsed


async def supervised_chain(n: int) -> float:
    """Seconds to push n messages through three supervised actors with mailboxes."""
    sup = Supervisor(CONFIG, handle_signals=False)
    a: Mailbox[int] = sup.mailbox("a")
    b: Mailbox[int] = sup.mailbox("b")
    c: Mailbox[int] = sup.mailbox("c")
    done = anyio.Event()

    def forward(inbox: Mailbox[int], to: Mailbox[int]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            async for m in inbox:
                await to.send(m)

        return run

    async def sink() -> None:
        count = 0
        async for _ in c:
            count += 1
            if count == n:
                done.set()

    sup.add("c", start=sink)
    sup.add("b", start=forward(b, c))
    sup.add("a", start=forward(a, b))
    elapsed = 0.0
    async with anyio.create_task_group() as tg:
        tg.start_soon(sup.run)
        await anyio.wait_all_tasks_blocked()
        started = time.perf_counter()
        for i in range(n):
            await a.send(i)
        await done.wait()
        elapsed = time.perf_counter() - started
        sup.request_shutdown()
    return elapsed


# ---------------------------------------------------------------- restart latency


async def restart_latency(restarts: int) -> list[float]:
    """Milliseconds from an actor's raise to the first line of its next incarnation."""
    sup = Supervisor(CONFIG, handle_signals=False)
    box: Mailbox[int] = sup.mailbox("a")
    raised_at = 0.0
    samples: list[float] = []
    crashed: set[int] = set()
    all_done = anyio.Event()

    async def actor() -> None:
        nonlocal raised_at
        if raised_at:
            samples.append((time.perf_counter() - raised_at) * 1000)
            raised_at = 0.0
        async for m in box:
            if m not in crashed:  # crash on the first delivery only; the redelivery passes
                crashed.add(m)
                raised_at = time.perf_counter()
                raise RuntimeError("bench crash")
            if m == restarts - 1:
                all_done.set()

    sup.add("a", start=actor)
    async with anyio.create_task_group() as tg:
        tg.start_soon(sup.run)
        await anyio.wait_all_tasks_blocked()
        for i in range(restarts):
            await box.send(i)
        await all_done.wait()
        sup.request_shutdown()
    return samples


# ---------------------------------------------------------------- main


async def main(messages: int, rounds: int, restarts: int) -> None:
    import logging

    logging.disable(logging.CRITICAL)  # crash logs would time the terminal, not the runtime
    await bare_chain(messages // 10)  # warm-up
    await supervised_chain(messages // 10)
    bare, supervised = [], []
    for _ in range(rounds):  # interleaved, so drift hits both alike
        bare.append(messages / await bare_chain(messages))
        supervised.append(messages / await supervised_chain(messages))
    bare_rate, sup_rate = statistics.median(bare), statistics.median(supervised)
    ratio = sup_rate / bare_rate
    print(f"throughput, 3-actor chain, {messages} messages, median of {rounds} rounds:")
    print(f"  bare anyio memory streams : {bare_rate:>12,.0f} msg/s")
    print(f"  supervised mailboxes      : {sup_rate:>12,.0f} msg/s")
    print(
        f"  ratio supervised / bare   : {ratio:.2f}  (target >= 0.50: {'OK' if ratio >= 0.5 else 'MISSED'})"
    )
    samples = await restart_latency(restarts)
    samples.sort()
    median = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"restart latency, crash -> next incarnation, backoff 0, {len(samples)} restarts:")
    print(f"  median {median:.3f} ms, p95 {p95:.3f} ms, max {samples[-1]:.3f} ms")
    print(f"  (target median < 50 ms: {'OK' if median < 50 else 'MISSED'})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--restarts", type=int, default=300)
    args = parser.parse_args()
    anyio.run(main, args.messages, args.rounds, args.restarts, backend="asyncio")
