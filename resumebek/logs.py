"""Structured logs on stderr: one line per event, no personal data.

Convention (STYLE.md §9): `log.info("analysis.done trace=%s lang=%s ms=%d", ...)`: the first
word is the event name, then key=value pairs (trace id, sizes, durations, outcomes). The JSON
formatter lifts those into fields; `extra={...}` works too. The actor is taken from the logger
name (`resumebek.actors.analyzer` → `analyzer`) or from `extra={"actor": ...}`.

Third-party loggers are capped at WARNING whatever LOG_LEVEL says (httpx logs full URLs at
INFO; SDKs have dumped bodies at DEBUG). A redaction filter on the handler is the last line
of defence: it masks emails, phone numbers, IIN-like and Telegram-id-like numbers in every
message and traceback, whichever logger produced them. stdout stays free for command output
(`resumebek chat --jsonl`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import IO, Literal

import orjson

from resumebek.config import Settings

THIRD_PARTY_LOGGERS: tuple[str, ...] = (
    "pyrogram",
    "openai",
    "httpx",
    "httpx2",
    "httpcore",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "asyncio",
    "pypdf",
    "multipart",
)

# ---------------------------------------------------------------- redaction

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Kazakh/Russian numbers (+7 / 8, then 3-3-2-2 digits with any separators) and any
# international number written with a leading "+".
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}|[78])[\s(.-]*\d{3}[\s).-]*\d{3}[\s.-]*\d{2}[\s.-]*\d{2}(?!\w)"
    r"|(?<![\w+])\+\d(?:[\s().-]*\d){7,14}(?!\w)"
)
_IIN = re.compile(r"(?<![\w.])\d{12}(?![\w])")
# Ids after keys that name a person or a chat, whatever their length.
_ID_KEY = re.compile(r"\b(user|user_id|chat|chat_id|from_id|peer_id|tg_id|telegram_id)=-?\d+")
# Telegram user and chat ids are 8+ digit integers (chats: -100...). Sizes and durations
# rarely are, and the keys in _NUMERIC_KEYS are known to carry them, so those stay.
_LONG_NUMBER = re.compile(r"(?:\b([A-Za-z_]+)=)?(?<![\w.])(-?\d{8,})(?![\w]|\.\d)")
_NUMERIC_KEYS = frozenset({"size", "bytes", "ms", "duration_ms", "latency_ms", "pid", "tokens"})


def _mask_long_number(match: re.Match[str]) -> str:
    key = match.group(1)
    if key is None:
        return "<id>"
    return match.group(0) if key in _NUMERIC_KEYS else f"{key}=<id>"


# Every phone, IIN and long id has 8+ digits with short separators between them:
# lines without such a run (most of them) skip the costlier patterns.
_DIGIT_RUN = re.compile(r"\d(?:[\s().-]{0,3}\d){7}")


def redact(text: str) -> str:
    """`text` with emails, phones, IIN-like and Telegram-id-like numbers masked."""
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    text = _ID_KEY.sub(r"\1=<id>", text)
    if _DIGIT_RUN.search(text) is None:
        return text
    text = _PHONE.sub("<phone>", text)
    text = _IIN.sub("<iin>", text)
    return _LONG_NUMBER.sub(_mask_long_number, text)


# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class RedactingFilter(logging.Filter):
    """Masks personal data in the rendered message, in `extra=` values and in tracebacks.

    It sits on the handler, not on a logger: logger filters do not see records that
    propagate from child loggers (pyrogram, openai, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken %-format: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key in _STANDARD or key.startswith("_"):
                continue
            if isinstance(value, str):
                setattr(record, key, redact(value))
            elif isinstance(value, int) and not isinstance(value, bool):
                # judged as "key=value" so sizes and durations keep their numbers
                if redact(f"{key}={value}") != f"{key}={value}":
                    setattr(record, key, "<id>")
        return True


# ---------------------------------------------------------------- parsing the convention

_EVENT = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*")
_PAIR = re.compile(r"(?<!\S)([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\S+)")
_TOP = ("actor", "event", "trace")
_RESERVED = frozenset({"ts", "level", "logger", "msg", "exc", "exc_type", "stack"})


def _scalar(raw: str) -> str | int | float | bool | None:
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return raw[1:-1]
    raw = raw.rstrip(":,;")  # "signal=15: shutting down" → 15
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        pass
    if raw in {"true", "false"}:
        return raw == "true"
    if raw in {"None", "null"}:
        return None
    return raw


def _actor_from_logger(name: str) -> str | None:
    for prefix in ("resumebek.actors.", "resumebek.runtime."):
        if name.startswith(prefix):
            return name[len(prefix) :].split(".")[0]
    return None


def record_fields(record: logging.LogRecord) -> dict[str, object]:
    """The structured view of one record: actor, event, trace, then key=value fields."""
    message = record.getMessage()
    fields: dict[str, object] = {}
    first, _, rest = message.partition(" ")
    if _EVENT.fullmatch(first):
        fields["event"] = first
        body = rest
    else:
        body = message
    pairs = [(key, _scalar(raw)) for key, raw in _PAIR.findall(body)]
    extras = [(k, v) for k, v in record.__dict__.items() if k not in _STANDARD and k[0] != "_"]
    for key, value in (*pairs, *extras):
        # "analytics.invalid event=resume_analyzed": the leading word stays the event, and
        # no field may overwrite the line's own keys (ts, level, msg ...): those get a "_".
        if key in _RESERVED or (key == "event" and "event" in fields):
            key += "_"
        fields[key] = value
    if "actor" not in fields:
        actor = _actor_from_logger(record.name)
        if actor is not None:
            fields["actor"] = actor
    return fields


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _default(value: object) -> str:
    return repr(value)


class JsonFormatter(logging.Formatter):
    """One orjson object per line: ts, level, logger, actor, event, trace, fields, msg."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        line: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
        }
        for key in _TOP:
            if key in fields:
                line[key] = fields.pop(key)
        line.update(fields)
        line["msg"] = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return orjson.dumps(line, default=_default).decode()


class TextFormatter(logging.Formatter):
    """`2026-12-03T16:45:01.123Z INFO    analyzer  analysis.done trace=... ms=12`, one line:
    a traceback follows on the same line with its newlines escaped."""

    def format(self, record: logging.LogRecord) -> str:
        actor = record_fields(record).get("actor") or record.name
        line = f"{_timestamp(record)} {record.levelname:<7} {actor!s:<10} {record.getMessage()}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += " exc=" + record.exc_text
        if record.stack_info:
            line += " stack=" + record.stack_info
        return line.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


class _ResumebekHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler setup_logging installed, so a second call replaces it."""


def setup_logging(
    settings: Settings,
    *,
    stream: IO[str] | None = None,
    third_party: tuple[str, ...] = THIRD_PARTY_LOGGERS,
) -> logging.Handler:
    """Install the one handler on the root logger (idempotent) and return it."""
    return configure_logging(
        level=settings.log_level,
        log_format=settings.log_format,
        stream=stream,
        third_party=third_party,
    )


def configure_logging(
    *,
    level: str,
    log_format: Literal["text", "json"],
    stream: IO[str] | None = None,
    third_party: tuple[str, ...] = THIRD_PARTY_LOGGERS,
) -> logging.Handler:
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ResumebekHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _ResumebekHandler(stream if stream is not None else sys.stderr)
    formatters: Mapping[str, Callable[[], logging.Formatter]] = {
        "json": JsonFormatter,
        "text": TextFormatter,
    }
    handler.setFormatter(formatters[log_format]())
    handler.addFilter(RedactingFilter())
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("resumebek").setLevel(level)
    logging.getLogger("services").setLevel(level)
    numeric = logging.getLevelName(level)
    capped = max(numeric, logging.WARNING) if isinstance(numeric, int) else logging.WARNING
    for name in third_party:
        logging.getLogger(name).setLevel(capped)
    return handler
