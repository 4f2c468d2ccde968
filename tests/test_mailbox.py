from __future__ import annotations

import anyio
import pytest

from resumebek.errors import MailboxClosed
from resumebek.runtime import Address, Mailbox
from tests.fakes import Recorder


async def test_messages_arrive_in_order_and_iteration_marks_them_done() -> None:
    box: Mailbox[int] = Mailbox("a", 4)
    for i in range(3):
        await box.send(i)
    box.close()
    got = [m async for m in box]
    assert got == [0, 1, 2]
    assert box.stats().in_flight == 0


async def test_send_waits_for_room_then_delivers() -> None:
    box: Mailbox[int] = Mailbox("a", 1)
    await box.send(1)
    order: list[str] = []
    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:

            async def producer() -> None:
                await box.send(2)
                order.append("sent 2")

            tg.start_soon(producer)
            await anyio.wait_all_tasks_blocked()
            assert order == []  # blocked: the box is full
            async with box.take() as first:
                order.append(f"took {first}")
    async with box.take() as second:
        assert second == 2
    assert order == ["took 1", "sent 2"]


async def test_a_crash_redelivers_once_then_dead_letters() -> None:
    box: Mailbox[str] = Mailbox("a", 4)
    await box.send("poison")
    await box.send("next")
    assert await box.receive() == "poison"  # the actor crashes while handling it
    assert box.recover(crashed=True) == []
    assert await box.receive() == "poison"  # redelivered first, before "next"
    assert box.recover(crashed=True) == ["poison"]  # second crash: dead letter
    assert await box.receive() == "next"


async def test_a_stop_that_is_not_a_crash_does_not_count() -> None:
    box: Mailbox[str] = Mailbox("a", 4)
    await box.send("m")
    await box.receive()
    for _ in range(3):
        assert box.recover(crashed=False) == []
        assert await box.receive() == "m"


async def test_closed_intake_refuses_senders_and_ends_iteration_after_draining() -> None:
    box: Mailbox[int] = Mailbox("a", 4)
    await box.send(1)
    box.close()
    with pytest.raises(MailboxClosed):
        await box.send(2)
    assert not box.send_nowait(3)
    assert [m async for m in box] == [1]
    stats = box.stats()
    assert stats.dropped == 1 and stats.high_water == 1 and stats.closed


def test_send_nowait_counts_drops_when_full() -> None:
    box: Mailbox[int] = Mailbox("a", 2)
    assert [box.send_nowait(i) for i in range(4)] == [True, True, False, False]
    assert box.stats().dropped == 2


def test_recorder_is_an_address() -> None:
    rec: Address[int] = Recorder()
    box: Address[int] = Mailbox("x", 1)
    assert rec.name and box.name == "x"


async def test_processed_counts_done_messages() -> None:
    box: Mailbox[int] = Mailbox("a", 4)
    for i in range(3):
        await box.send(i)
    async with box.take():
        pass
    await box.receive()  # still in flight: not processed
    assert box.stats().processed == 1


async def test_only_the_message_whose_take_raised_counts_the_crash() -> None:
    box: Mailbox[str] = Mailbox("a", 4)
    await box.send("innocent")
    await box.send("poison")
    for _ in range(2):  # two crashes, each with both messages in flight
        assert await box.receive() == "innocent"
        with pytest.raises(ValueError, match="boom"):
            await _take_and_fail(box)
        dead = box.recover(crashed=True)
    assert dead == ["poison"]
    assert await box.receive() == "innocent"  # its delivery budget is untouched
    assert box.recover(crashed=True) == []


async def _take_and_fail(box: Mailbox[str]) -> None:
    async with box.take() as msg:
        raise ValueError(f"boom {msg}")


async def test_take_batch_takes_what_is_queued_in_order_up_to_the_limit() -> None:
    box: Mailbox[int] = Mailbox("a", 10)
    for i in range(7):
        box.send_nowait(i)
    async with box.take_batch(5) as batch:
        assert batch == [0, 1, 2, 3, 4]
        assert box.stats().in_flight == 5 and box.stats().depth == 2
    async with box.take_batch(5) as batch:
        assert batch == [5, 6]
    stats = box.stats()
    assert stats.in_flight == 0 and stats.processed == 7 and stats.received == 7


async def test_a_crashed_batch_is_redelivered_first_then_dead_lettered() -> None:
    box: Mailbox[str] = Mailbox("a", 10)
    for m in ("a", "b", "c"):
        box.send_nowait(m)
    seen: list[list[str]] = []
    with pytest.raises(ValueError, match="boom"):
        await _take_batch_and_fail(box, 2, seen)
    assert box.recover(crashed=True) == []
    box.send_nowait("d")
    with pytest.raises(ValueError, match="boom"):
        await _take_batch_and_fail(box, 10, seen)
    assert seen == [["a", "b"], ["a", "b"]]  # the redeliveries, on their own, first in line
    assert box.recover(crashed=True) == ["a", "b"]  # second crash: dead letters
    async with box.take_batch(10) as batch:
        assert batch == ["c", "d"]


async def _take_batch_and_fail(box: Mailbox[str], limit: int, seen: list[list[str]]) -> None:
    async with box.take_batch(limit) as batch:
        seen.append(list(batch))
        raise ValueError("boom")


async def test_a_batch_in_flight_during_a_stop_keeps_its_budget_and_is_drained() -> None:
    box: Mailbox[int] = Mailbox("a", 10)
    for i in range(3):
        box.send_nowait(i)
    async with box.take_batch(2):
        assert box.recover(crashed=False) == []  # e.g. `ctl restart`: not a crash
        assert box.stats().in_flight == 0
        assert box.drain() == [0, 1, 2]


async def test_a_waiting_actor_gets_a_whole_burst_and_every_later_one() -> None:
    box: Mailbox[int] = Mailbox("a", 1000)
    got: list[list[int]] = []
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def consume() -> None:
                while True:
                    try:
                        async with box.take_batch(1000) as batch:
                            got.append(batch)
                    except anyio.EndOfStream:
                        return

            tg.start_soon(consume)
            for burst in range(3):
                await anyio.wait_all_tasks_blocked()  # the actor waits for mail
                for i in range(100):
                    assert box.send_nowait(burst * 100 + i)
            await anyio.wait_all_tasks_blocked()
            box.close()
    assert got == [list(range(b * 100, b * 100 + 100)) for b in range(3)]


async def test_a_reopened_mailbox_wakes_its_waiting_actor() -> None:
    box: Mailbox[int] = Mailbox("a", 4)
    got: list[int] = []

    async def one() -> None:
        got.append(await box.receive())

    with anyio.fail_after(2):
        for message in (1, 2):  # before and after a close and reopen, e.g. `ctl stop/start`
            async with anyio.create_task_group() as tg:
                tg.start_soon(one)
                await anyio.wait_all_tasks_blocked()  # waiting for mail
                box.send_nowait(message)
            box.close()
            assert [m async for m in box] == []
            box.reopen()
    assert got == [1, 2]
