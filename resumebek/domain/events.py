"""Analytics event names, their allowed fields, and the one way to build an event.

Every actor sends `event(...)` to the analytics mailbox with `send_nowait` (never blocks a
review). Fields are scalars with no personal data: no text, names, phones, emails, file names.
The analytics writer checks each event against `EVENT_FIELDS` (`validate_fields`) and drops,
counting it, any event that has an unknown field or a value of the wrong shape.

One line on disk (schema version `SCHEMA_VERSION`):
    {"v":1,"ts":"2026-12-03T16:45:12.123+05:00","event":"resume_analyzed",
     "user":"<hmac pseudonym>"|null,"trace":"<hex>"|null, ...fields}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from resumebek.messages import LANGUAGES, AnalyticsEvent, Scalar, UserRef

SCHEMA_VERSION = 1

# Keys of every line that are not event fields; a field may not use them.
RESERVED_KEYS: frozenset[str] = frozenset({"v", "ts", "event", "user", "trace"})

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
        "analytics_dropped",  # count: written by the analytics actor itself (full mailbox, invalid)
    }
)

# ---------------------------------------------------------------- field checks

Check = Callable[[Scalar], bool]

# Machine words: a letter first, so a phone number or a bare id can never pass.
_WORD = re.compile(r"[a-z][a-z0-9_]{0,63}")
_MODEL = re.compile(r"[A-Za-z][A-Za-z0-9_.:/-]{0,63}")
# Telegram deep-link payload alphabet; digits alone only up to 6, so never a phone or an id.
_CAMPAIGN = re.compile(r"(?![0-9]{7,}$)[A-Za-z0-9_-]{1,64}")
# A pseudonym made elsewhere with domain/privacy.pseudonym (e.g. inside a click token).
_USER_REF = re.compile(r"[0-9a-f]{16}")
_TRACE = re.compile(r"[0-9a-f]{1,64}")


def _one_of(*allowed: str) -> Check:
    options = frozenset(allowed)
    return lambda value: isinstance(value, str) and value in options


def _matches(pattern: re.Pattern[str]) -> Check:
    def check(value: Scalar) -> bool:
        return isinstance(value, str) and pattern.fullmatch(value) is not None

    return check


def _int_between(low: int, high: int) -> Check:
    def check(value: Scalar) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    return check


def _number_between(low: float, high: float) -> Check:
    def check(value: Scalar) -> bool:
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        )

    return check


def _is_bool(value: Scalar) -> bool:
    return isinstance(value, bool)


SIZE_BUCKETS = ("<100KB", "<1MB", "<5MB", ">=5MB")

# Every field any event may carry, with the shape of its value.
# None is always allowed (an unknown value carries nothing personal).
FIELD_CHECKS: dict[str, Check] = {
    "campaign": _matches(_CAMPAIGN),
    "format": _matches(_WORD),  # sniffed: pdf, docx, txt, text, doc, rtf, image ...
    "size_bucket": _one_of(*SIZE_BUCKETS),
    "pages": _int_between(0, 100_000),
    "reason": _matches(_WORD),  # a RejectReason or another short machine word
    "language": _one_of(*LANGUAGES),
    "resume_language": _one_of(*LANGUAGES),
    "ui_language": _one_of(*LANGUAGES),
    "score": _int_between(0, 10),
    "source": _one_of("llm", "rules"),
    "model": _matches(_MODEL),
    "latency_ms": _int_between(0, 86_400_000),
    "tokens": _int_between(0, 10_000_000),
    "rating": _one_of("up", "down"),
    "actor": _matches(_WORD),
    "kind": _matches(_WORD),
    "forced": _is_bool,
    "attempt": _int_between(0, 1000),
    "attempts": _int_between(0, 1000),
    "final": _is_bool,
    "limit": _int_between(0, 1_000_000),
    "delay_h": _number_between(0, 100_000),
    "late_h": _number_between(0, 100_000),
    "user_ref": _matches(_USER_REF),
    "confidence": _number_between(0, 100),
    "count": _int_between(0, 10**12),
    "invalid": _int_between(0, 10**12),
}

# Fields every event may carry besides its own. `user_ref` is an already pseudonymized user
# (same salt): the writer puts it in "user" when the event has no raw `user`.
COMMON_FIELDS: frozenset[str] = frozenset({"language", "ui_language", "source", "user_ref"})

EVENT_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(fields) | COMMON_FIELDS
    for name, fields in {
        "user_started": {"campaign"},
        "resume_received": {"format", "size_bucket", "pages"},
        "resume_rejected": {"reason", "format", "pages", "size_bucket"},
        "resume_analyzed": {
            "score",
            "model",
            "latency_ms",
            "tokens",
            "resume_language",
            "forced",
            "confidence",
        },
        "review_delivered": {"latency_ms", "score"},
        "cta_clicked": {"campaign"},
        "followup_scheduled": {"delay_h"},
        "followup_sent": {"attempts"},
        "followup_skipped": {"reason", "late_h"},
        "followup_failed": {"reason", "final", "attempts"},  # final=False: will be retried
        "review_rated": {"rating"},
        "error": {"actor", "kind"},
        "quota_hit": {"limit"},
        "data_deleted": set(),
        "llm_fallback": {"kind", "model", "attempt"},
        "dead_letter": {"actor", "kind"},
        "delivery_failed": {"reason", "kind"},
        "analytics_dropped": {"count", "invalid"},
    }.items()
}
assert set(EVENT_FIELDS) == EVENT_NAMES

# Strings repeat (languages, sources, models, reasons): remember which ones passed.
_GOOD_STRINGS: set[tuple[str, str]] = set()


def validate_fields(name: str, fields: Mapping[str, Scalar]) -> str | None:
    """None when the event may be written; otherwise a short reason (no values in it)."""
    allowed = EVENT_FIELDS.get(name)
    if allowed is None:
        return "unknown_event"
    for key, value in fields.items():
        if key not in allowed:
            return f"field_not_allowed:{key}" if key in FIELD_CHECKS else "unknown_field"
        if value is None:
            continue
        if type(value) is str:
            if (key, value) in _GOOD_STRINGS:
                continue
            if not FIELD_CHECKS[key](value):
                return f"bad_value:{key}"
            if len(_GOOD_STRINGS) < 10_000:  # bounded: campaigns are the only open set
                _GOOD_STRINGS.add((key, value))
        elif not FIELD_CHECKS[key](value):
            return f"bad_value:{key}"
    return None


def valid_trace(trace: str | None) -> bool:
    return trace is None or _TRACE.fullmatch(trace) is not None


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
