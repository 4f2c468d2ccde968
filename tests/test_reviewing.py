"""review_resume: whatever the LLM reviewer does, the user gets a review and logs stay clean."""

from __future__ import annotations

import logging

import pytest

from resumebek.messages import Review
from resumebek.reviewing import review_resume
from services.ports import ReviewRequest

RESUME = (
    "Aigerim Test\naigerim@example.com +7 701 000 00 00\nExperience\n"
    "Intern, Bank 2024-2025: built 3 reports used by 40 people\nEducation\nKBTU 2021-2025\n"
    "Skills\nPython, SQL, Excel\n"
)


class _CrashingReviewer:
    async def review(self, request: ReviewRequest) -> Review:
        raise RuntimeError(f"model said: {request.text[:40]}")  # a message quoting the resume


async def test_a_crashing_reviewer_falls_back_and_logs_no_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    outcome = await review_resume(
        RESUME,
        language="en",
        resume_language="en",
        notes=(),
        reviewer=_CrashingReviewer(),
        deadline_s=5,
    )
    assert outcome.review.source == "rules"
    assert outcome.fallback == "internal"
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "RuntimeError" in logged
    assert "Aigerim" not in logged
    assert "example.com" not in logged
