"""The event schema the writer enforces: what other actors send passes, personal data fails."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from resumebek.domain.events import (
    EVENT_FIELDS,
    EVENT_NAMES,
    FIELD_CHECKS,
    event,
    validate_event,
    validate_fields,
)
from resumebek.messages import Scalar, UserRef

# The events the other actors send (their real calls, values typical of production).
SENT_BY_OTHERS: list[tuple[str, dict[str, Scalar]]] = [
    ("user_started", {"campaign": "kbtu_2026"}),
    ("user_started", {"campaign": None}),
    ("resume_received", {"format": "pdf", "size_bucket": "<1MB"}),
    ("resume_received", {"format": "doc", "size_bucket": ">=5MB"}),
    ("resume_rejected", {"reason": "too_large", "size_bucket": ">=5MB"}),
    ("resume_rejected", {"reason": "not_resume", "format": "text"}),
    (
        "resume_analyzed",
        {"language": "kk", "score": 7, "source": "llm", "model": "gpt-4o-mini",
         "latency_ms": 5321, "tokens": 3120},
    ),
    (
        "resume_analyzed",
        {"language": "ru", "score": 5, "source": "rules", "model": None,
         "latency_ms": None, "tokens": None},
    ),
    ("review_delivered", {"language": "en", "source": "llm", "latency_ms": 8000}),
    ("cta_clicked", {"language": "ru", "campaign": "narxoz"}),
    ("cta_clicked", {"language": "ru", "campaign": None, "user_ref": "0123456789abcdef"}),
    ("followup_scheduled", {"delay_h": 24.0}),
    ("followup_sent", {"attempts": 1}),
    ("followup_skipped", {"reason": "too_late", "late_h": 80.5}),
    ("followup_skipped", {"reason": "opted_out"}),
    ("followup_failed", {"reason": "blocked", "final": True}),
    ("followup_failed", {"reason": "failed", "final": False}),
    ("review_rated", {"rating": "up", "source": "rules", "language": "kk"}),
    ("review_rated", {"rating": "down", "source": None, "language": None}),
    ("error", {"actor": "extractor", "kind": "download_failed"}),
    ("quota_hit", {"limit": 10}),
    ("data_deleted", {}),
    ("llm_fallback", {"kind": "timeout"}),
    ("dead_letter", {"actor": "analyzer", "kind": "valueerror"}),
    ("delivery_failed", {"reason": "blocked", "kind": "reply"}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "fields"), SENT_BY_OTHERS, ids=lambda v: str(v)[:30])
def test_what_the_actors_send_is_valid(name: str, fields: dict[str, Scalar]) -> None:
    assert validate_fields(name, fields) is None


@pytest.mark.parametrize(
    ("name", "fields", "problem"),
    [
        ("resume_received", {"file_name": "Aigerim_Bekova_CV.pdf"}, "unknown_field"),
        ("resume_received", {"text": "Experience: ..."}, "unknown_field"),
        ("resume_rejected", {"reason": "aigerim@mail.kz"}, "bad_value:reason"),
        ("resume_rejected", {"reason": "Not A Word"}, "bad_value:reason"),
        ("user_started", {"campaign": "77011234567"}, "bad_value:campaign"),
        ("user_started", {"campaign": "x" * 65}, "bad_value:campaign"),
        ("resume_analyzed", {"language": "de"}, "bad_value:language"),
        ("resume_analyzed", {"score": 11}, "bad_value:score"),
        ("resume_analyzed", {"score": True}, "bad_value:score"),
        ("resume_analyzed", {"model": "m" * 65}, "bad_value:model"),
        ("review_rated", {"rating": "meh"}, "bad_value:rating"),
        ("quota_hit", {"reason": "limit"}, "field_not_allowed:reason"),
        ("cta_clicked", {"user_ref": "987654321"}, "bad_value:user_ref"),
        ("no_such_event", {}, "unknown_event"),
    ],
)
def test_personal_or_malformed_fields_are_refused(
    name: str, fields: dict[str, Scalar], problem: str
) -> None:
    assert validate_fields(name, fields) == problem


def test_every_name_has_a_schema_and_the_builder_is_unchanged() -> None:
    assert set(EVENT_FIELDS) == EVENT_NAMES
    ev = event("quota_hit", at=0.0, trace="ab")
    assert ev.name == "quota_hit" and ev.at.tzinfo is not None and ev.fields == {}
    with pytest.raises(ValueError, match="unknown analytics event"):
        event("nope", at=0.0)


def test_every_allowed_field_has_a_check() -> None:
    assert set().union(*EVENT_FIELDS.values()) <= set(FIELD_CHECKS)


def test_a_string_that_passed_for_one_field_is_still_checked_for_another() -> None:
    assert validate_fields("resume_analyzed", {"model": "gpt-4o-mini"}) is None  # remembered
    assert validate_fields("resume_rejected", {"reason": "gpt-4o-mini"}) == "bad_value:reason"
    assert validate_fields("resume_analyzed", {"model": "gpt-4o-mini"}) is None


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"score": 10}, None),
        ({"score": 0}, None),
        ({"score": -1}, "bad_value:score"),
        ({"score": 10.0}, "bad_value:score"),
        ({"latency_ms": 86_400_001}, "bad_value:latency_ms"),
        ({"tokens": 77011234567}, "bad_value:tokens"),  # a phone number in an int field
        ({"confidence": 50}, None),  # a number field with no int bounds: its own check
        ({"confidence": 101}, "bad_value:confidence"),
        ({"forced": 1}, "bad_value:forced"),
        ({"forced": False}, None),
    ],
)
def test_numbers_keep_their_types_and_ranges(
    fields: dict[str, Scalar], problem: str | None
) -> None:
    assert validate_fields("resume_analyzed", fields) == problem


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"trace": None}, None),
        ({"trace": "0" * 64}, None),
        ({"trace": "0" * 65}, "bad_trace"),
        ({"trace": ""}, "bad_trace"),
        ({"trace": "ABCDEF"}, "bad_trace"),  # lowercase hex only
        ({"trace": "aigerim"}, "bad_trace"),
        ({"trace": 123}, "bad_trace"),
        ({"at": datetime(2026, 5, 10, 12, 0)}, "bad_timestamp"),  # naive
        ({"at": 1778400000.0}, "bad_timestamp"),
        ({"at": datetime(9999, 12, 31, 23, 59, tzinfo=UTC)}, "bad_timestamp"),
        ({"at": datetime(1, 1, 1, tzinfo=UTC)}, "bad_timestamp"),
        ({"user": "42"}, "bad_user"),
        ({"user": True}, "bad_user"),
        ({"fields": {"text": "Experience"}}, "unknown_field"),
    ],
)
def test_the_envelope_is_checked_too(change: dict[str, object], problem: str | None) -> None:
    ev = event("error", at=1778400000.0, user=UserRef(42), trace="ab12", actor="outbox")
    assert validate_event(replace(ev, **change)) == problem  # type: ignore[arg-type]
