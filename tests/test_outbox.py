from __future__ import annotations

import json
import random
from collections import defaultdict

import anyio
import pytest

from resumebek.actors import outbox
from resumebek.config import Settings
from resumebek.domain.events import validate_fields
from resumebek.domain.telegram_html import escape, visible_len
from resumebek.errors import (
    BadButtonUrl,
    FloodWait,
    MessageNotModified,
    MessageTooLong,
    RecipientGone,
)
from resumebek.messages import (
    AnalyticsEvent,
    CallbackAnswer,
    CallbackButton,
    ChatAction,
    ChatRef,
    FollowUpReceipt,
    Language,
    Outgoing,
    Priority,
    Requester,
    Review,
    ReviewReady,
    ScheduleFollowUp,
    UrlButton,
    UserRef,
)
from resumebek.runtime.mailbox import Mailbox
from tests.conftest import FIXTURES
from tests.fakes import Recorder
from tests.telegram_fakes import FakeTelegram, JumpClock, drive

SETTINGS = Settings(ai_photos_url="https://photos.example/kz")


def render(review: Review, lang: Language) -> str:
    return f"<b>{escape(review.summary)}</b>\n\nScore: {review.score}/10"


def out(chat: int, text: str = "hi", **kw: object) -> Outgoing:
    fields: dict[str, object] = {
        "trace": f"t{chat}-{text[:8]}",
        "chat": ChatRef(chat),
        "language": "en",
        "kind": "reply",
        "html": text,
    }
    fields.update(kw)
    return Outgoing(**fields)  # type: ignore[arg-type]


def who(chat: int = 7, *, follow_up: bool = True, campaign: str | None = None) -> Requester:
    return Requester(
        chat=ChatRef(chat),
        user=UserRef(chat),
        ui_language="en",
        follow_up=follow_up,
        campaign=campaign,
    )


def review(summary: str = "Solid <resume> & more", lang: Language = "en") -> Review:
    return Review(
        summary=summary,
        strengths=("a",),
        improvements=("b",),
        text_suggestions=(),
        score=7,
        language=lang,
        source="llm",
    )


class Harness:
    def __init__(self) -> None:
        self.clock = JumpClock()
        self.tg = FakeTelegram(self.clock)
        self.inbox: Mailbox[outbox.OutboxMessage] = Mailbox("outbox", 100_000)
        self.followup: Recorder[ScheduleFollowUp | FollowUpReceipt] = Recorder("followup")
        self.analytics: Recorder[AnalyticsEvent] = Recorder("analytics")

    async def run(self, messages: list[outbox.OutboxMessage], **kw: float) -> None:
        for m in messages:
            await self.inbox.send(m)
        self.inbox.close()
        finished = anyio.Event()

        async def actor() -> None:
            await outbox.run(
                self.inbox,
                gateway=self.tg,
                to_followup=self.followup,
                to_analytics=self.analytics,
                clock=self.clock,
                settings=SETTINGS,
                per_chat_per_s=kw.get("per_chat", 1.0),
                global_per_s=kw.get("global_", 25.0),
                render_review=render,
            )
            finished.set()

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(actor)
                await drive(self.clock, finished.is_set)
        assert self.inbox.stats().in_flight == 0
        for ev in self.analytics.items:  # the analytics writer would drop an invalid event
            assert validate_fields(ev.name, ev.fields) is None, ev.name

    def events(self) -> list[str]:
        return [e.name for e in self.analytics.items]


def max_in_window(times: list[float], span: float = 1.0) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + span:
            j += 1
        best = max(best, j - i)
    return best


async def test_burst_of_1000_to_300_chats_respects_both_limits() -> None:
    h = Harness()
    rng = random.Random(5)
    messages: list[outbox.OutboxMessage] = [
        out(rng.randrange(300), f"m{i}", trace=f"t{i}") for i in range(1000)
    ]
    await h.run(messages)
    sends = h.tg.of("send")
    assert sorted(c.html for c in sends) == sorted(f"m{i}" for i in range(1000))
    assert max_in_window([c.at for c in sends]) <= 25
    per_chat: dict[int, list[float]] = defaultdict(list)
    order: dict[int, list[str]] = defaultdict(list)
    for c in sends:
        per_chat[c.chat].append(c.at)
        order[c.chat].append(c.html)
    assert all(max_in_window(ts) <= 1 for ts in per_chat.values())
    expected: dict[int, list[str]] = defaultdict(list)
    for m in messages:
        assert isinstance(m, Outgoing)
        expected[m.chat].append(m.html)
    assert order == expected  # per-chat order kept
    elapsed = max(c.at for c in sends) - min(c.at for c in sends)
    assert elapsed < 1000 / 25 + 2  # and it runs close to the global limit, not slower


async def test_user_replies_go_before_background() -> None:
    h = Harness()
    bg = [out(100 + i, f"bg{i}", priority=Priority.BACKGROUND) for i in range(30)]
    user = [out(200 + i, f"user{i}") for i in range(30)]
    await h.run([*bg, *user])
    sent = [c.html for c in h.tg.of("send")]
    assert sent[:30] == [f"user{i}" for i in range(30)]


async def test_flood_wait_delays_only_that_message() -> None:
    h = Harness()
    h.tg.fail[1] = [FloodWait(30)]
    await h.run([out(1, "a"), out(1, "b"), *[out(10 + i, f"o{i}") for i in range(20)]])
    sends = h.tg.of("send")
    first = [c for c in sends if c.chat == 1]
    assert [c.html for c in first] == ["a", "a", "b"]  # retried, then the next one, in order
    assert first[1].at - first[0].at == pytest.approx(30)
    others = [c.at for c in sends if c.chat != 1]
    assert max(others) - first[0].at < 2  # other chats were not held up


async def test_placeholder_edited_into_first_part_and_follow_up_scheduled() -> None:
    h = Harness()
    long = review("<resume> " + "x " * 3000)
    ready = ReviewReady(trace="T", who=who(7, campaign="spring"), review=long, received_at=0)
    progress = out(7, "⏳", trace="T", kind="progress", replace_placeholder=False)
    await h.run([ChatAction(trace="T", chat=ChatRef(7)), progress, ready])
    ops = [c.op for c in h.tg.calls]
    assert ops == ["action", "send", "edit", "send"]
    edit, last = h.tg.calls[2], h.tg.calls[3]
    assert edit.message_id == h.tg.calls[1].message_id and edit.buttons == ()
    assert visible_len(edit.html) <= 4096 and visible_len(last.html) <= 4096
    photo, rating = last.buttons
    assert isinstance(photo[0], UrlButton)
    url = photo[0].url
    assert "utm_source=resumebek" in url and "utm_campaign=spring" in url
    assert "utm_content=en" in url and "7" not in url.split("?")[1].replace("utm", "")
    assert [b.data for b in rating if isinstance(b, CallbackButton)] == [
        "rate:up:llm:en",
        "rate:down:llm:en",
    ]
    assert "&lt;resume&gt;" in edit.html
    assert [type(m).__name__ for m in h.followup.items] == ["ScheduleFollowUp"]
    assert h.events() == ["review_delivered"]


async def test_no_follow_up_after_stop() -> None:
    h = Harness()
    ready = ReviewReady(trace="T", who=who(7, follow_up=False), review=review(), received_at=0)
    await h.run([ready])
    assert h.followup.items == [] and h.events() == ["review_delivered"]


async def test_blocked_user_is_dropped_with_receipt_and_event() -> None:
    h = Harness()
    h.tg.fail[3] = [RecipientGone("blocked")]
    msg = out(3, "reminder", kind="followup", receipt="job-1", priority=Priority.BACKGROUND)
    await h.run([msg, out(4, "other")])
    assert h.followup.items == [FollowUpReceipt(job_id="job-1", outcome="blocked")]
    assert h.events() == ["delivery_failed"]
    assert h.analytics.items[0].fields["reason"] == "blocked"
    assert sorted(c.html for c in h.tg.of("send")) == ["other", "reminder"]  # not retried


async def test_receipt_sent_on_success() -> None:
    h = Harness()
    await h.run([out(3, "reminder", kind="followup", receipt="job-2")])
    assert h.followup.items == [FollowUpReceipt(job_id="job-2", outcome="sent")]


async def test_not_modified_is_ignored() -> None:
    h = Harness()
    h.tg.fail[5] = [MessageNotModified()]
    await h.run([out(5, "same")])
    assert h.events() == [] and len(h.tg.of("send")) == 1


async def test_refused_html_is_resent_once_as_plain_text() -> None:
    h = Harness()
    h.tg.fail[5] = [MessageTooLong()]
    await h.run([out(5, "<b>bold</b> &amp; text")])
    first, second = h.tg.of("send")
    assert first.html == "<b>bold</b> &amp; text" and second.html == "bold &amp; text"
    assert h.events() == []


async def test_bad_button_url_retried_without_url_buttons() -> None:
    h = Harness()
    h.tg.fail[5] = [BadButtonUrl()]
    buttons = ((UrlButton(text="x", url="bad"),), (CallbackButton(text="y", data="d"),))
    await h.run([out(5, "hi", buttons=buttons)])
    assert h.tg.of("send")[1].buttons == ((CallbackButton(text="y", data="d"),),)


async def test_twice_refused_is_reported_not_retried_forever() -> None:
    h = Harness()
    h.tg.fail[5] = [MessageTooLong(), MessageTooLong()]
    await h.run([out(5, "x", receipt="j")])
    assert len(h.tg.of("send")) == 2
    assert h.events() == ["delivery_failed"]
    assert h.followup.items == [FollowUpReceipt(job_id="j", outcome="failed")]


async def test_rating_answer_removes_only_the_rating_buttons() -> None:
    h3 = Harness()
    await h3.run(
        [
            ReviewReady(trace="T", who=who(7), review=review(), received_at=0),
            CallbackAnswer(
                trace="c", callback_id="q", text="Thanks", chat=ChatRef(7), clear_buttons_of=101
            ),
        ]
    )
    assert h3.tg.of("send")[0].message_id == 101
    (answer,) = h3.tg.of("answer")
    assert answer.text == "Thanks"
    (cleared,) = h3.tg.of("edit_buttons")
    assert cleared.message_id == 101
    assert len(cleared.buttons) == 1 and isinstance(cleared.buttons[0][0], UrlButton)


async def test_long_llm_reply_fixture_is_split_with_buttons_on_last_part() -> None:
    h = Harness()
    html = (FIXTURES / "telegram" / "llm_long_reply_html_5200.txt").read_text(encoding="utf-8")
    button = ((UrlButton(text="p", url="https://x.example"),),)
    await h.run([out(9, html, buttons=button)])
    parts = h.tg.of("send")
    assert len(parts) == 2
    assert all(visible_len(p.html) <= 4096 for p in parts)
    assert parts[0].buttons == () and parts[1].buttons == button


async def test_admin_document_is_sent_after_text() -> None:
    h = Harness()
    await h.run([out(9, "stats", kind="admin", document=b"<html>", document_name="r.html")])
    assert [c.op for c in h.tg.calls] == ["send", "document"]


async def test_followup_burst_fixture_every_job_delivered_exactly_once() -> None:
    """120 reminders due in the same minute, Telegram answering FloodWait to a few: each is
    delivered once, a receipt per job, and the limits hold (../shared/cases)."""
    jobs = json.loads(
        (FIXTURES / "telegram" / "followup_jobs_burst_120_same_minute.json").read_text()
    )
    h = Harness()
    for job in jobs[::17]:
        h.tg.fail[job["chat_id"]] = [FloodWait(7)]
    messages: list[outbox.OutboxMessage] = [
        Outgoing(
            trace=f"{i:032x}",
            chat=ChatRef(job["chat_id"]),
            language="kk",
            kind="followup",
            html="reminder",
            priority=Priority.BACKGROUND,
            receipt=job["job_id"],
        )
        for i, job in enumerate(jobs)
    ]
    await h.run(messages)
    delivered = [c.chat for c in h.tg.of("send")]  # attempts: a FloodWait attempt counts too
    assert sorted(set(delivered)) == sorted(j["chat_id"] for j in jobs)
    flooded = {j["chat_id"] for j in jobs[::17]}
    assert all(delivered.count(c) == (2 if c in flooded else 1) for c in set(delivered))
    receipts = [r for r in h.followup.items if isinstance(r, FollowUpReceipt)]
    assert sorted(r.job_id for r in receipts) == sorted(j["job_id"] for j in jobs)
    assert {r.outcome for r in receipts} == {"sent"}
    assert max_in_window([c.at for c in h.tg.of("send")]) <= 25


async def test_a_restarted_outbox_still_edits_the_placeholder() -> None:
    progress = out(7, "⏳", trace="T", kind="progress", replace_placeholder=False)
    ready = ReviewReady(trace="T", who=who(7), review=review(), received_at=0)
    tg = await _incarnations([[progress], [ready]])
    assert [c.op for c in tg.calls] == ["send", "edit"]


async def test_a_user_reply_overtakes_a_backlog_of_reminders() -> None:
    h = Harness()
    backlog = [
        out(10_000 + i, f"r{i}", trace=f"r{i}", kind="followup", priority=Priority.BACKGROUND)
        for i in range(600)
    ]
    await h.run([*backlog, out(1, "reply to the user")])
    sent = [c.html for c in h.tg.of("send")]
    assert sent.index("reply to the user") < 30  # within the first global second or so


async def _incarnations(batches: list[list[outbox.OutboxMessage]]) -> FakeTelegram:
    """One outbox incarnation per batch, one after the other, sharing the gateway, the clock
    and the OutboxMemory the composition root keeps across restarts."""
    memory = outbox.OutboxMemory()
    first = Harness()
    for batch in batches:
        h = Harness()
        h.tg, h.clock = first.tg, first.clock
        for message in batch:
            await h.inbox.send(message)
        h.inbox.close()
        finished = anyio.Event()

        async def actor(h: Harness = h, finished: anyio.Event = finished) -> None:
            await outbox.run(
                h.inbox,
                gateway=h.tg,
                to_followup=h.followup,
                to_analytics=h.analytics,
                clock=h.clock,
                settings=SETTINGS,
                per_chat_per_s=1.0,
                global_per_s=25.0,
                render_review=render,
                memory=memory,
            )
            finished.set()

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(actor)
                await drive(h.clock, finished.is_set)
    return first.tg


async def test_a_restarted_outbox_keeps_the_global_limit_of_its_predecessor() -> None:
    """A new incarnation must not start with an empty window: Telegram counts calls, not
    incarnations (the load run saw 50 calls in one second after `ctl restart outbox`)."""
    tg = await _incarnations(
        [
            [out(base + i, f"m{base + i}", trace=f"t{base + i}") for i in range(25)]
            for base in (0, 100)
        ]
    )
    sends = tg.of("send")
    assert len(sends) == 50
    assert max_in_window([c.at for c in sends]) <= 25


async def test_a_restarted_outbox_keeps_each_chats_limit() -> None:
    tg = await _incarnations([[out(7, "one", trace="one")], [out(7, "two", trace="two")]])
    one, two = tg.of("send")
    assert two.at - one.at >= 1.0  # the new incarnation waited for the chat's window


async def test_a_call_held_back_by_the_global_limit_still_spaces_its_chat() -> None:
    """The chat's window is stamped when the call is made, not when it is dispatched: here the
    predecessor filled the global window, so "a" waits a second after its dispatch, and "b"
    must still come a whole second after "a" (it came at the same instant before)."""
    tg = await _incarnations(
        [
            [out(100 + i, f"m{i}", trace=f"t{i}") for i in range(25)],
            [out(7, "a", trace="a"), out(7, "b", trace="b")],
        ]
    )
    sends = tg.of("send")
    start = min(c.at for c in sends)
    a, b = (c for c in sends if c.chat == 7)
    assert a.at - start >= 1.0  # held back by the predecessor's 25 calls
    assert b.at - a.at >= 1.0
