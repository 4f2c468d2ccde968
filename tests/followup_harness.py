"""Helpers for the follow-up tests: run the actor against a FakeClock and recording fakes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import anyio.lowlevel

from resumebek.actors import followup
from resumebek.config import Settings
from resumebek.messages import (
    AnalyticsEvent,
    CancelFollowUp,
    ChatRef,
    FollowUpOutcome,
    FollowUpReceipt,
    Language,
    Outgoing,
    Requester,
    ScheduleFollowUp,
    UserRef,
)
from resumebek.runtime.mailbox import Mailbox
from tests.fakes import FakeClock, Recorder

ALMATY = ZoneInfo("Asia/Almaty")
Inbox = Mailbox[ScheduleFollowUp | CancelFollowUp | FollowUpReceipt]


async def settle() -> None:
    """Let every task run until all are blocked. anyio's wait_all_tasks_blocked sleeps 0.1 s
    (for real) whenever it finds a runnable task, so yield a few times first."""
    for _ in range(20):
        await anyio.lowlevel.checkpoint()
    await anyio.wait_all_tasks_blocked()


def almaty(y: int, mo: int, d: int, h: int, mi: int = 0) -> float:
    return datetime(y, mo, d, h, mi, tzinfo=ALMATY).timestamp()


class Outbox:
    """The outbox as the follow-up actor sees it: records sends and (optionally) answers
    each with a receipt, like the real outbox does after talking to Telegram."""

    def __init__(self) -> None:
        self.items: list[Outgoing] = []
        self.inbox: Inbox | None = None
        self.answer: Callable[[Outgoing], FollowUpOutcome | None] = lambda _: "sent"

    @property
    def name(self) -> str:
        return "outbox"

    async def send(self, message: Outgoing) -> None:
        self.items.append(message)
        outcome = self.answer(message)
        if outcome is not None and self.inbox is not None and message.receipt is not None:
            self.inbox.send_nowait(FollowUpReceipt(job_id=message.receipt, outcome=outcome))

    def send_nowait(self, message: Outgoing) -> bool:
        raise AssertionError("follow-ups go through send() (back-pressure)")

    def users(self) -> list[int]:
        return [int(m.chat) for m in self.items]


@dataclass
class Harness:
    data_dir: Path
    clock: FakeClock
    settings: Settings = field(init=False)
    outbox: Outbox = field(default_factory=Outbox)
    analytics: Recorder[AnalyticsEvent] = field(default_factory=lambda: Recorder("analytics"))
    inbox: Inbox = field(default_factory=lambda: Mailbox("followup", 5000))
    overrides: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = Settings(data_dir=self.data_dir, **self.overrides)  # type: ignore[arg-type]

    @property
    def snapshot(self) -> Path:
        return self.data_dir / "followup_jobs.json"

    def events(self, name: str) -> list[AnalyticsEvent]:
        return [e for e in self.analytics.items if e.name == name]

    def reasons(self, name: str) -> list[object]:
        return [e.fields.get("reason") for e in self.events(name)]

    async def schedule(
        self,
        user: int,
        *,
        at: float | None = None,
        lang: Language = "en",
        campaign: str | None = None,
    ) -> None:
        who = Requester(chat=ChatRef(user), user=UserRef(user), ui_language=lang, campaign=campaign)
        delivered = self.clock.now() if at is None else at
        await self.inbox.send(
            ScheduleFollowUp(trace=uuid.uuid4().hex, who=who, delivered_at=delivered)
        )
        await settle()

    async def cancel(self, user: int, reason: str) -> None:
        assert reason in ("stop", "delete")
        await self.inbox.send(
            CancelFollowUp(
                trace="c", user=UserRef(user), reason="stop" if reason == "stop" else "delete"
            )
        )
        await settle()

    async def advance(self, seconds: float, *, step: float | None = None) -> None:
        """Move the fake clock, letting every task react after each step."""
        remaining = seconds
        step = step or seconds
        while remaining > 0:
            delta = min(step, remaining)
            self.clock.advance(delta)
            remaining -= delta
            await settle()

    @asynccontextmanager
    async def running(self, *, debounce_s: float = 1.0) -> AsyncIterator[None]:
        """The actor, from restore to its final snapshot (the inbox is closed on exit)."""
        self.inbox = Mailbox("followup", 5000)
        self.outbox.inbox = self.inbox
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    partial(
                        followup.run,
                        self.inbox,
                        to_outbox=self.outbox,
                        to_analytics=self.analytics,
                        clock=self.clock,
                        settings=self.settings,
                        debounce_s=debounce_s,
                    )
                )
                await settle()
                yield
                await settle()
                self.inbox.close()


def harness(tmp_path: Path, *, start: float, **overrides: object) -> Harness:
    return Harness(data_dir=tmp_path, clock=FakeClock(start), overrides=overrides)
