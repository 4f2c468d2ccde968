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

# Integer fields and their inclusive ranges (bool is not an int here).
INT_RANGES: dict[str, tuple[int, int]] = {
    "pages": (0, 100_000),
    "score": (0, 10),
    "latency_ms": (0, 86_400_000),
    "tokens": (0, 10_000_000),
    "attempt": (0, 1000),
    "attempts": (0, 1000),
    "limit": (0, 1_000_000),
    "count": (0, 10**12),
    "invalid": (0, 10**12),
}

# Every field any event may carry, with the shape of its value.
# None is always allowed (an unknown value carries nothing personal).
FIELD_CHECKS: dict[str, Check] = {
    "campaign": _matches(_CAMPAIGN),
    "format": _matches(_WORD),  # sniffed: pdf, docx, txt, text, doc, rtf, image ...
    "size_bucket": _one_of(*SIZE_BUCKETS),
    "reason": _matches(_WORD),  # a RejectReason or another short machine word
    "language": _one_of(*LANGUAGES),
    "resume_language": _one_of(*LANGUAGES),
    "ui_language": _one_of(*LANGUAGES),
    "source": _one_of("llm", "rules"),
    "model": _matches(_MODEL),
    "rating": _one_of("up", "down"),
    "actor": _matches(_WORD),
    "kind": _matches(_WORD),
    "forced": _is_bool,
    "final": _is_bool,
    "delay_h": _number_between(0, 100_000),
    "late_h": _number_between(0, 100_000),
    "user_ref": _matches(_USER_REF),
    "confidence": _number_between(0, 100),
    **{key: _int_between(low, high) for key, (low, high) in INT_RANGES.items()},
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

# Per field, the strings that passed its check: languages, sources, models and reasons
# repeat, so most strings are decided by one set lookup. Bounded: campaigns are an open set.
_GOOD_STRINGS: dict[str, set[str]] = {key: set() for key in FIELD_CHECKS}
_REMEMBER_PER_FIELD = 1000
# Integer bounds split in two lookups; a field without bounds gets (1, 0): never in range.
_INT_LOW = {key: low for key, (low, _) in INT_RANGES.items()}
_INT_HIGH = {key: high for key, (_, high) in INT_RANGES.items()}


def validate_fields(name: str, fields: Mapping[str, Scalar]) -> str | None:
    """None when the event may be written; otherwise a short reason (no values in it).

    The analytics writer calls this for every event, so the common shapes (a string seen
    before, an int in its range) are decided inline and only the rest calls a check."""
    allowed = EVENT_FIELDS.get(name)
    if allowed is None:
        return "unknown_event"
    for key, value in fields.items():
        if key not in allowed:
            return f"field_not_allowed:{key}" if key in FIELD_CHECKS else "unknown_field"
        kind = type(value)
        if kind is str:
            if value in _GOOD_STRINGS[key]:
                continue
        elif kind is int:
            if _INT_LOW.get(key, 1) <= value <= _INT_HIGH.get(key, 0):  # type: ignore[operator]
                continue
        elif value is None:
            continue
        if not FIELD_CHECKS[key](value):
            return f"bad_value:{key}"
        if kind is str and len(good := _GOOD_STRINGS[key]) < _REMEMBER_PER_FIELD:
            good.add(value)  # type: ignore[arg-type]
    return None


HEX_DIGITS = "0123456789abcdef"
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def validate_event(ev: AnalyticsEvent) -> str | None:
    """`validate_fields`, and the envelope too: a hex trace, an aware timestamp, an int user.
    None when the event may be written; otherwise a short reason (no values in it)."""
    trace = ev.trace
    if trace is not None and (
        type(trace) is not str or not 0 < len(trace) <= 64 or trace.strip(HEX_DIGITS)
    ):  # strip() here is several times cheaper than a regex, and this runs for every event
        return "bad_trace"
    at = ev.at
    if not isinstance(at, datetime) or at.tzinfo is None or not _EARLIEST <= at <= _LATEST:
        return "bad_timestamp"  # a year 1 or 9999 could not even be put in a local day
    if ev.user is not None and type(ev.user) is not int:
        return "bad_user"
    return validate_fields(ev.name, ev.fields)


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


_DECLARED_FORMATS = ("pdf", "docx", "doc", "txt", "rtf", "odt", "pages", "zip")


def declared_format(file_name: str, mime_type: str | None) -> str:
    """The format a document claims (by extension, then MIME type) for analytics of a file
    refused unread: a fixed word, never the name itself."""
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension in _DECLARED_FORMATS:
        return extension
    if mime_type == "application/pdf":
        return "pdf"
    return "unknown"
