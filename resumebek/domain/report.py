"""The analytics report: one self-contained HTML file (inline CSS, charts as inline SVG, no
scripts, no network), pure: `render_report(summary, ...) -> str`.

Every label that comes from data (reasons, campaigns, languages) is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

from resumebek.domain.stats import WEEKDAYS, Share, Summary, Trend, change_text

_INK = "#1f2937"
_MUTED = "#6b7280"
_GRID = "#e5e7eb"
_BLUE = "#2563eb"
_BLUE_LIGHT = "#bfdbfe"
_PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777")
_LANGUAGE_NAMES = {"kk": "Kazakh (kk)", "ru": "Russian (ru)", "en": "English (en)"}
_REASONS = {
    "too_large": "File too large",
    "too_many_pages": "Too many pages",
    "unsupported_format": "Unsupported format",
    "encrypted": "Encrypted",
    "no_text": "No text (scan)",
    "corrupt": "Damaged file",
    "timeout": "Took too long",
    "too_short": "Too short",
    "not_resume": "Not a resume",
}
_FUNNEL = {
    "started": "Started the bot",
    "sent_resume": "Sent a resume",
    "got_review": "Got a review",
    "clicked_cta": "Clicked the offer",
}

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2937;
 font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}
header{display:flex;justify-content:space-between;align-items:flex-end;flex-wrap:wrap;gap:8px;
 margin-bottom:20px}
h1{font-size:26px;margin:0}
h2{font-size:16px;margin:0 0 12px;color:#111827}
.sub{color:#6b7280;font-size:14px}
.kpis{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;margin-bottom:16px}
.kpi{background:#fff;border-radius:12px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.kpi .v{font-size:26px;font-weight:650;letter-spacing:-.01em}
.kpi .l{color:#6b7280;font-size:13px}
.kpi .t{font-size:12px;margin-top:2px}
.up{color:#16a34a}.down{color:#dc2626}.flat{color:#6b7280}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.card{background:#fff;border-radius:12px;padding:18px 20px;box-shadow:0 1px 2px rgba(0,0,0,.06);
 margin-bottom:16px;overflow-x:auto}
.grid .card{margin-bottom:0}
.wide{grid-column:1/-1}
svg{display:block;width:100%;height:auto}
svg text{font-family:inherit}
table{border-collapse:collapse;width:100%;font-size:14px}
td,th{padding:6px 8px;border-bottom:1px solid #e5e7eb;text-align:left}
th{color:#6b7280;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.empty{color:#9ca3af;font-style:italic;padding:24px 0;text-align:center}
.legend{display:flex;gap:16px;font-size:13px;color:#6b7280;margin:-4px 0 8px}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
footer{color:#9ca3af;font-size:12px;margin-top:24px}
@media (max-width:760px){.kpis{grid-template-columns:repeat(2,1fr)}}
@media (max-width:1060px){.grid{grid-template-columns:1fr}} /* two columns only where charts fit */
@media print{body{background:#fff}.card,.kpi{box-shadow:none;border:1px solid #e5e7eb}
 svg{min-width:0!important}}
"""


def _num(n: float) -> str:
    return f"{n:,.0f}".replace(",", "\u202f")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _nice_max(value: int) -> int:
    """A round axis maximum >= value (1, 2, 5 × 10^k)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


# A chart never shrinks below this share of its drawn size, so its 11-unit labels stay
# >= 8 px on a phone (admins open the /stats attachment there); its card scrolls instead.
_MIN_SCALE = 0.75


def _svg(width: int, height: int) -> str:
    min_width = round(width * _MIN_SCALE)
    return f'<svg viewBox="0 0 {width} {height}" role="img" style="min-width:{min_width}px">'


def _empty(message: str = "No data for this period") -> str:
    return f'<div class="empty">{escape(message)}</div>'


def _hbars(items: Sequence[tuple[str, int]], *, color: str = _BLUE, total: int = 0) -> str:
    """Horizontal bars with the label on the left and the value (and share) on the right."""
    items = [(label, n) for label, n in items if n > 0]
    if not items:
        return _empty()
    width, label_w, value_w, row = 520, 170, 90, 30
    bar_w = width - label_w - value_w
    top = max(n for _, n in items)
    height = row * len(items) + 4
    parts = [_svg(width, height)]
    for i, (label, n) in enumerate(items):
        y = i * row + 4
        w = max(2.0, bar_w * n / top)
        share = f" · {n * 100 / total:.0f}%" if total else ""
        fill = _PALETTE[i % len(_PALETTE)] if color == "palette" else color
        parts.append(
            f'<text x="{label_w - 10}" y="{y + 15}" text-anchor="end" font-size="13" '
            f'fill="{_INK}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="18" rx="4" fill="{fill}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="{_MUTED}">'
            f"{_num(n)}{share}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _daily_chart(s: Summary) -> str:
    days = s.days
    if not any(d.received or d.delivered for d in days):
        return _empty()
    width, height = 1040, 260
    left, right, top, bottom = 48, 12, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(d.received, d.delivered) for d in days)
    step = _nice_max(-(-peak // 4))  # a round step (1, 2, 5 × 10^k) for about four lines
    lines = max(1, -(-peak // step))
    ymax = step * lines  # so every grid value is a whole, round number
    slot = plot_w / len(days)
    bar = max(2.0, slot * 0.7)
    parts = [_svg(width, height)]
    for k in range(lines + 1):  # horizontal grid lines with values
        value = step * k
        y = top + plot_h - plot_h * k / lines
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{_GRID}"/><text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="{_MUTED}">{_num(value)}</text>'
        )
    label_every = max(1, round(len(days) / 10))
    for i, d in enumerate(days):
        x = left + slot * i + (slot - bar) / 2
        for value, fill, inset in ((d.received, _BLUE_LIGHT, 0.0), (d.delivered, _BLUE, 0.2)):
            h = plot_h * value / ymax
            parts.append(
                f'<rect x="{x + bar * inset / 2:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar * (1 - inset):.1f}" height="{h:.1f}" rx="2" fill="{fill}">'
                f"<title>{d.day.isoformat()}: {value}</title></rect>"
            )
        if i % label_every == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{left + slot * i + slot / 2:.1f}" y="{height - 12}" '
                f'text-anchor="middle" font-size="11" fill="{_MUTED}">'
                f"{d.day.strftime('%d.%m')}</text>"
            )
    parts.append("</svg>")
    legend = (
        '<div class="legend">'
        f'<span><span class="sw" style="background:{_BLUE_LIGHT}"></span>Resumes received</span>'
        f'<span><span class="sw" style="background:{_BLUE}"></span>Reviews delivered</span></div>'
    )
    return legend + "".join(parts)


def _funnel(s: Summary) -> str:
    steps = s.funnel
    first = steps[0][1] if steps else 0
    if not any(n for _, n in steps):
        return _empty()
    width, label_w, bar_w, row = 600, 130, 200, 44  # room for the share text beside a full bar
    top = max(n for _, n in steps) or 1
    parts = [_svg(width, row * len(steps))]
    previous = 0
    for i, (step, n) in enumerate(steps):
        y = i * row
        w = max(2.0, bar_w * n / top)
        share = f"{n * 100 / first:.0f}% of starts" if first else ""
        step_share = f"{n * 100 / previous:.0f}% of previous" if i and previous else ""
        parts.append(
            f'<text x="{label_w - 10}" y="{y + 24}" text-anchor="end" font-size="13" '
            f'fill="{_INK}">{escape(_FUNNEL.get(step, step))}</text>'
            f'<rect x="{label_w}" y="{y + 6}" width="{w:.1f}" height="28" rx="5" '
            f'fill="{_PALETTE[i % len(_PALETTE)]}"/>'
            f'<text x="{label_w + w + 8:.1f}" y="{y + 18}" font-size="13" font-weight="600" '
            f'fill="{_INK}">{_num(n)}</text>'
            f'<text x="{label_w + w + 8:.1f}" y="{y + 33}" font-size="11" fill="{_MUTED}">'
            f"{escape(share)}{' · ' + escape(step_share) if step_share else ''}</text>"
        )
        previous = n
    parts.append("</svg>")
    return "".join(parts)


def _heat(s: Summary) -> str:
    if not any(any(row) for row in s.heat):
        return _empty()
    cell, gap, left, top = 38, 3, 44, 20
    width = left + 24 * (cell + gap)
    height = top + 7 * (cell // 2 + gap) + 4
    peak = max(max(row) for row in s.heat)
    parts = [_svg(width, height)]
    for h in range(0, 24, 2):
        parts.append(
            f'<text x="{left + h * (cell + gap) + cell / 2:.1f}" y="13" text-anchor="middle" '
            f'font-size="11" fill="{_MUTED}">{h:02d}</text>'
        )
    for d, row in enumerate(s.heat):
        y = top + d * (cell // 2 + gap)
        parts.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" font-size="11" '
            f'fill="{_MUTED}">{WEEKDAYS[d]}</text>'
        )
        for h, n in enumerate(row):
            level = n / peak if peak else 0.0
            # light grey for zero, then from pale to deep blue
            fill = "#f3f4f6" if n == 0 else _blend(level)
            parts.append(
                f'<rect x="{left + h * (cell + gap)}" y="{y}" width="{cell}" '
                f'height="{cell // 2}" rx="3" fill="{fill}">'
                f"<title>{WEEKDAYS[d]} {h:02d}:00 – {n}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _blend(level: float) -> str:
    """#dbeafe (pale) → #1e3a8a (deep) by `level` in 0..1."""
    low, high = (0xDB, 0xEA, 0xFE), (0x1E, 0x3A, 0x8A)
    level = 0.15 + 0.85 * max(0.0, min(1.0, level))
    r, g, b = (round(a + (z - a) * level) for a, z in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _trend_text(t: Trend | None, of: str = "") -> str:
    """The day-over-day change; `of` names the metric when it is not the card's value."""
    if t is None or t.change is None:
        return '<div class="t flat">&nbsp;</div>'
    arrow, css = ("▲", "up") if t.change > 0 else ("▼", "down") if t.change < 0 else ("■", "flat")
    what = f" {escape(of)}" if of else ""
    figure = escape(change_text(t.change))
    return f'<div class="t {css}">{arrow} {figure}{what} vs day before</div>'


def _kpi(label: str, value: str, trend: Trend | None = None, *, trend_of: str = "") -> str:
    return (
        f'<div class="kpi"><div class="v">{escape(value)}</div>'
        f'<div class="l">{escape(label)}</div>{_trend_text(trend, trend_of)}</div>'
    )


def _share_table(title: str, shares: dict[str, Share]) -> str:
    if not shares:
        return ""
    rows = "".join(
        f"<tr><td>{escape(_LANGUAGE_NAMES.get(k, k))}</td><td class='n'>{_pct(v.ratio)}</td>"
        f"<td class='n'>{v.up}</td><td class='n'>{v.rated}</td></tr>"
        for k, v in shares.items()
    )
    return (
        f"<table><tr><th>{escape(title)}</th><th class='n'>thumbs-up share</th>"
        "<th class='n'>up</th><th class='n'>rated</th></tr>"
        f"{rows}</table>"
    )


def _seconds_pair(p50_ms: int | None, p95_ms: int | None) -> str:
    if p50_ms is None or p95_ms is None:
        return "–"
    return f"{p50_ms / 1000:.1f}s / {p95_ms / 1000:.1f}s"


def _kv_table(title: str, mapping: Mapping[str, int | str], header: str = "count") -> str:
    if not mapping:
        return ""
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td class='n'>{escape(v) if isinstance(v, str) else _num(v)}"
        "</td></tr>"
        for k, v in mapping.items()
    )
    return (
        f"<table><tr><th>{escape(title)}</th><th class='n'>{escape(header)}</th></tr>{rows}</table>"
    )


def render_report(summary: Summary, *, generated_at: datetime, timezone: str) -> str:
    s = summary
    trends = {t.metric: t for t in s.trend}
    latency = _seconds_pair(s.review_latency_p50_ms, s.review_latency_p95_ms)
    kpis = "".join(
        [
            _kpi("Users", _num(s.users), trends.get("users")),
            _kpi("Resumes received", _num(s.received), trends.get("received")),
            _kpi("Reviews delivered", _num(s.delivered), trends.get("delivered")),
            # the trend is of the clicks, not of the rate: the card says so
            _kpi(
                "CTA conversion (clicks / reviews)",
                _pct(s.conversion),
                trends.get("cta_clicks"),
                trend_of="clicks",
            ),
            _kpi("Median score", "–" if s.median_score is None else f"{s.median_score:g} / 10"),
            _kpi("Thumbs up among rated reviews", _pct(s.thumbs_up.ratio)),
            _kpi("Rules fallback rate", _pct(s.fallback_rate)),
            _kpi("Upload to review p50 / p95", latency),
        ]
    )
    languages = [(_LANGUAGE_NAMES.get(k, k), n) for k, n in s.languages.items()]
    reasons = [(_REASONS.get(k, k), n) for k, n in s.rejections.items()]
    quality: dict[str, int | str] = {
        "LLM call p50 / p95": _seconds_pair(s.llm_latency_p50_ms, s.llm_latency_p95_ms),
        "follow-ups scheduled": s.followups_scheduled,
        "follow-ups sent": s.followups_sent,
        "follow-ups failed": s.followups_failed,
        "quota hits": s.quota_hits,
        "data deletions": s.data_deleted,
        "events dropped (mailbox full or disk refused)": s.dropped_events,
        "events refused (schema)": s.invalid_events,
        "damaged lines skipped": s.skipped_lines,
    }
    period = f"{s.start.isoformat()} – {s.end.isoformat()}"
    body = f"""<main>
<header><div><h1>Resumebek analytics</h1>
<div class="sub">{escape(period)} · {len(s.days)} days · times in {escape(timezone)}</div>
<div class="sub">Cards: totals for the period; ▲ ▼ compare its last day, {escape(s.end.isoformat())}, with the day before</div></div>
<div class="sub">generated {escape(generated_at.strftime("%Y-%m-%d %H:%M"))}</div></header>
<section class="kpis">{kpis}</section>
<section class="card"><h2>Resumes and reviews per day</h2>{_daily_chart(s)}</section>
<section class="grid">
<div class="card"><h2>Funnel (users who started in the period)</h2>{_funnel(s)}</div>
<div class="card"><h2>Resume languages</h2>{_hbars(languages, color="palette", total=sum(s.languages.values()))}</div>
<div class="card wide"><h2>When resumes arrive (local time, weekday × hour)</h2>{_heat(s)}</div>
<div class="card"><h2>Rejection reasons</h2>{_hbars(reasons, color="#dc2626", total=s.rejected)}</div>
<div class="card"><h2>Users by campaign <span class="sub">(a user who came through several counts in each)</span></h2>{_hbars(list(s.campaigns.items()), color="#7c3aed") if s.campaigns else _empty()}</div>
<div class="card"><h2>Feedback</h2>{_share_table("by source", s.thumbs_by_source) or _empty("No ratings yet")}
{_share_table("by language", s.thumbs_by_language)}</div>
<div class="card"><h2>Operations</h2>{_kv_table("", quality)}
{_kv_table("errors (actor/kind)", s.errors)}</div>
</section>
<footer>Pseudonymous data only: user ids are keyed hashes; no resume text or contact details
are stored. Generated by resumebek report.</footer>
</main>"""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Resumebek analytics {escape(period)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )
