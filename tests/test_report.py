"""The HTML report and the /stats admin summary."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from resumebek.analytics_admin import admin_summary, load_summary
from resumebek.config import Secret, Settings
from resumebek.domain.report import render_report
from resumebek.domain.stats import summarize, tally_events
from resumebek.messages import Language
from tests.conftest import FIXTURES

ALMATY = ZoneInfo("Asia/Almaty")
SUN_AFTERNOON = datetime(2026, 5, 10, 15, 0, tzinfo=ALMATY)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    shutil.copytree(FIXTURES / "analytics" / "small", tmp_path / "analytics")
    return Settings(data_dir=tmp_path, analytics_salt=Secret("x" * 20), timezone="Asia/Almaty")


def assert_self_contained(html: str) -> None:
    assert html.startswith("<!doctype html>") and html.count("<html") == 1
    assert not re.search(r"https?:|//[a-z]", html, re.IGNORECASE)  # no network at all
    for needle in ("<script", "<link", "<iframe", "<img", "@import", "url(", "src="):
        assert needle not in html.lower()


def test_report_is_one_self_contained_file_with_svg_charts(settings: Settings) -> None:
    summary = load_summary(settings, date(2026, 4, 11), date(2026, 5, 10))
    html = render_report(summary, generated_at=SUN_AFTERNOON, timezone="Asia/Almaty")
    assert_self_contained(html)
    assert html.count("<svg") == 6  # per day, funnel, languages, heat map, rejections, campaigns
    for title in ("per day", "Funnel", "languages", "weekday × hour", "Rejection reasons"):
        assert title in html
    assert "Not a resume" in html and "Kazakh (kk)" in html
    assert "2026-04-11 – 2026-05-10" in html
    # a day-over-day arrow under a 30-day total says which day it is about
    assert "compare its last day, 2026-05-10, with the day before" in html
    # what users waited on the card; the LLM call alone among the operations
    assert '4.0s / 5.0s</div><div class="l">Upload to review p50 / p95' in html
    assert "<td>LLM call p50 / p95</td><td class='n'>1.0s / 3.0s</td>" in html


def test_report_without_data_still_renders() -> None:
    summary = summarize({}, date(2026, 5, 1), date(2026, 5, 7))
    html = render_report(summary, generated_at=SUN_AFTERNOON, timezone="Asia/Almaty")
    assert_self_contained(html)
    assert "No data for this period" in html and "<svg" not in html


def test_labels_from_data_are_escaped() -> None:
    events = [
        {"ts": "2026-05-10T10:00:00+05:00", "event": "user_started", "user": "u1",
         "campaign": "<script>alert(1)</script>"},
        {"ts": "2026-05-10T10:00:00+05:00", "event": "resume_rejected", "user": "u1",
         "reason": "a&b<i>"},
    ]  # fmt: skip
    summary = summarize(tally_events(events, ALMATY), date(2026, 5, 10), date(2026, 5, 10))
    html = render_report(summary, generated_at=SUN_AFTERNOON, timezone="Asia/Almaty")
    assert "<script>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "a&amp;b&lt;i&gt;" in html


@pytest.mark.parametrize(
    ("lang", "today_word"),
    [
        pytest.param("kk", "Бүгін", id="kk"),
        pytest.param("ru", "Сегодня", id="ru"),
        pytest.param("en", "Today", id="en"),
    ],
)
def test_admin_summary_text_and_report(settings: Settings, lang: Language, today_word: str) -> None:
    text, report = admin_summary(settings, SUN_AFTERNOON.timestamp(), lang)
    today_block, week_block = text.split("\n\n")[1:3]
    assert today_block.startswith(f"<b>{today_word} (2026-05-10)</b>")
    # today: 3 users, 3 resumes, 2 reviews, 1 rejected, conversion 1/2; the week adds Saturday
    assert re.findall(r"\d+", today_block.split("\n")[1]) == ["3", "3", "2", "1"]
    assert "50%" in today_block and "33%" in week_block
    assert re.findall(r"\d+", week_block.split("\n")[1]) == ["3", "4", "3", "1"]
    assert "⚠️" in text  # the writer reported dropped events
    assert not re.search(r"<(?!/?b>)", text)  # Telegram HTML: only <b> tags
    assert_self_contained(report.decode("utf-8"))


def test_admin_summary_english_wording(settings: Settings) -> None:
    text, _ = admin_summary(settings, SUN_AFTERNOON.timestamp(), "en")
    assert "3 users · 3 resumes · 2 reviews · 1 rejected" in text
    assert "1 CTA clicks · conversion 50%" in text
    assert "upload to review p50/p95: 0.9s/5.0s" in text  # today; the week is 4.0s/5.0s
    assert "upload to review p50/p95: 4.0s/5.0s" in text


@pytest.mark.parametrize(
    ("received", "labels"),
    [
        pytest.param(10, ["0", "5", "10"], id="ten"),
        pytest.param(7, ["0", "2", "4", "6", "8"], id="seven"),
        pytest.param(480, ["0", "200", "400", "600"], id="hundreds"),
    ],
)
def test_daily_axis_labels_are_round_whole_numbers(received: int, labels: list[str]) -> None:
    events = [
        {"ts": "2026-05-10T10:00:00+05:00", "event": "resume_received", "user": f"u{i}"}
        for i in range(received)
    ]
    summary = summarize(tally_events(events, ALMATY), date(2026, 5, 10), date(2026, 5, 10))
    html = render_report(summary, generated_at=SUN_AFTERNOON, timezone="Asia/Almaty")
    daily = html[html.index("per day") :]
    daily = daily[daily.index("<svg") : daily.index("</svg>")]
    found = re.findall(r'text-anchor="end" font-size="11" fill="[^"]+">([^<]+)</text>', daily)
    assert found == labels


def test_charts_keep_readable_text_on_a_phone_and_scroll_instead(settings: Settings) -> None:
    # /stats sends the report to Telegram, so admins often open it on a phone: a chart
    # scaled to ~330 px would draw its 11-unit labels at 3-6 px. Each chart keeps at least
    # 3/4 of its drawn size (labels >= 8 px) and its card scrolls sideways instead.
    summary = load_summary(settings, date(2026, 4, 11), date(2026, 5, 10))
    html = render_report(summary, generated_at=SUN_AFTERNOON, timezone="Asia/Almaty")
    charts = re.findall(r'<svg viewBox="0 0 (\d+) \d+"([^>]*)>', html)
    assert len(charts) == 6
    for width, attributes in charts:
        min_width = re.search(r"min-width:(\d+)px", attributes)
        assert min_width and int(min_width[1]) >= 0.75 * int(width), (width, attributes)
    assert re.search(r"\.card\{[^}]*overflow-x:auto", html)


def test_the_conversion_card_says_its_trend_is_of_clicks() -> None:
    # the trend under "CTA conversion" is the change in clicks, not in the conversion rate
    events = [
        {"ts": f"2026-05-{day}T10:00:00+05:00", "event": name, "user": f"u{i}"}
        for day, clicks in (("09", 2), ("10", 1))
        for i in range(clicks)
        for name in ("review_delivered", "cta_clicked")
    ]
    summary = summarize(tally_events(events, ALMATY), date(2026, 5, 9), date(2026, 5, 10))
    html = render_report(summary, generated_at=SUN_AFTERNOON, timezone="Asia/Almaty")
    card = html[html.index("CTA conversion") :]
    card = card[: card.index('<div class="kpi">')]
    assert "▼ -50% clicks vs day before" in card


@pytest.mark.parametrize(
    ("before", "after", "shown"),
    [
        pytest.param(395, 396, "▲ +0.3% vs", id="small-rise"),
        pytest.param(10_000, 10_001, "▲ +&lt;0.1% vs", id="tiny-rise"),
        pytest.param(4, 4, "■ +0% vs", id="flat"),
        pytest.param(4, 2, "▼ -50% vs", id="halved"),
    ],
)
def test_a_small_change_is_not_shown_as_zero_beside_an_arrow(
    before: int, after: int, shown: str
) -> None:
    events = [
        {"ts": f"2026-05-{day}T10:00:00+05:00", "event": "resume_received", "user": f"u{i}"}
        for day, n in (("09", before), ("10", after))
        for i in range(n)
    ]
    summary = summarize(tally_events(events, ALMATY), date(2026, 5, 9), date(2026, 5, 10))
    html = render_report(summary, generated_at=SUN_AFTERNOON, timezone="Asia/Almaty")
    card = html[html.index("Resumes received") :]
    assert shown in card[: card.index('<div class="kpi">')]
