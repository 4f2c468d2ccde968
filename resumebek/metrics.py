"""Process metrics, defined once. Actors increment them; the HTTP endpoint serves them as
Prometheus text (`/metrics`). Labels carry no personal data: languages, sources, reasons."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REVIEWS = Counter(
    "resumebek_reviews_total", "Reviews produced", ["source", "language"], registry=REGISTRY
)
REJECTIONS = Counter(
    "resumebek_rejections_total",
    "Documents answered without a review",
    ["reason"],
    registry=REGISTRY,
)
LLM_LATENCY = Histogram(
    "resumebek_llm_latency_seconds",
    "Latency of one LLM review call (all attempts)",
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
    registry=REGISTRY,
)
LLM_RETRIES = Counter(
    "resumebek_llm_retries_total", "LLM attempts after the first", registry=REGISTRY
)
LLM_FALLBACKS = Counter(
    "resumebek_llm_fallbacks_total", "Reviews that fell back to rules", ["kind"], registry=REGISTRY
)
OUTBOX_SENDS = Counter(
    "resumebek_outbox_sends_total",
    "Telegram sends and edits",
    ["kind", "outcome"],
    registry=REGISTRY,
)
FLOOD_WAITS = Counter(
    "resumebek_flood_waits_total", "FloodWait answers from Telegram", registry=REGISTRY
)
FOLLOWUPS_PENDING = Gauge(
    "resumebek_followups_pending",
    "Follow-up reminders scheduled and not yet sent",
    registry=REGISTRY,
)
FOLLOWUPS = Counter(
    "resumebek_followups_total", "Follow-up outcomes", ["outcome"], registry=REGISTRY
)
ANALYTICS_WRITTEN = Counter(
    "resumebek_analytics_events_written_total", "Analytics events on disk", registry=REGISTRY
)
ANALYTICS_DROPPED = Counter(
    "resumebek_analytics_events_dropped_total",
    "Analytics events dropped (full mailbox, invalid, or never taken by the disk)",
    registry=REGISTRY,
)
ANALYTICS_WRITE_ERRORS = Counter(
    "resumebek_analytics_write_errors_total",
    "Analytics writes or fsyncs the disk refused (full, read-only, I/O error)",
    ["operation"],
    registry=REGISTRY,
)
ANALYTICS_UNWRITTEN = Gauge(
    "resumebek_analytics_unwritten_lines",
    "Analytics lines waiting in memory for the disk to take them",
    registry=REGISTRY,
)
