from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from resumebek.domain.followup import (
    FollowUpJob,
    due_time,
    in_quiet_hours,
    is_too_late,
    out_of_quiet_hours,
    photo_offer_url,
    reminder_buttons,
    reminder_html,
    retry_delay_s,
)
from resumebek.messages import ChatRef, Language, UrlButton, UserRef

ALMATY = ZoneInfo("Asia/Almaty")
LANGS = [pytest.param(lang, id=lang) for lang in ("kk", "ru", "en")]


def test_tzdata_knows_almaty_moved_to_utc_plus_5_in_2024() -> None:
    assert datetime(2024, 2, 1, 12, tzinfo=ALMATY).utcoffset() == timedelta(hours=6)
    assert datetime(2025, 3, 2, 12, tzinfo=ALMATY).utcoffset() == timedelta(hours=5)
    assert datetime(2026, 7, 1, 12, tzinfo=ALMATY).utcoffset() == timedelta(hours=5)


def test_due_time_adds_the_delay_outside_quiet_hours() -> None:
    delivered = datetime(2026, 3, 2, 12, tzinfo=ALMATY).timestamp()
    due = due_time(delivered, delay_s=24 * 3600, quiet_hours=(21, 10), zone=ALMATY)
    assert due == datetime(2026, 3, 3, 12, tzinfo=ALMATY)
    assert due.tzinfo is not None


def test_a_reminder_due_at_23_almaty_moves_to_10_next_morning() -> None:
    delivered = datetime(2026, 3, 1, 23, tzinfo=ALMATY).timestamp()
    due = due_time(delivered, delay_s=24 * 3600, quiet_hours=(21, 10), zone=ALMATY)
    assert due == datetime(2026, 3, 3, 10, tzinfo=ALMATY)
    assert due.astimezone(UTC).hour == 5


def test_a_reminder_due_at_3_am_moves_to_10_the_same_morning() -> None:
    when = datetime(2026, 3, 3, 3, 30, tzinfo=ALMATY)
    assert out_of_quiet_hours(when, (21, 10), ALMATY) == datetime(2026, 3, 3, 10, tzinfo=ALMATY)


@pytest.mark.parametrize(
    ("hour", "quiet"),
    [(20, False), (21, True), (0, True), (9, True), (10, False), (15, False)],
)
def test_quiet_hours_wrap_midnight_and_end_is_exclusive(hour: int, quiet: bool) -> None:
    assert in_quiet_hours(datetime(2026, 3, 3, hour, 59, tzinfo=ALMATY), (21, 10), ALMATY) is quiet


def test_quiet_hours_that_do_not_wrap_and_off() -> None:
    assert in_quiet_hours(datetime(2026, 3, 3, 2, tzinfo=ALMATY), (1, 6), ALMATY)
    assert not in_quiet_hours(datetime(2026, 3, 3, 23, tzinfo=ALMATY), (1, 6), ALMATY)
    late = datetime(2026, 3, 3, 23, tzinfo=ALMATY)
    assert out_of_quiet_hours(late, None, ALMATY) == late


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        out_of_quiet_hours(datetime(2026, 3, 3, 23), (21, 10), ALMATY)


def test_too_late_counts_from_the_due_time() -> None:
    due = datetime(2026, 3, 3, 12, tzinfo=UTC)
    job = FollowUpJob(
        job_id="j",
        trace="t",
        chat=ChatRef(1),
        user=UserRef(1),
        language="en",
        due_at=due,
        next_try_at=due + timedelta(hours=100),
    )
    assert not is_too_late(job, due.timestamp() + 72 * 3600, max_late_s=72 * 3600)
    assert is_too_late(job, due.timestamp() + 72 * 3600 + 1, max_late_s=72 * 3600)


def test_retry_backoff_grows() -> None:
    assert [retry_delay_s(n) for n in (1, 2, 3)] == [60.0, 240.0, 960.0]


@pytest.mark.parametrize("lang", LANGS)
def test_reminder_text_names_the_job_sites_and_the_opt_out(lang: Language) -> None:
    html = reminder_html(lang)
    for needle in ("hh.kz", "HeadHunter", "LinkedIn", "Enbek.kz", "/stop"):
        assert needle in html
    assert html.count("<b>") == html.count("</b>")


def test_reminder_texts_are_really_localized() -> None:
    assert "резюме" in reminder_html("ru")
    assert "түйіндеме" in reminder_html("kk")
    assert "resume" in reminder_html("en")
    assert len({reminder_html("kk"), reminder_html("ru"), reminder_html("en")}) == 3


@pytest.mark.parametrize("lang", LANGS)
def test_photo_button_carries_utm_and_no_user_id(lang: Language) -> None:
    ((button,),) = reminder_buttons("https://t.me/photo_bot?start=x", language=lang, campaign="uni")
    assert isinstance(button, UrlButton)
    query = parse_qs(urlsplit(button.url).query)
    assert query["start"] == ["x"]
    assert query["utm_source"] == ["resumebek"]
    assert query["utm_medium"] == ["telegram"]
    assert query["utm_campaign"] == ["followup"]
    assert query["utm_content"] == [lang]
    assert query["utm_term"] == ["uni"]


def test_photo_url_sanitizes_the_campaign_and_replaces_old_utm() -> None:
    url = photo_offer_url(
        "https://example.kz/p?utm_source=old", language="ru", campaign="a b<script>&x=1"
    )
    query = parse_qs(urlsplit(url).query)
    assert query["utm_source"] == ["resumebek"]
    assert query["utm_term"] == ["abscriptx1"]
    assert "x" not in query
