"""Analytics event names and the one way to build an event.

Every actor sends `event(...)` to the analytics mailbox with `send_nowait` (never blocks a
review). Fields are scalars with no personal data: no text, names, phones, emails, file names.
"""

from __future__ import annotations

from datetime import UTC, datetime

from resumebek.messages import AnalyticsEvent, Scalar, UserRef

SCHEMA_VERSION = 1

EVENT_NAMES: frozenset[str] = frozenset(
    {
        "user_started",  # campaign
        "resume_received",  # format, size_bucket
        "resume_rejected",  # reason
        "resume_analyzed",  # language, score, source, model, latency_ms, tokens
        "review_delivered",  # language, source
        "cta_clicked",  # language, campaign
        "followup_scheduled",
        "followup_sent",
        "followup_skipped",  # reason
        "followup_failed",  # reason
        "review_rated",  # rating up/down, source, language
        "error",  # actor, kind
        "quota_hit",
        "data_deleted",
        "llm_fallback",  # kind
        "dead_letter",  # actor, kind
        "delivery_failed",  # reason
    }
)


def event(
    name: str,
    *,
    at: float | datetime,
    user: UserRef | None = None,
    trace: str | None = None,
    **fields: Scalar,
) -> AnalyticsEvent:
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown analytics event {name!r}")
    when = at if isinstance(at, datetime) else datetime.fromtimestamp(at, UTC)
    if when.tzinfo is None:
        raise ValueError("analytics timestamps must be time-zone-aware")
    return AnalyticsEvent(name=name, at=when, user=user, trace=trace, fields=fields)


def size_bucket(size: int) -> str:
    """A coarse size for analytics: exact sizes could fingerprint a file."""
    for limit, label in ((100_000, "<100KB"), (1_000_000, "<1MB"), (5_000_000, "<5MB")):
        if size < limit:
            return label
    return ">=5MB"
