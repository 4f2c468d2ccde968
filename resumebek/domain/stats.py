"""Analytics aggregation: pure functions over parsed event dicts (no I/O).

`Tally` accumulates one day's events (`tally_events`); tallies merge, so days can be counted
in parallel and a range is the merge of its days. `summarize` turns tallies into a
`Summary` with every figure the admins read (stats, export, report, /stats).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from resumebek.domain.events import INT_RANGES

NO_CAMPAIGN = "(direct)"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(slots=True)
class Tally:
    """Everything counted for one local day (or, after `merge`, for several)."""

    events: Counter[str] = field(default_factory=Counter)  # by event name
    users: set[str] = field(default_factory=set)
    starters: set[str] = field(default_factory=set)
    senders: set[str] = field(default_factory=set)  # sent a resume
    reviewed: set[str] = field(default_factory=set)  # got a review
    clickers: set[str] = field(default_factory=set)
    campaigns: dict[str, set[str]] = field(default_factory=dict)
    rejections: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)  # of the resumes reviewed
    formats: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    scores: Counter[int] = field(default_factory=Counter)
    review_latencies: Counter[int] = field(default_factory=Counter)  # upload → review, ms
    llm_latencies: Counter[int] = field(default_factory=Counter)  # the LLM call alone, ms
    heat: list[int] = field(default_factory=lambda: [0] * (7 * 24))  # weekday*24 + hour
    ratings: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # rating, src, lang
    followup_failures: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # "actor/kind"
    fallbacks: Counter[str] = field(default_factory=Counter)
    dropped: int = 0  # events the writer could not take (full mailbox)
    invalid: int = 0  # events the writer refused (schema)
    skipped_lines: int = 0  # torn or invalid lines the reader skipped

    def merge(self, other: Tally) -> Tally:
        self.events.update(other.events)
        self.users |= other.users
        self.starters |= other.starters
        self.senders |= other.senders
        self.reviewed |= other.reviewed
        self.clickers |= other.clickers
        for name, members in other.campaigns.items():
            self.campaigns.setdefault(name, set()).update(members)
        for mine, theirs in (
            (self.rejections, other.rejections),
            (self.languages, other.languages),
            (self.formats, other.formats),
            (self.sources, other.sources),
            (self.followup_failures, other.followup_failures),
            (self.errors, other.errors),
            (self.fallbacks, other.fallbacks),
        ):
            mine.update(theirs)
        self.scores.update(other.scores)
        self.review_latencies.update(other.review_latencies)
        self.llm_latencies.update(other.llm_latencies)
        self.ratings.update(other.ratings)
        self.heat = [a + b for a, b in zip(self.heat, other.heat, strict=True)]
        self.dropped += other.dropped
        self.invalid += other.invalid
        self.skipped_lines += other.skipped_lines
        return self


def tally_to_dict(t: Tally) -> dict[str, Any]:
    """A JSON-ready form of a tally (for the per-day cache); `tally_from_dict` reverses it."""
    return {
        "events": dict(t.events),
        "users": sorted(t.users),
        "starters": sorted(t.starters),
        "senders": sorted(t.senders),
        "reviewed": sorted(t.reviewed),
        "clickers": sorted(t.clickers),
        "campaigns": {k: sorted(v) for k, v in t.campaigns.items()},
        "rejections": dict(t.rejections),
        "languages": dict(t.languages),
        "formats": dict(t.formats),
        "sources": dict(t.sources),
        "scores": [[k, n] for k, n in t.scores.items()],
        "review_latencies": [[k, n] for k, n in t.review_latencies.items()],
        "llm_latencies": [[k, n] for k, n in t.llm_latencies.items()],
        "heat": t.heat,
        "ratings": [[*k, n] for k, n in t.ratings.items()],
        "followup_failures": dict(t.followup_failures),
        "errors": dict(t.errors),
        "fallbacks": dict(t.fallbacks),
        "dropped": t.dropped,
        "invalid": t.invalid,
        "skipped_lines": t.skipped_lines,
    }


def tally_from_dict(d: Mapping[str, Any]) -> Tally:
    """Raises KeyError, TypeError or ValueError for a dict `tally_to_dict` did not make."""
    if len(d["heat"]) != 7 * 24:  # a short one would fail later, in merge()
        raise ValueError("heat")
    return Tally(
        events=Counter(d["events"]),
        users=set(d["users"]),
        starters=set(d["starters"]),
        senders=set(d["senders"]),
        reviewed=set(d["reviewed"]),
        clickers=set(d["clickers"]),
        campaigns={k: set(v) for k, v in d["campaigns"].items()},
        rejections=Counter(d["rejections"]),
        languages=Counter(d["languages"]),
        formats=Counter(d["formats"]),
        sources=Counter(d["sources"]),
        scores=Counter({int(k): int(n) for k, n in d["scores"]}),
        review_latencies=Counter({int(k): int(n) for k, n in d["review_latencies"]}),
        llm_latencies=Counter({int(k): int(n) for k, n in d["llm_latencies"]}),
        heat=[int(n) for n in d["heat"]],
        ratings=Counter({(str(r), str(s), str(lang)): int(n) for r, s, lang, n in d["ratings"]}),
        followup_failures=Counter(d["followup_failures"]),
        errors=Counter(d["errors"]),
        fallbacks=Counter(d["fallbacks"]),
        dropped=int(d["dropped"]),
        invalid=int(d["invalid"]),
        skipped_lines=int(d["skipped_lines"]),
    )


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


# Per event, the fields a tally reads from it. Their values must have the shapes the writer
# allows (domain.events): a line from elsewhere must not crash the reader (a list campaign is
# unhashable) or move a figure (a score of 99, a negative latency).
_FIELDS_READ: dict[str, tuple[str, ...]] = {
    "resume_received": ("format",),
    "resume_analyzed": ("language", "resume_language", "source", "score", "latency_ms"),
    "review_delivered": ("latency_ms",),
    "user_started": ("campaign",),
    "resume_rejected": ("reason",),
    "review_rated": ("source", "language"),
    "followup_failed": ("reason",),
    "error": ("actor", "kind"),
    "dead_letter": ("actor", "kind"),
    "llm_fallback": ("kind",),
    "analytics_dropped": ("count", "invalid"),
}


def _well_formed(ev: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    """Each of `keys` is absent, null, an int in its range or (other fields) a string."""
    for key in keys:
        value = ev.get(key)
        if value is None:
            continue
        bounds = INT_RANGES.get(key)
        if bounds is None:
            if type(value) is not str:
                return False
        elif type(value) is not int or not bounds[0] <= value <= bounds[1]:
            return False
    return True


def tally_events(
    events: Iterable[Mapping[str, Any]], zone: tzinfo, *, file_day: date | None = None
) -> dict[date, Tally]:
    """Count events by their local day in `zone` (the hour and weekday are local too).

    An event whose time cannot be read, or whose fields have shapes the writer never writes,
    is not counted but counted as a skipped line: of its own day, or for an unreadable time
    of `file_day` (the day of the file it came from)."""
    tallies: dict[date, Tally] = {}
    unplaced = 0
    # "2026-12-03T16" + "+05:00" → (tally, weekday*24 + hour); one parse per hour seen.
    slots: dict[str, tuple[Tally, int]] = {}
    for ev in events:
        ts: str = ev["ts"]
        key = ts[:13] + ts[-6:]
        slot = slots.get(key)
        if slot is None:
            local = _local_time(ts, zone)
            if local is None:
                unplaced += 1
                continue
            day = local.date()
            tally = tallies.get(day)
            if tally is None:
                tally = tallies[day] = Tally()
            slot = slots[key] = (tally, local.weekday() * 24 + local.hour)
        t, cell = slot
        name: str = ev["event"]
        keys = _FIELDS_READ.get(name)
        if keys is not None and not _well_formed(ev, keys):
            t.skipped_lines += 1
            continue
        if name == "followup_failed" and ev.get("final") is False:
            name = "followup_retried"  # a failed try that will be retried: not a failure yet
        t.events[name] += 1
        user = ev.get("user")
        if type(user) is str:
            t.users.add(user)
        else:
            user = None
        if name == "resume_received":
            t.heat[cell] += 1
            t.formats[str(ev.get("format"))] += 1
            if user:
                t.senders.add(user)
        elif name == "resume_analyzed":
            # the resume's own language; lines written before it was sent have the review's
            t.languages[str(ev.get("resume_language") or ev.get("language"))] += 1
            t.sources[str(ev.get("source"))] += 1
            score = _int(ev.get("score"))
            if score is not None:
                t.scores[score] += 1
            latency = _int(ev.get("latency_ms"))
            if latency is not None:
                t.llm_latencies[latency] += 1
        elif name == "review_delivered":
            if user:
                t.reviewed.add(user)
            latency = _int(ev.get("latency_ms"))
            if latency is not None:
                t.review_latencies[latency] += 1
        elif name == "user_started":
            if user:
                t.starters.add(user)
                campaign = ev.get("campaign") or NO_CAMPAIGN
                members = t.campaigns.get(campaign)
                if members is None:
                    members = t.campaigns[campaign] = set()
                members.add(user)
        elif name == "cta_clicked":
            if user:
                t.clickers.add(user)
        elif name == "resume_rejected":
            t.rejections[str(ev.get("reason"))] += 1
        elif name == "review_rated":
            rating = ev.get("rating")
            if rating in ("up", "down"):
                t.ratings[(rating, str(ev.get("source")), str(ev.get("language")))] += 1
        elif name == "followup_failed":
            t.followup_failures[str(ev.get("reason"))] += 1
        elif name == "error" or name == "dead_letter":
            t.errors[f"{ev.get('actor')}/{ev.get('kind')}"] += 1
        elif name == "llm_fallback":
            t.fallbacks[str(ev.get("kind"))] += 1
        elif name == "analytics_dropped":
            t.dropped += _int(ev.get("count")) or 0
            t.invalid += _int(ev.get("invalid")) or 0
    if unplaced and file_day is not None:
        tallies.setdefault(file_day, Tally()).skipped_lines += unplaced
    return tallies


def _local_time(ts: str, zone: tzinfo) -> datetime | None:
    """`ts` in `zone`, or None when it is not a time or lies beyond what datetime holds."""
    try:
        parsed = datetime.fromisoformat(ts)
        if parsed.tzinfo is None:  # not written by our writer; read it as local time
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(zone)
    except (ValueError, OverflowError):
        return None


# ---------------------------------------------------------------- summary


@dataclass(frozen=True, slots=True, kw_only=True)
class DayFigures:
    day: date
    users: int
    starts: int
    received: int
    rejected: int
    analyzed: int
    delivered: int
    cta_clicks: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Share:
    up: int
    rated: int

    @property
    def ratio(self) -> float | None:
        return self.up / self.rated if self.rated else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Trend:
    metric: str
    today: int
    yesterday: int

    @property
    def change(self) -> float | None:
        """Relative change, None when there is nothing to compare with."""
        return (self.today - self.yesterday) / self.yesterday if self.yesterday else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    start: date
    end: date
    users: int
    starts: int
    received: int
    rejected: int
    analyzed: int
    delivered: int
    cta_clicks: int
    conversion: float | None  # clicks / reviews delivered
    followups_scheduled: int
    followups_sent: int
    followups_failed: int
    rejections: dict[str, int]
    followup_failures: dict[str, int]
    languages: dict[str, int]
    formats: dict[str, int]
    hours: list[int]  # resumes received per local hour 0..23
    heat: list[list[int]]  # [weekday][hour], Monday first
    median_score: float | None
    fallback_rate: float | None  # share of reviews made by the rules instead of the LLM
    review_latency_p50_ms: int | None  # review latency: the update's arrival → review delivered
    review_latency_p95_ms: int | None
    llm_latency_p50_ms: int | None  # the LLM call alone (rules reviews have none)
    llm_latency_p95_ms: int | None
    thumbs_up: Share
    thumbs_by_source: dict[str, Share]
    thumbs_by_language: dict[str, Share]
    campaigns: dict[str, int]  # users who started through each deep-link campaign
    funnel: list[tuple[str, int]]  # users who started in the period, through each step
    errors: dict[str, int]
    fallbacks: dict[str, int]
    quota_hits: int
    data_deleted: int
    dropped_events: int
    invalid_events: int
    skipped_lines: int
    days: list[DayFigures]
    trend: list[Trend]  # last day of the range against the day before


def _nth(counts: Mapping[int, int], k: int) -> int:
    """The k-th smallest value (1-based) of a value → count histogram."""
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= k:
            return value
    raise IndexError(k)


def _quantile(counts: Mapping[int, int], q: float) -> int | None:
    """Nearest-rank quantile."""
    total = sum(counts.values())
    return _nth(counts, max(1, math.ceil(q * total))) if total else None


def _median(counts: Mapping[int, int]) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    return (_nth(counts, (total + 1) // 2) + _nth(counts, total // 2 + 1)) / 2


def _sorted_desc(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _shares(ratings: Mapping[tuple[str, str, str], int], index: int) -> dict[str, Share]:
    up: Counter[str] = Counter()
    rated: Counter[str] = Counter()
    for key, n in ratings.items():
        rated[key[index]] += n
        if key[0] == "up":
            up[key[index]] += n
    return {k: Share(up=up[k], rated=rated[k]) for k in sorted(rated)}


def _funnel(t: Tally) -> list[tuple[str, int]]:
    """Users who started in the period, and how many of them went on to each next step.
    Nested, so no step can exceed the one before (a user who started last month and sends a
    resume today is a returning user, not a step of this period's funnel)."""
    cohort = set(t.starters)
    steps = [("started", len(cohort))]
    for name, members in (
        ("sent_resume", t.senders),
        ("got_review", t.reviewed),
        ("clicked_cta", t.clickers),
    ):
        cohort &= members
        steps.append((name, len(cohort)))
    return steps


def day_figures(day: date, t: Tally) -> DayFigures:
    return DayFigures(
        day=day,
        users=len(t.users),
        starts=t.events["user_started"],
        received=t.events["resume_received"],
        rejected=t.events["resume_rejected"],
        analyzed=t.events["resume_analyzed"],
        delivered=t.events["review_delivered"],
        cta_clicks=t.events["cta_clicked"],
    )


def summarize(
    tallies: Mapping[date, Tally], start: date, end: date, *, previous: Tally | None = None
) -> Summary:
    """Figures for start..end inclusive; `previous` is the day before `start`, used for the
    day-over-day trend of a one-day range."""
    total = Tally()
    days: list[DayFigures] = []
    day = start
    while day <= end:
        t = tallies.get(day)
        days.append(day_figures(day, t if t is not None else Tally()))
        if t is not None:
            total.merge(t)
        day += timedelta(days=1)
    ev = total.events
    delivered = ev["review_delivered"]
    analyzed = sum(total.sources.values())
    rated = sum(total.ratings.values())
    up = sum(n for key, n in total.ratings.items() if key[0] == "up")
    heat = [total.heat[d * 24 : (d + 1) * 24] for d in range(7)]
    last = days[-1]
    before = (
        days[-2]
        if len(days) >= 2
        else day_figures(start - timedelta(days=1), previous if previous is not None else Tally())
    )
    trend = [
        Trend(metric=m, today=getattr(last, m), yesterday=getattr(before, m))
        for m in ("users", "received", "delivered", "cta_clicks")
    ]
    return Summary(
        start=start,
        end=end,
        users=len(total.users),
        starts=ev["user_started"],
        received=ev["resume_received"],
        rejected=ev["resume_rejected"],
        analyzed=ev["resume_analyzed"],
        delivered=delivered,
        cta_clicks=ev["cta_clicked"],
        conversion=ev["cta_clicked"] / delivered if delivered else None,
        followups_scheduled=ev["followup_scheduled"],
        followups_sent=ev["followup_sent"],
        followups_failed=ev["followup_failed"],
        rejections=_sorted_desc(total.rejections),
        followup_failures=_sorted_desc(total.followup_failures),
        languages=_sorted_desc(total.languages),
        formats=_sorted_desc(total.formats),
        hours=[sum(row[h] for row in heat) for h in range(24)],
        heat=heat,
        median_score=_median(total.scores),
        fallback_rate=total.sources["rules"] / analyzed if analyzed else None,
        review_latency_p50_ms=_quantile(total.review_latencies, 0.50),
        review_latency_p95_ms=_quantile(total.review_latencies, 0.95),
        llm_latency_p50_ms=_quantile(total.llm_latencies, 0.50),
        llm_latency_p95_ms=_quantile(total.llm_latencies, 0.95),
        thumbs_up=Share(up=up, rated=rated),
        thumbs_by_source=_shares(total.ratings, 1),
        thumbs_by_language=_shares(total.ratings, 2),
        campaigns=_sorted_desc({k: len(v) for k, v in total.campaigns.items()}),
        funnel=_funnel(total),
        errors=_sorted_desc(total.errors),
        fallbacks=_sorted_desc(total.fallbacks),
        quota_hits=ev["quota_hit"],
        data_deleted=ev["data_deleted"],
        dropped_events=total.dropped,
        invalid_events=total.invalid,
        skipped_lines=total.skipped_lines,
        days=days,
        trend=trend,
    )


# ---------------------------------------------------------------- plain shapes for output


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summary_dict(s: Summary) -> dict[str, Any]:
    """A JSON-ready dict (dates as ISO strings, ratios rounded to 4 places)."""

    def share(x: Share) -> dict[str, Any]:
        return {"up": x.up, "rated": x.rated, "share": _ratio(x.ratio)}

    return {
        "from": s.start.isoformat(),
        "to": s.end.isoformat(),
        "users": s.users,
        "starts": s.starts,
        "resumes_received": s.received,
        "resumes_rejected": s.rejected,
        "reviews_made": s.analyzed,
        "reviews_delivered": s.delivered,
        "cta_clicks": s.cta_clicks,
        "conversion": _ratio(s.conversion),
        "followups": {
            "scheduled": s.followups_scheduled,
            "sent": s.followups_sent,
            "failed": s.followups_failed,
            "failed_by_reason": s.followup_failures,
        },
        "rejections": s.rejections,
        "languages": s.languages,
        "formats": s.formats,
        "hours": s.hours,
        "median_score": s.median_score,
        "fallback_rate": _ratio(s.fallback_rate),
        "review_latency_ms": {"p50": s.review_latency_p50_ms, "p95": s.review_latency_p95_ms},
        "llm_latency_ms": {"p50": s.llm_latency_p50_ms, "p95": s.llm_latency_p95_ms},
        "thumbs_up": share(s.thumbs_up),
        "thumbs_up_by_source": {k: share(v) for k, v in s.thumbs_by_source.items()},
        "thumbs_up_by_language": {k: share(v) for k, v in s.thumbs_by_language.items()},
        "campaigns": s.campaigns,
        "funnel": dict(s.funnel),
        "errors": s.errors,
        "llm_fallbacks": s.fallbacks,
        "quota_hits": s.quota_hits,
        "data_deleted": s.data_deleted,
        "dropped_events": s.dropped_events,
        "invalid_events": s.invalid_events,
        "skipped_lines": s.skipped_lines,
        "trend": [
            {
                "metric": t.metric,
                "last_day": t.today,
                "day_before": t.yesterday,
                "change": _ratio(t.change),
            }
            for t in s.trend
        ],
        "days": [
            {
                "date": d.day.isoformat(),
                "users": d.users,
                "starts": d.starts,
                "received": d.received,
                "rejected": d.rejected,
                "delivered": d.delivered,
                "cta_clicks": d.cta_clicks,
            }
            for d in s.days
        ],
    }


def change_text(change: float) -> str:
    """A relative change as people read it: "+3%", "-0.4%", "+<0.1%", never "+0%" for a
    change that is not zero (396 after 395 is a rise, however small)."""
    pct = change * 100
    if pct == 0 or abs(pct) >= 1:
        return f"{pct:+.0f}%"
    if abs(pct) >= 0.1:
        return f"{pct:+.1f}%"
    return ("+" if pct > 0 else "-") + "<0.1%"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def summary_rows(s: Summary) -> list[tuple[str, str]]:
    """(metric, value) rows for the table and CSV outputs; nested figures get dotted names."""
    rows: list[tuple[str, str]] = [
        ("period", f"{s.start.isoformat()}..{s.end.isoformat()}"),
        ("users", _fmt(s.users)),
        ("starts", _fmt(s.starts)),
        ("resumes_received", _fmt(s.received)),
        ("resumes_rejected", _fmt(s.rejected)),
        ("reviews_delivered", _fmt(s.delivered)),
        ("cta_clicks", _fmt(s.cta_clicks)),
        ("conversion", _pct(s.conversion)),
        ("followups_scheduled", _fmt(s.followups_scheduled)),
        ("followups_sent", _fmt(s.followups_sent)),
        ("followups_failed", _fmt(s.followups_failed)),
        ("median_score", _fmt(s.median_score)),
        ("fallback_rate", _pct(s.fallback_rate)),
        ("review_latency_p50_ms", _fmt(s.review_latency_p50_ms)),
        ("review_latency_p95_ms", _fmt(s.review_latency_p95_ms)),
        ("llm_latency_p50_ms", _fmt(s.llm_latency_p50_ms)),
        ("llm_latency_p95_ms", _fmt(s.llm_latency_p95_ms)),
        ("thumbs_up", f"{_pct(s.thumbs_up.ratio)} of {s.thumbs_up.rated}"),
    ]
    for src, share in s.thumbs_by_source.items():
        rows.append((f"thumbs_up.source.{src}", f"{_pct(share.ratio)} of {share.rated}"))
    for lang, share in s.thumbs_by_language.items():
        rows.append((f"thumbs_up.language.{lang}", f"{_pct(share.ratio)} of {share.rated}"))
    for title, mapping in (
        ("rejections", s.rejections),
        ("languages", s.languages),
        ("campaign_users", s.campaigns),
        ("followup_failed", s.followup_failures),
        ("errors", s.errors),
    ):
        for key, n in mapping.items():
            rows.append((f"{title}.{key}", str(n)))
    for step, n in s.funnel:
        rows.append((f"funnel.{step}", str(n)))
    busiest = max(range(24), key=lambda h: (s.hours[h], -h)) if any(s.hours) else None
    rows.append(("busiest_hour", "-" if busiest is None else f"{busiest:02d}:00"))
    # every hour, zeros too: the table and CSV carry the whole distribution, like the JSON
    rows.extend((f"hours.{h:02d}", str(n)) for h, n in enumerate(s.hours))
    for t in s.trend:
        change = "" if t.change is None else f" ({change_text(t.change)})"
        rows.append((f"trend.{t.metric}", f"{t.yesterday} -> {t.today}{change}"))
    rows.append(("dropped_events", _fmt(s.dropped_events)))
    rows.append(("invalid_events", _fmt(s.invalid_events)))
    rows.append(("skipped_lines", _fmt(s.skipped_lines)))
    return rows


DAILY_COLUMNS: Sequence[str] = (
    "date",
    "users",
    "starts",
    "received",
    "rejected",
    "delivered",
    "cta_clicks",
    "conversion",
    "followups_sent",
    "followups_failed",
    "median_score",
    "fallback_rate",
    "review_latency_p50_ms",
    "review_latency_p95_ms",
    "llm_latency_p50_ms",
    "llm_latency_p95_ms",
    "rated",
    "thumbs_up_share",
)


def daily_row(s: Summary) -> dict[str, Any]:
    """One export row for a one-day Summary (columns `DAILY_COLUMNS`)."""
    return {
        "date": s.start.isoformat(),
        "users": s.users,
        "starts": s.starts,
        "received": s.received,
        "rejected": s.rejected,
        "delivered": s.delivered,
        "cta_clicks": s.cta_clicks,
        "conversion": _ratio(s.conversion),
        "followups_sent": s.followups_sent,
        "followups_failed": s.followups_failed,
        "median_score": s.median_score,
        "fallback_rate": _ratio(s.fallback_rate),
        "review_latency_p50_ms": s.review_latency_p50_ms,
        "review_latency_p95_ms": s.review_latency_p95_ms,
        "llm_latency_p50_ms": s.llm_latency_p50_ms,
        "llm_latency_p95_ms": s.llm_latency_p95_ms,
        "rated": s.thumbs_up.rated,
        "thumbs_up_share": _ratio(s.thumbs_up.ratio),
    }
