"""Stats on a small hand-built dataset (tests/fixtures/analytics/small), checked by hand.

2026-05-09 (Sat): u1 starts via "kbtu", sends a PDF, gets a 6/10 LLM review (LLM call 1000 ms,
upload to review 4000 ms) at 10:xx.
2026-05-10 (Sun): u2 starts directly, sends a non-resume (rejected) at 09:xx; u3 starts via
"kbtu", gets a 8/10 rules review (20 ms; 900 ms), clicks the offer and rates it up at 14:xx; u1
sends pasted text at 18:30 UTC (= 23:30 local), gets a 5/10 LLM review (3000 ms; 5000 ms), rates
it down;
one follow-up sent, one failed; the writer reported 2 dropped and 1 invalid event; one torn
line and one non-object line are in the file.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from resumebek.analytics_admin import cache_dir, load_daily, load_summary
from resumebek.config import Secret, Settings
from resumebek.domain.stats import (
    DAILY_COLUMNS,
    Share,
    Summary,
    Tally,
    change_text,
    daily_row,
    summarize,
    summary_dict,
    summary_rows,
    tally_events,
)
from services.analytics_files import ReadCounts, iter_events
from tests.conftest import FIXTURES

SMALL = FIXTURES / "analytics" / "small"
SAT, SUN = date(2026, 5, 9), date(2026, 5, 10)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    shutil.copytree(SMALL, tmp_path / "analytics")
    return Settings(data_dir=tmp_path, analytics_salt=Secret("x" * 20), timezone="Asia/Almaty")


def hours_with(*hours: int) -> list[int]:
    return [1 if h in hours else 0 for h in range(24)]


def test_reader_skips_and_counts_damaged_lines() -> None:
    counts = ReadCounts()
    events = list(iter_events(SMALL, SAT, SUN, counts))
    assert len(events) == 4 + 16
    assert counts.skipped == 2 and counts.files == 2 and counts.lines == 22


@pytest.mark.parametrize("workers", [1, 2], ids=["serial", "processes"])
def test_two_day_summary(settings: Settings, workers: int) -> None:
    s = load_summary(settings, SAT, SUN, workers=workers)
    assert (s.users, s.starts, s.received, s.rejected) == (3, 3, 4, 1)
    assert (s.analyzed, s.delivered, s.cta_clicks) == (3, 3, 1)
    assert s.conversion == pytest.approx(1 / 3)
    assert (s.followups_sent, s.followups_failed) == (1, 1)
    assert s.followup_failures == {"blocked": 1}
    assert s.rejections == {"not_resume": 1}
    assert s.languages == {"en": 1, "kk": 1, "ru": 1}
    assert s.formats == {"pdf": 2, "docx": 1, "text": 1}
    assert s.hours == hours_with(9, 10, 14, 23)  # 18:30 UTC counted at 23 local
    assert s.heat[5] == hours_with(10)  # Saturday
    assert s.heat[6] == hours_with(9, 14, 23)  # Sunday
    assert s.median_score == 6.0  # of 6, 8, 5
    assert s.fallback_rate == pytest.approx(1 / 3)
    assert (s.review_latency_p50_ms, s.review_latency_p95_ms) == (4000, 5000)  # what users waited
    assert (s.llm_latency_p50_ms, s.llm_latency_p95_ms) == (1000, 3000)
    assert s.thumbs_up == Share(up=1, rated=2)
    assert s.thumbs_by_source == {"llm": Share(up=0, rated=1), "rules": Share(up=1, rated=1)}
    assert s.thumbs_by_language == {"en": Share(up=0, rated=1), "kk": Share(up=1, rated=1)}
    assert s.campaigns == {"kbtu": 2, "(direct)": 1}
    assert s.funnel == [("started", 3), ("sent_resume", 3), ("got_review", 2), ("clicked_cta", 1)]
    assert (s.dropped_events, s.invalid_events, s.skipped_lines) == (2, 1, 2)
    assert [(d.day, d.users, d.received, d.delivered) for d in s.days] == [
        (SAT, 1, 1, 1),
        (SUN, 3, 3, 2),
    ]
    trend = {t.metric: (t.yesterday, t.today) for t in s.trend}
    assert trend == {
        "users": (1, 3),
        "received": (1, 3),
        "delivered": (1, 2),
        "cta_clicks": (0, 1),
    }


def test_one_day_uses_the_day_before_for_the_trend(settings: Settings) -> None:
    s = load_summary(settings, SUN, SUN)
    assert (s.users, s.received, s.delivered) == (3, 3, 2)
    assert s.median_score == 6.5  # of 8 and 5: the mean of the two middle values
    assert s.campaigns == {"(direct)": 1, "kbtu": 1}
    # u1 started the day before: a returning sender, not a step of this day's funnel
    assert s.funnel == [("started", 2), ("sent_resume", 2), ("got_review", 1), ("clicked_cta", 1)]
    delivered = next(t for t in s.trend if t.metric == "delivered")
    assert (delivered.yesterday, delivered.today, delivered.change) == (1, 2, 1.0)


def test_empty_range_has_no_ratios(settings: Settings) -> None:
    s = load_summary(settings, date(2026, 1, 1), date(2026, 1, 7))
    assert s.users == 0 and s.conversion is None and s.median_score is None
    assert s.review_latency_p50_ms is None and s.thumbs_up.ratio is None and len(s.days) == 7


def test_daily_export_rows(settings: Settings) -> None:
    rows = [daily_row(day) for day in load_daily(settings, SAT, SUN)]
    assert [r["date"] for r in rows] == ["2026-05-09", "2026-05-10"]
    assert all(list(r) == list(DAILY_COLUMNS) for r in rows)
    assert rows[0]["conversion"] == 0.0 and rows[1]["conversion"] == 0.5
    assert rows[1]["median_score"] == 6.5 and rows[1]["thumbs_up_share"] == 0.5


def test_tallies_merge_like_one_pass() -> None:
    events = list(iter_events(SMALL, SAT, SUN))
    zone = ZoneInfo("Asia/Almaty")
    whole = tally_events(events, zone)
    half = len(events) // 2
    left, right = tally_events(events[:half], zone), tally_events(events[half:], zone)
    merged: dict[date, Tally] = {}
    for part in (left, right):
        for day, t in part.items():
            merged[day] = merged[day].merge(t) if day in merged else t
    assert summarize(merged, SAT, SUN) == summarize(whole, SAT, SUN)


def test_output_shapes_are_plain(settings: Settings) -> None:
    s: Summary = load_summary(settings, SAT, SUN)
    d = summary_dict(s)
    assert d["users"] == 3 and d["conversion"] == 0.3333 and d["funnel"]["got_review"] == 2
    rows = dict(summary_rows(s))
    assert rows["conversion"] == "33.3%" and rows["thumbs_up.source.rules"] == "100.0% of 1"
    assert rows["trend.delivered"] == "1 -> 2 (+100%)" and rows["busiest_hour"] == "09:00"
    # every follow-up figure of the JSON is in the table and CSV too
    assert [rows[f"followups_{k}"] for k in ("scheduled", "sent", "failed")] == [
        "0",  # none in the small set
        "1",
        "1",
    ]


def test_table_and_csv_rows_carry_the_whole_hourly_distribution(settings: Settings) -> None:
    # the issue asks for the hourly distribution in every format, not only its peak
    s = load_summary(settings, SAT, SUN)
    rows = dict(summary_rows(s))
    hourly = {key: value for key, value in rows.items() if key.startswith("hours.")}
    assert list(hourly) == [f"hours.{h:02d}" for h in range(24)]
    assert [int(v) for v in hourly.values()] == s.hours == hours_with(9, 10, 14, 23)


def test_timestamps_in_other_forms_are_read_in_the_zone() -> None:
    events = [
        {"ts": "2026-05-09T19:30:00Z", "event": "resume_received", "user": "u"},  # 00:30 local
        {"ts": "2026-05-10T08:00:00", "event": "resume_received", "user": "u"},  # naive: local
        {"ts": "yesterday at noon", "event": "resume_received", "user": "u"},  # unreadable
    ]
    tallies = tally_events(events, ZoneInfo("Asia/Almaty"))
    assert list(tallies) == [SUN]
    s = summarize(tallies, SUN, SUN)
    assert s.received == 2 and s.hours == hours_with(0, 8)


def test_closed_days_are_cached_and_the_cache_follows_the_files(settings: Settings) -> None:
    fresh = load_summary(settings, SAT, SUN, use_cache=False)
    assert not (settings.data_dir / "cache").exists()
    assert load_summary(settings, SAT, SUN) == fresh  # fills the cache
    cache = cache_dir(settings)
    assert sorted(p.name for p in cache.iterdir()) == [
        "2026-05-09.json",
        "2026-05-10.json",
    ]  # the day before (05-08) has no file
    assert load_summary(settings, SAT, SUN) == fresh  # from the cache
    # a file that changes (a late event) is read again
    with (settings.data_dir / "analytics" / "2026-05-10.jsonl").open("ab") as handle:
        handle.write(b'{"v":1,"ts":"2026-05-10T23:58:00.000+05:00","event":"cta_clicked",')
        handle.write(b'"user":"c3c3c3c3c3c3c3c3","trace":null}\n')
    assert load_summary(settings, SAT, SUN).cta_clicks == fresh.cta_clicks + 1
    # a damaged cache entry is only a miss
    (cache / "2026-05-09.json").write_bytes(b"{not json")
    assert load_summary(settings, SAT, SAT).delivered == 1
    # entries of days removed by retention go away
    (settings.data_dir / "analytics" / "2026-05-09.jsonl").unlink()
    load_summary(settings, SUN, SUN)
    assert sorted(p.name for p in cache.iterdir()) == ["2026-05-10.json"]


def test_a_followup_failure_that_will_be_retried_is_not_a_failure() -> None:
    events: list[dict[str, object]] = [
        {"ts": "2026-05-10T10:00:00+05:00", "event": "followup_failed", "reason": "failed",
         "final": False},
        {"ts": "2026-05-10T11:00:00+05:00", "event": "followup_failed", "reason": "blocked",
         "final": True},
        {"ts": "2026-05-10T12:00:00+05:00", "event": "followup_failed", "reason": "blocked"},
    ]  # fmt: skip
    s = summarize(tally_events(events, ZoneInfo("Asia/Almaty")), SUN, SUN)
    assert s.followups_failed == 2 and s.followup_failures == {"blocked": 2}


def _line(ts: str, name: str, **fields: object) -> bytes:
    return orjson.dumps({"v": 1, "ts": ts, "event": name, "user": "u9", **fields}) + b"\n"


def test_lines_a_hostile_or_foreign_writer_made_are_skipped_and_counted(
    settings: Settings,
) -> None:
    """Each of these once crashed the reader, moved a figure, or vanished uncounted."""
    at = "2026-05-10T12:00:00+05:00"
    bad = [
        _line("0001-01-01T00:00:00+05:00", "resume_received"),  # before datetime.min in UTC
        _line("9999-12-31T23:59:59-05:00", "resume_received"),  # after datetime.max in UTC
        _line("2026-05-10T12:00:00 and then some", "resume_received"),  # unreadable time
        _line(at, "user_started", campaign=["kbtu"]),  # unhashable
        _line(at, "user_started", campaign={"a": 1}),
        _line(at, "resume_analyzed", source="llm", language="ru", score=99),  # out of range
        _line(at, "resume_analyzed", source="llm", language="ru", score="7"),
        _line(at, "resume_analyzed", source="llm", language="ru", score=5, latency_ms=-5),
        _line(at, "resume_rejected", reason=["x"]),
        _line(at, "review_delivered", source="llm", language="ru", latency_ms=-1),
    ]
    before = load_summary(settings, SUN, SUN, use_cache=False)
    with (settings.data_dir / "analytics" / "2026-05-10.jsonl").open("ab") as handle:
        handle.write(b"".join(bad))
    s = load_summary(settings, SUN, SUN, use_cache=False)
    assert s.skipped_lines == before.skipped_lines + len(bad)
    assert (s.starts, s.received, s.analyzed, s.rejected) == (2, 3, 2, 1)  # as before
    assert s.median_score == 6.5 and (s.llm_latency_p50_ms, s.llm_latency_p95_ms) == (20, 3000)
    assert (s.delivered, s.review_latency_p50_ms, s.review_latency_p95_ms) == (2, 900, 5000)
    assert s.campaigns == {"(direct)": 1, "kbtu": 1}


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda e: e.update(tallies=[1]), id="tallies-a-list"),
        pytest.param(lambda e: e["tallies"]["2026-05-09"].update(heat=[1, 2]), id="short-heat"),
        pytest.param(lambda e: e["tallies"]["2026-05-09"].update(users=5), id="users-a-number"),
    ],
)
def test_a_cache_entry_with_the_right_stamp_but_wrong_shape_is_a_miss(
    settings: Settings, damage: Callable[[dict[str, Any]], None]
) -> None:
    fresh = load_summary(settings, SAT, SUN, use_cache=False)
    load_summary(settings, SAT, SUN)  # fills the cache
    entry_path = cache_dir(settings) / "2026-05-09.json"
    entry = orjson.loads(entry_path.read_bytes())
    damage(entry)
    entry_path.write_bytes(orjson.dumps(entry))
    assert load_summary(settings, SAT, SUN) == fresh


def test_a_cache_entry_that_cannot_be_pruned_does_not_stop_stats(settings: Settings) -> None:
    fresh = load_summary(settings, SAT, SUN, use_cache=False)
    stale = cache_dir(settings) / "2026-01-01.json"  # its day file is gone: pruned
    stale.mkdir(parents=True)  # unlink() of a directory fails, like a read-only DATA_DIR
    assert load_summary(settings, SAT, SUN) == fresh


def test_languages_are_the_resumes_not_the_reviews() -> None:
    at = "2026-05-10T12:00:00+05:00"
    events = [
        {"ts": at, "event": "resume_analyzed", "language": "kk", "resume_language": "ru"},
        {"ts": at, "event": "resume_analyzed", "language": "en"},  # written before the field
    ]
    tallies = tally_events(events, ZoneInfo("Asia/Almaty"))
    assert summarize(tallies, SUN, SUN).languages == {"en": 1, "ru": 1}


@pytest.mark.parametrize(
    ("change", "text"),
    [(0.0, "+0%"), (1.0, "+100%"), (-0.5, "-50%"), (0.003, "+0.3%"), (0.0001, "+<0.1%"),
     (-0.0001, "-<0.1%")],
)  # fmt: skip
def test_a_change_is_never_shown_as_zero_when_it_is_not(change: float, text: str) -> None:
    assert change_text(change) == text
