"""Analyzer actor: ResumeExtracted → ReviewReady (to the outbox), several reviews at a time.

Every message gets the rule-based review; with an LLM reviewer it asks the LLM and falls
back to the rules review on any failure, so the user always gets one. Sends
`resume_analyzed` (and `llm_fallback`) analytics events and updates the review metrics.
"""

from __future__ import annotations

import logging

import anyio

from resumebek.config import Settings
from resumebek.domain.events import event
from resumebek.domain.review_rules import FORCED_NOTE, WEAK_RESUME_NOTE
from resumebek.messages import AnalyticsEvent, Outgoing, ResumeExtracted, ReviewReady
from resumebek.metrics import LLM_FALLBACKS, LLM_LATENCY, REVIEWS
from resumebek.reviewing import DEADLINE_SLACK_S, review_resume
from resumebek.runtime.mailbox import Address, Mailbox
from services.ports import Clock, ResumeReviewer

log = logging.getLogger("resumebek.analyzer")


async def run(
    inbox: Mailbox[ResumeExtracted],
    *,
    to_outbox: Address[ReviewReady | Outgoing],
    to_analytics: Address[AnalyticsEvent],
    reviewer: ResumeReviewer | None,
    clock: Clock,
    settings: Settings,
    concurrency: int,
) -> None:
    async def worker() -> None:
        while True:
            try:
                async with inbox.take() as msg:
                    await _handle(
                        msg,
                        to_outbox=to_outbox,
                        to_analytics=to_analytics,
                        reviewer=reviewer,
                        clock=clock,
                        settings=settings,
                    )
            except anyio.EndOfStream:
                return

    async with anyio.create_task_group() as tg:
        for _ in range(max(1, concurrency)):
            tg.start_soon(worker)


async def _handle(
    msg: ResumeExtracted,
    *,
    to_outbox: Address[ReviewReady | Outgoing],
    to_analytics: Address[AnalyticsEvent],
    reviewer: ResumeReviewer | None,
    clock: Clock,
    settings: Settings,
) -> None:
    notes = msg.quality_notes
    # "analyze anyway" or an unsure detector: the rules say plainly it is no typical resume
    if msg.forced:
        notes = (*notes, FORCED_NOTE)
    elif msg.resume_confidence < settings.resume_threshold:
        notes = (*notes, WEAK_RESUME_NOTE)
    outcome = await review_resume(
        msg.text,
        language=msg.who.review_language or msg.language,
        resume_language=msg.language,
        notes=notes,
        reviewer=reviewer,
        deadline_s=settings.llm_timeout_s * settings.llm_max_attempts + DEADLINE_SLACK_S,
        trace=msg.trace,
        pages=msg.pages if msg.format != "text" else 0,
    )
    review, fallback = outcome.review, outcome.fallback
    if fallback is not None:
        LLM_FALLBACKS.labels(kind=fallback).inc()
        to_analytics.send_nowait(
            event("llm_fallback", at=clock.now(), user=msg.who.user, trace=msg.trace, kind=fallback)
        )
        log.warning("analyzer.fallback trace=%s kind=%s", msg.trace, fallback)
    if review.latency_ms is not None:
        LLM_LATENCY.observe(review.latency_ms / 1000)
    await to_outbox.send(
        ReviewReady(trace=msg.trace, who=msg.who, review=review, received_at=msg.received_at)
    )
    REVIEWS.labels(source=review.source, language=review.language).inc()
    to_analytics.send_nowait(
        event(
            "resume_analyzed",
            at=clock.now(),
            user=msg.who.user,
            trace=msg.trace,
            language=review.language,  # of the review: the user may have chosen one
            resume_language=msg.language,
            forced=msg.forced,
            score=review.score,
            source=review.source,
            model=review.model,
            latency_ms=review.latency_ms,
            tokens=review.tokens,
        )
    )
    log.info(
        "analyzer.done trace=%s lang=%s source=%s score=%d",
        msg.trace,
        review.language,
        review.source,
        review.score,
    )
