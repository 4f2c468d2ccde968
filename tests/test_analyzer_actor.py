"""The analyzer actor: every ResumeExtracted becomes one ReviewReady, whatever the LLM does."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from functools import partial

import anyio
import openai
import pytest

from resumebek.actors import analyzer
from resumebek.config import Settings
from resumebek.errors import LLMRejected, LLMUnavailable
from resumebek.messages import (
    AnalyticsEvent,
    ChatRef,
    Language,
    Outgoing,
    Requester,
    ResumeExtracted,
    Review,
    ReviewReady,
    UserRef,
)
from resumebek.metrics import LLM_FALLBACKS, REVIEWS
from resumebek.runtime.mailbox import Mailbox
from services.llm import OpenAIReviewer
from services.ports import ReviewRequest
from tests.fakes import FakeClock, Recorder
from tests.openai_server import OpenAIServer, Reply
from tests.test_review_rules import EN, KK, RU

SETTINGS = Settings(llm_timeout_s=0.5, llm_max_attempts=3)


def extracted(
    trace: str,
    *,
    text: str = EN,
    language: Language = "en",
    review_language: Language | None = None,
) -> ResumeExtracted:
    return ResumeExtracted(
        trace=trace,
        who=Requester(
            chat=ChatRef(1), user=UserRef(2), ui_language="en", review_language=review_language
        ),
        text=text,
        format="pdf",
        pages=1,
        language=language,
        language_confidence=0.9,
        resume_confidence=90,
        received_at=1_780_000_000.0,
    )


class FakeReviewer:
    """Answers with a fixed LLM review, or raises the given error, and records requests."""

    def __init__(self, *, error: Exception | None = None, delay: float = 0.0) -> None:
        self.error = error
        self.delay = delay
        self.requests: list[ReviewRequest] = []
        self.active = 0
        self.max_active = 0

    async def review(self, request: ReviewRequest) -> Review:
        self.requests.append(request)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await anyio.sleep(self.delay)
        finally:
            self.active -= 1
        if self.error is not None:
            raise self.error
        return Review(
            summary="LLM summary",
            strengths=("a", "b", "c"),
            improvements=("d", "e", "f"),
            text_suggestions=(),
            score=7,
            language=request.language,
            source="llm",
            model="test-model",
            tokens=1234,
            latency_ms=321,
        )


async def run_actor(
    messages: list[ResumeExtracted],
    reviewer: object | None,
    *,
    concurrency: int = 4,
) -> tuple[list[ReviewReady | Outgoing], list[AnalyticsEvent]]:
    inbox: Mailbox[ResumeExtracted] = Mailbox("analyzer", 100)
    outbox: Recorder[ReviewReady | Outgoing] = Recorder("outbox")
    analytics: Recorder[AnalyticsEvent] = Recorder("analytics")
    for msg in messages:
        await inbox.send(msg)
    inbox.close()  # the actor drains what is queued, then returns
    with anyio.fail_after(10):
        await analyzer.run(
            inbox,
            to_outbox=outbox,
            to_analytics=analytics,
            reviewer=reviewer,  # type: ignore[arg-type]
            clock=FakeClock(),
            settings=SETTINGS,
            concurrency=concurrency,
        )
    assert inbox.stats().in_flight == 0 and inbox.stats().depth == 0
    return outbox.items, analytics.items


def _ready(items: list[ReviewReady | Outgoing]) -> list[ReviewReady]:
    out = [m for m in items if isinstance(m, ReviewReady)]
    assert len(out) == len(items)
    return out


async def test_without_llm_every_message_gets_a_rules_review() -> None:
    msgs = [
        extracted("a"),
        extracted("b", text=RU, language="ru"),
        extracted("c", text=KK, language="kk"),
    ]
    items, events = await run_actor(msgs, None)
    ready = _ready(items)
    assert sorted(r.trace for r in ready) == ["a", "b", "c"]
    assert {r.trace: r.review.language for r in ready} == {"a": "en", "b": "ru", "c": "kk"}
    assert all(r.review.source == "rules" for r in ready)
    analyzed = [e for e in events if e.name == "resume_analyzed"]
    assert len(analyzed) == 3 and not [e for e in events if e.name == "llm_fallback"]
    fields = dict(analyzed[0].fields)
    assert set(fields) == {
        "language",
        "resume_language",
        "forced",
        "score",
        "source",
        "model",
        "latency_ms",
        "tokens",
    }
    assert fields["source"] == "rules" and fields["model"] is None


async def test_llm_review_is_delivered_with_its_numbers() -> None:
    reviewer = FakeReviewer()
    items, events = await run_actor([extracted("a")], reviewer)
    (ready,) = _ready(items)
    assert ready.review.source == "llm" and ready.received_at == 1_780_000_000.0
    (req,) = reviewer.requests
    assert req.trace == "a" and req.findings  # rule findings go to the LLM as facts
    (ev,) = [e for e in events if e.name == "resume_analyzed"]
    assert ev.trace == "a" and ev.user == 2
    assert dict(ev.fields) == {
        "language": "en",
        "resume_language": "en",
        "forced": False,
        "score": 7,
        "source": "llm",
        "model": "test-model",
        "latency_ms": 321,
        "tokens": 1234,
    }


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        pytest.param(LLMUnavailable("timeout"), "timeout", id="unavailable"),
        pytest.param(LLMRejected("quota"), "quota", id="rejected"),
        pytest.param(RuntimeError("bug in a reviewer"), "internal", id="reviewer-bug"),
    ],
)
async def test_llm_failure_falls_back_to_rules(error: Exception, kind: str) -> None:
    before = LLM_FALLBACKS.labels(kind=kind)._value.get()
    items, events = await run_actor([extracted("a")], FakeReviewer(error=error))
    (ready,) = _ready(items)
    assert ready.review.source == "rules" and 3 <= len(ready.review.strengths) <= 5
    assert [dict(e.fields) for e in events if e.name == "llm_fallback"] == [{"kind": kind}]
    assert LLM_FALLBACKS.labels(kind=kind)._value.get() == before + 1


async def test_review_language_follows_the_user_choice() -> None:
    reviewer = FakeReviewer()
    items, events = await run_actor(
        [extracted("a", text=RU, language="ru", review_language="kk")], reviewer
    )
    (ready,) = _ready(items)
    assert ready.review.language == "kk"
    assert reviewer.requests[0].language == "kk" and reviewer.requests[0].resume_language == "ru"
    (ev,) = [e for e in events if e.name == "resume_analyzed"]
    assert (ev.fields["language"], ev.fields["resume_language"]) == ("kk", "ru")  # both counted


async def test_reviews_run_concurrently_up_to_the_limit() -> None:
    reviewer = FakeReviewer(delay=0.05)
    msgs = [extracted(str(i)) for i in range(12)]
    items, _ = await run_actor(msgs, reviewer, concurrency=4)
    assert len(_ready(items)) == 12
    assert reviewer.max_active == 4


async def test_metrics_count_reviews() -> None:
    before = REVIEWS.labels(source="rules", language="ru")._value.get()
    await run_actor([extracted("a", text=RU, language="ru")], None)
    assert REVIEWS.labels(source="rules", language="ru")._value.get() == before + 1


# ---------------------------------------------------------------- the real SDK and HTTP


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as srv:
        yield srv


def real_reviewer(server: OpenAIServer) -> OpenAIReviewer:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=server.url, max_retries=0)
    return OpenAIReviewer(
        client=client,
        model="gpt-4o-mini",
        timeout_s=0.3,
        backoff_base_s=0.01,
        max_retry_after_s=0.2,
    )


@pytest.mark.parametrize(
    ("replies", "attempts", "source"),
    [
        pytest.param([Reply.review()], 1, "llm", id="success"),
        pytest.param(
            [Reply.error(429, headers={"retry-after": "0.02"}), Reply.review()],
            2,
            "llm",
            id="429-then-ok",
        ),
        pytest.param(
            [Reply.fixture("llm_error_429_insufficient_quota.json")], 1, "rules", id="quota"
        ),
        pytest.param([Reply.error(500)] * 3, 3, "rules", id="500s"),
        pytest.param([Reply.error(401)], 1, "rules", id="401"),
        pytest.param([Reply.review(delay=0.6)] * 3, 3, "rules", id="slow"),
        pytest.param([Reply.content("not json")] * 2, 2, "rules", id="invalid-json"),
        pytest.param([Reply.fixture("llm_response_refusal.json")], 1, "rules", id="refusal"),
        pytest.param(
            [Reply.fixture("llm_response_content_filter.json")], 1, "rules", id="content-filter"
        ),
        pytest.param(
            [Reply.content('{"summary": "cut', finish_reason="length")] * 2, 2, "rules", id="length"
        ),
        pytest.param(
            [Reply.fixture("llm_response_null_choices.json")] * 3, 3, "rules", id="null-choices"
        ),
    ],
)
async def test_user_always_gets_a_review(
    server: OpenAIServer, replies: list[Reply], attempts: int, source: str
) -> None:
    server.script(*replies)
    reviewer = real_reviewer(server)
    try:
        items, events = await run_actor([extracted("a")], reviewer)
    finally:
        await reviewer.aclose()
    (ready,) = _ready(items)
    assert ready.review.source == source
    assert len(server.chat_requests) == attempts
    assert (source == "rules") == any(e.name == "llm_fallback" for e in events)


async def test_many_users_at_once_against_the_server(server: OpenAIServer) -> None:
    server.latency = (0.02, 0.05)
    reviewer = real_reviewer(server)
    run = partial(run_actor, [extracted(str(i)) for i in range(40)], reviewer, concurrency=16)
    try:
        items, _ = await run()
    finally:
        await reviewer.aclose()
    assert len(_ready(items)) == 40
    assert all(isinstance(r, ReviewReady) and r.review.source == "llm" for r in items)


async def test_logs_never_carry_resume_text_or_llm_replies(
    server: OpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret_reply = "UNIQUE-LLM-REPLY-MARKER"
    server.script(
        Reply.content(secret_reply),  # invalid: repaired
        Reply.content(secret_reply),  # invalid again: fallback
        Reply.error(500),
        Reply.review(),
    )
    reviewer = real_reviewer(server)
    try:
        with caplog.at_level(logging.DEBUG, logger="resumebek"):
            await run_actor(
                [extracted("a"), extracted("b", text=RU, language="ru")], reviewer, concurrency=1
            )
    finally:
        await reviewer.aclose()
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("resumebek"))
    assert "analyzer.done" in logged and "llm.repair" in logged and "llm.retry" in logged
    for private in ("aigerim", "Тестова", "+7 70", "example.com", secret_reply, "Demo Bank"):
        assert private.lower() not in logged.lower()


async def test_analyze_anyway_reaches_the_rules_as_a_note() -> None:
    forced = dataclasses.replace(extracted("f"), forced=True, resume_confidence=5)
    unsure = dataclasses.replace(extracted("u"), resume_confidence=1)
    reviewer = FakeReviewer(error=LLMUnavailable("timeout"))
    items, _events = await run_actor([forced, unsure, extracted("n")], reviewer)
    notes = {r.trace: r.quality_notes for r in reviewer.requests}
    assert "forced" in notes["f"] and "weak_resume" in notes["u"]
    assert not {"forced", "weak_resume"} & set(notes["n"])
    summaries = {r.trace: r.review.summary for r in _ready(items)}
    assert summaries["f"].startswith("This text does not look like a typical resume")
    assert not summaries["n"].startswith("This text does not look like a typical resume")
