"""The read side of analytics for admins: summaries for a range of days (stats, export,
report commands) and `admin_summary` for the Telegram /stats command.

Reading is synchronous file I/O (about a second for 30 busy days): an async caller runs
it in a thread (`anyio.to_thread.run_sync`), never on the event loop.
"""

from __future__ import annotations

import html
import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from resumebek.config import Settings
from resumebek.domain.report import render_report
from resumebek.domain.stats import (
    Summary,
    Tally,
    summarize,
    tally_events,
    tally_from_dict,
    tally_to_dict,
)
from resumebek.errors import os_error_kind
from resumebek.messages import Language
from services.analytics_files import (
    ReadCounts,
    analytics_dir,
    day_file,
    parse_lines,
    read_day_lines,
)
from services.storage import write_atomic

log = logging.getLogger(__name__)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


CACHE_VERSION = 4  # bump when Tally or tally_events changes meaning


def cache_dir(settings: Settings) -> Path:
    """Per-day tallies of closed days (readers only: DATA_DIR/analytics/ has one writer)."""
    return settings.data_dir / "cache" / "analytics"


def _cached(cache: Path, day: date, stamp: list[object]) -> dict[date, Tally] | None:
    try:
        data = orjson.loads((cache / f"{day.isoformat()}.json").read_bytes())
        if data["stamp"] != stamp:
            return None
        return {date.fromisoformat(k): tally_from_dict(v) for k, v in data["tallies"].items()}
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None  # a damaged cache entry is only a miss


def tally_day(
    directory: Path, day: date, zone_name: str, cache: Path | None = None
) -> dict[date, Tally]:
    """Tallies of one day file, keyed by local day (normally just `day`). With `cache`, a
    file whose size and mtime are unchanged is not read again."""
    try:
        st = day_file(directory, day).stat()
    except FileNotFoundError:
        return {}
    stamp: list[object] = [CACHE_VERSION, zone_name, st.st_size, st.st_mtime_ns]
    if cache is not None and (hit := _cached(cache, day, stamp)) is not None:
        return hit
    counts = ReadCounts()
    events = parse_lines(read_day_lines(directory, day), counts)
    tallies = tally_events(events, ZoneInfo(zone_name), file_day=day)
    if counts.skipped:
        tallies.setdefault(day, Tally()).skipped_lines += counts.skipped
    if cache is not None:
        entry = {
            "stamp": stamp,
            "tallies": {k.isoformat(): tally_to_dict(v) for k, v in tallies.items()},
        }
        try:
            write_atomic(cache / f"{day.isoformat()}.json", orjson.dumps(entry))
        except OSError as exc:  # the cache only saves time: the figures are right without it
            log.warning("stats.cache_write_failed kind=%s", os_error_kind(exc))
    return tallies


def _prune_cache(cache: Path, directory: Path) -> None:
    """Drop cache entries of days whose file is gone (retention removed it)."""
    if not cache.is_dir():
        return
    for entry in cache.glob("*.json"):
        try:
            day = date.fromisoformat(entry.stem)
        except ValueError:
            continue
        if not day_file(directory, day).exists():
            try:
                entry.unlink(missing_ok=True)
            except OSError as exc:  # a read-only DATA_DIR: the figures are right regardless
                log.warning("stats.cache_prune_failed kind=%s", os_error_kind(exc))


def auto_workers(n_days: int) -> int:
    """Worker processes worth starting for `n_days` files. On 2 cores the processes were
    slower than one (bench/analytics.py), so one core is always left to the parent."""
    return max(1, min(n_days // 4, (os.cpu_count() or 1) - 2, 8))


def tally_range(
    directory: Path,
    days: Iterable[date],
    zone_name: str,
    *,
    workers: int | None = None,
    cache: Path | None = None,
    cache_before: date | None = None,
) -> dict[date, Tally]:
    """Tallies for the given days. With workers > 1 the files are parsed in worker processes
    (command line only: forking inside the running bot is not safe); None decides by size.
    Days before `cache_before` (closed days) use the cache when one is given."""
    wanted = list(days)
    caches = [
        cache if cache is not None and cache_before is not None and d < cache_before else None
        for d in wanted
    ]
    workers = auto_workers(len(wanted)) if workers is None else max(1, workers)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(
                pool.map(
                    tally_day, [directory] * len(wanted), wanted, [zone_name] * len(wanted), caches
                )
            )
    else:
        parts = [tally_day(directory, d, zone_name, c) for d, c in zip(wanted, caches, strict=True)]
    if cache is not None:
        _prune_cache(cache, directory)
    merged: dict[date, Tally] = {}
    for part in parts:
        for day, tally in part.items():
            if day in merged:
                merged[day].merge(tally)
            else:
                merged[day] = tally
    return merged


def load_summary(
    settings: Settings,
    start: date,
    end: date,
    *,
    workers: int | None = None,
    use_cache: bool = True,
) -> Summary:
    """Stats for start..end inclusive (local days in TIMEZONE); the day before `start` is
    read too, for the day-over-day trend. Closed days come from the cache when it is fresh."""
    if end < start:
        raise ValueError("the range ends before it starts")
    before = start - timedelta(days=1)
    tallies = tally_range(
        analytics_dir(settings),
        _days(before, end),
        settings.timezone,
        workers=workers,
        cache=cache_dir(settings) if use_cache else None,
        # today and yesterday still grow (late events around midnight): never cached
        cache_before=local_today(settings, time.time()) - timedelta(days=1),
    )
    return summarize(tallies, start, end, previous=tallies.get(before))


def load_daily(settings: Settings, start: date, end: date) -> list[Summary]:
    """One Summary per day (for export)."""
    tallies = tally_range(
        analytics_dir(settings),
        _days(start, end),
        settings.timezone,
        cache=cache_dir(settings),
        cache_before=local_today(settings, time.time()) - timedelta(days=1),
    )
    return [summarize(tallies, day, day) for day in _days(start, end)]


def local_today(settings: Settings, now: float) -> date:
    return datetime.fromtimestamp(now, settings.zone).date()


def build_report(
    settings: Settings,
    now: float,
    *,
    days: int = 30,
    end: date | None = None,
    workers: int | None = None,
) -> str:
    """The HTML report for `days` local days ending with `end` (default: today)."""
    end = end or local_today(settings, now)
    start = end - timedelta(days=days - 1)
    summary = load_summary(settings, start, end, workers=workers)
    generated = datetime.fromtimestamp(now, settings.zone)
    return render_report(summary, generated_at=generated, timezone=settings.timezone)


# ---------------------------------------------------------------- /stats in Telegram

_LABELS: dict[Language, dict[str, str]] = {
    "en": {
        "title": "Resumebek stats",
        "today": "Today",
        "week": "Last 7 days",
        "users": "users",
        "received": "resumes",
        "delivered": "reviews",
        "rejected": "rejected",
        "clicks": "CTA clicks",
        "conversion": "conversion",
        "score": "median score",
        "fallback": "rules fallback",
        "thumbs": "👍 share",
        "latency": "upload to review p50/p95",
        "followups": "follow-ups sent/failed",
        "dropped": "dropped events",
        "attached": "Full report for {days} days attached.",
    },
    "ru": {
        "title": "Статистика Resumebek",
        "today": "Сегодня",
        "week": "За 7 дней",
        "users": "пользователей",
        "received": "резюме",
        "delivered": "разборов",
        "rejected": "отклонено",
        "clicks": "кликов по кнопке",
        "conversion": "конверсия",
        "score": "медианная оценка",
        "fallback": "без LLM (правила)",
        "thumbs": "доля 👍",
        "latency": "от загрузки до разбора p50/p95",
        "followups": "напоминаний отправлено/ошибок",
        "dropped": "потеряно событий",
        "attached": "Полный отчёт за {days} дн. во вложении.",
    },
    "kk": {
        "title": "Resumebek статистикасы",
        "today": "Бүгін",
        "week": "Соңғы 7 күн",
        "users": "пайдаланушы",
        "received": "түйіндеме",
        "delivered": "талдау",
        "rejected": "қабылданбады",
        "clicks": "батырма басылды",
        "conversion": "конверсия",
        "score": "орташа баға (медиана)",
        "fallback": "LLM-сіз (ережелер)",
        "thumbs": "👍 үлесі",
        "latency": "жүктеуден талдауға дейін p50/p95",
        "followups": "еске салу жіберілді/қате",
        "dropped": "жоғалған оқиғалар",
        "attached": "{days} күндік толық есеп тіркелді.",
    },
}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _block(title: str, s: Summary, words: dict[str, str]) -> list[str]:
    score = "–" if s.median_score is None else f"{s.median_score:g}/10"
    p50 = "–" if s.review_latency_p50_ms is None else f"{s.review_latency_p50_ms / 1000:.1f}s"
    p95 = "–" if s.review_latency_p95_ms is None else f"{s.review_latency_p95_ms / 1000:.1f}s"
    lines = [
        f"<b>{html.escape(title)}</b>",
        f"{s.users} {words['users']} · {s.received} {words['received']} · "
        f"{s.delivered} {words['delivered']} · {s.rejected} {words['rejected']}",
        f"{s.cta_clicks} {words['clicks']} · {words['conversion']} {_pct(s.conversion)}",
        f"{words['score']}: {score} · {words['fallback']}: {_pct(s.fallback_rate)}",
        f"{words['thumbs']}: {_pct(s.thumbs_up.ratio)} ({s.thumbs_up.rated}) · "
        f"{words['latency']}: {p50}/{p95}",
        f"{words['followups']}: {s.followups_sent}/{s.followups_failed}",
    ]
    if s.dropped_events or s.invalid_events:
        lines.append(f"⚠️ {words['dropped']}: {s.dropped_events + s.invalid_events}")
    return lines


def admin_summary(settings: Settings, now: float, lang: Language) -> tuple[str, bytes]:
    """Telegram HTML for /stats (today and the last 7 days, in `lang`) and the 30-day
    HTML report as bytes to attach. Blocking file I/O: call it from a thread."""
    words = _LABELS.get(lang, _LABELS["en"])
    days = min(30, settings.analytics_retention_days)
    today = local_today(settings, now)
    day = load_summary(settings, today, today, workers=1)
    week = load_summary(settings, today - timedelta(days=6), today, workers=1)
    text = "\n".join(
        [
            f"📊 <b>{html.escape(words['title'])}</b>",
            "",
            *_block(f"{words['today']} ({today.isoformat()})", day, words),
            "",
            *_block(words["week"], week, words),
            "",
            html.escape(words["attached"].format(days=days)),
        ]
    )
    report = build_report(settings, now, days=days, workers=1)
    return text, report.encode("utf-8")
