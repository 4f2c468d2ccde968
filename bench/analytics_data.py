"""Synthetic analytics days, in the writer's own line format, for the benchmark and for
rendering a sample report (scripts/render-report). Seeded: the same arguments give the
same files."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from resumebek.domain.privacy import pseudonym

_CAMPAIGNS = (None, None, None, "kbtu", "narxoz", "enu_career", "instagram", "tiktok_ads")
_REASONS = ("not_resume", "no_text", "too_short", "unsupported_format", "too_large", "corrupt")
_REASON_WEIGHTS = (40, 20, 15, 12, 8, 5)
_LANGS = ("ru", "kk", "en")
_LANG_WEIGHTS = (55, 30, 15)
# Local hour weights: quiet at night, busy in the afternoon and evening.
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 13, 12, 12, 13, 14, 14, 13, 12, 12, 11, 8, 5, 2)


def _session(
    rng: random.Random, user: str, campaign: str | None
) -> list[tuple[str, dict[str, object]]]:
    """One user's visit as (event, fields) pairs, in order."""
    out: list[tuple[str, dict[str, object]]] = [("user_started", {"campaign": campaign})]
    if rng.random() < 0.2:  # looked around and left
        return out
    if rng.random() < 0.01:
        out.append(("quota_hit", {}))
        return out
    lang = rng.choices(_LANGS, _LANG_WEIGHTS)[0]
    fmt = rng.choices(("pdf", "docx", "text", "txt"), (60, 25, 12, 3))[0]
    out.append(("resume_received", {"format": fmt, "size_bucket": "<1MB"}))
    if rng.random() < 0.15:
        out.append(("resume_rejected", {"reason": rng.choices(_REASONS, _REASON_WEIGHTS)[0]}))
        return out
    source = "rules" if rng.random() < 0.08 else "llm"
    if source == "rules":
        out.append(("llm_fallback", {"kind": rng.choice(("timeout", "rate_limit", "bad_json"))}))
        out.append(("error", {"actor": "analyzer", "kind": "llm_unavailable"}))
    latency = int(rng.lognormvariate(8.4, 0.4)) if source == "llm" else rng.randint(5, 40)
    score = max(1, min(10, round(rng.gauss(6.3, 1.6))))
    out.append(
        (
            "resume_analyzed",
            {
                "language": lang,
                "score": score,
                "source": source,
                "model": "gpt-4o-mini" if source == "llm" else None,
                "latency_ms": latency,
                "tokens": rng.randint(1800, 4200) if source == "llm" else 0,
            },
        )
    )
    # upload → review: extraction and queues on top of the LLM call
    waited = latency + int(rng.lognormvariate(6.5, 0.6))
    out.append(("review_delivered", {"language": lang, "source": source, "latency_ms": waited}))
    if rng.random() < 0.22:
        out.append(("cta_clicked", {"language": lang, "campaign": campaign}))
    if rng.random() < 0.3:
        rating = "up" if rng.random() < (0.8 if source == "llm" else 0.55) else "down"
        out.append(("review_rated", {"rating": rating, "source": source, "language": lang}))
    out.append(("followup_scheduled", {}))
    if rng.random() < 0.9:
        out.append(("followup_sent", {}))
    else:
        out.append(("followup_failed", {"reason": "blocked"}))
    return out


def generate_day(
    directory: Path, day: date, events: int, *, zone: str = "Asia/Almaty", seed: int = 1
) -> int:
    """Write about `events` events for the local `day`; returns how many were written."""
    rng = random.Random(f"{seed}-{day.isoformat()}")
    tz = ZoneInfo(zone)
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    salt = b"bench-salt-not-secret"
    lines: list[bytes] = []
    hours = rng.choices(range(24), _HOUR_WEIGHTS, k=events // 6 + 10)
    i = 0
    while len(lines) < events:
        user = pseudonym(rng.randrange(1, 400_000), salt)
        at = midnight + timedelta(hours=hours[i % len(hours)], seconds=rng.random() * 3000)
        i += 1
        for name, fields in _session(rng, user, rng.choice(_CAMPAIGNS)):
            at += timedelta(seconds=rng.random() * 20)
            if at.date() != day:
                break
            line = {
                "v": 1,
                "ts": at.isoformat(timespec="milliseconds"),
                "event": name,
                "user": user,
                "trace": f"{rng.getrandbits(64):016x}",
                **fields,
            }
            lines.append(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{day.isoformat()}.jsonl").write_bytes(b"".join(lines[:events]))
    return min(events, len(lines))


def generate_range(
    directory: Path, end: date, days: int, per_day: int, *, zone: str = "Asia/Almaty"
) -> int:
    """`days` days ending with `end`, with a gentle weekly rhythm and growth."""
    total = 0
    for back in range(days - 1, -1, -1):
        day = end - timedelta(days=back)
        weekly = 0.75 if day.weekday() >= 5 else 1.0
        growth = 1.0 - back * 0.01
        total += generate_day(directory, day, int(per_day * weekly * growth), zone=zone)
    return total
