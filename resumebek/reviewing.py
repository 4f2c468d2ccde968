"""One review for one resume text: the rules always, the LLM when there is one, and the
rules review whenever the LLM fails. Shared by the analyzer actor and `resumebek analyze`."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import anyio

from resumebek.domain.review_rules import rule_review
from resumebek.errors import AnalysisError
from resumebek.messages import Language, Review
from services.ports import ResumeReviewer, ReviewRequest

log = logging.getLogger("resumebek.reviewing")

DEADLINE_SLACK_S = 30.0  # backoff sleeps between attempts, on top of the per-attempt timeouts


@dataclass(frozen=True, slots=True)
class Outcome:
    review: Review
    fallback: str | None  # why the LLM review was not used (an AnalysisError kind), if it was tried


async def review_resume(
    text: str,
    *,
    language: Language,
    resume_language: Language,
    notes: tuple[str, ...],
    reviewer: ResumeReviewer | None,
    deadline_s: float,
    trace: str = "",
    pages: int = 0,
) -> Outcome:
    """`pages`: the document's page count (0 for pasted text): a length fact for the rules."""
    if pages > 0:
        notes = (*notes, f"pages={pages}")
    rules = rule_review(text, language=language, resume_language=resume_language, notes=notes)
    if reviewer is None:
        return Outcome(rules, None)
    request = ReviewRequest(
        text=text,
        language=language,
        resume_language=resume_language,
        findings=rules.checks,
        quality_notes=notes,
        trace=trace,
        rules_score=rules.score,
    )
    try:
        # The reviewer has per-attempt timeouts; this bounds the whole call, whatever it does.
        with anyio.fail_after(deadline_s):
            review = await reviewer.review(request)
    except AnalysisError as exc:
        return Outcome(rules, exc.kind)
    except TimeoutError:
        return Outcome(rules, "deadline")
    except Exception:  # a reviewer bug must not cost the user their review
        log.exception("review.reviewer_crashed trace=%s", trace)
        return Outcome(rules, "internal")
    if not review.text_suggestions and rules.text_suggestions:
        # the LLM quoted nothing real (or nothing): the rules' rewrites quote the resume
        review = dataclasses.replace(review, text_suggestions=rules.text_suggestions)
    return Outcome(review, None)
