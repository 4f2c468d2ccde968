from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest

from resumebek.config import Settings, load_settings
from resumebek.logs import THIRD_PARTY_LOGGERS, configure_logging, redact, setup_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {n: logging.getLogger(n).level for n in (*THIRD_PARTY_LOGGERS, "resumebek")}
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    for name, lvl in levels.items():
        logging.getLogger(name).setLevel(lvl)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_lines_carry_actor_event_trace_and_fields() -> None:
    out = io.StringIO()
    setup_logging(load_settings({"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}), stream=out)
    log = logging.getLogger("resumebek.actors.analyzer")
    log.info("analysis.done trace=%s lang=%s ms=%d outcome=%s", "ab" * 16, "kk", 1234, "ok")
    log.debug("queue.note", extra={"trace": "t1", "depth": 3})
    log.info('supervisor.signal signal=%d: shutting down, left=%d, note="two words"', 15, 2)
    first, second, third = (orjson.loads(line) for line in _lines(out))
    assert first["actor"] == "analyzer" and first["event"] == "analysis.done"
    assert first["trace"] == "ab" * 16
    assert first["lang"] == "kk" and first["ms"] == 1234 and first["outcome"] == "ok"
    assert first["level"] == "INFO" and first["ts"].endswith("Z")
    assert second == {
        **{k: second[k] for k in ("ts", "logger", "msg")},
        "level": "DEBUG",
        "actor": "analyzer",
        "event": "queue.note",
        "trace": "t1",
        "depth": 3,
    }
    assert (third["signal"], third["left"], third["note"]) == (15, 2, "two words")


def test_fields_never_overwrite_the_event_or_the_line_keys() -> None:
    out = io.StringIO()
    configure_logging(level="INFO", log_format="json", stream=out)
    logging.getLogger("resumebek.actors.analytics").warning(
        "analytics.invalid event=resume_analyzed level=3 msg=x ts=1"
    )
    (line,) = (orjson.loads(raw) for raw in _lines(out))
    assert line["event"] == "analytics.invalid" and line["event_"] == "resume_analyzed"
    assert line["level"] == "WARNING" and line["level_"] == 3
    assert line["ts"].endswith("Z") and line["ts_"] == 1
    assert line["msg"].startswith("analytics.invalid")


def test_extra_actor_wins_and_other_loggers_have_none() -> None:
    out = io.StringIO()
    configure_logging(level="INFO", log_format="json", stream=out)
    logging.getLogger("resumebek.app").info("tree.started", extra={"actor": "supervisor"})
    logging.getLogger("resumebek.app").info("Plain words with no event")
    tagged, plain = (orjson.loads(line) for line in _lines(out))
    assert tagged["actor"] == "supervisor"
    assert "actor" not in plain and "event" not in plain
    assert plain["msg"] == "Plain words with no event"


def test_text_format_is_one_line_even_with_a_traceback() -> None:
    out = io.StringIO()
    configure_logging(level="INFO", log_format="text", stream=out)
    log = logging.getLogger("resumebek.runtime.supervisor")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.exception("actor.crashed actor=%s kind=%s", "analyzer", "ValueError")
    (line,) = _lines(out)
    assert " ERROR " in line and " analyzer " in line  # actor= in the message names the actor
    assert "actor.crashed actor=analyzer kind=ValueError" in line
    assert "Traceback" in line and "\\n" in line


def test_json_exceptions_keep_type_and_traceback() -> None:
    out = io.StringIO()
    configure_logging(level="INFO", log_format="json", stream=out)
    try:
        raise KeyError("x")
    except KeyError:
        logging.getLogger("resumebek.actors.outbox").exception("send.failed trace=t")
    (record,) = (orjson.loads(line) for line in _lines(out))
    assert record["exc_type"] == "KeyError" and "Traceback" in record["exc"]


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_third_party_loggers_are_capped_at_warning(level: str) -> None:
    out = io.StringIO()
    configure_logging(level=level, log_format="text", stream=out)
    for name in ("pyrogram", "openai", "httpx", "httpx2", "httpcore", "uvicorn.error"):
        logging.getLogger(name).info("GET https://api.example/secret-path %s", name)
        logging.getLogger(f"{name}.sub").debug("body dump")
        logging.getLogger(name).warning("%s warned", name)
    logging.getLogger("resumebek.actors.x").debug("own.debug")
    text = out.getvalue()
    assert "secret-path" not in text and "body dump" not in text
    assert text.count("warned") == 6
    assert ("own.debug" in text) == (level == "DEBUG")


def test_error_level_silences_warnings_everywhere() -> None:
    out = io.StringIO()
    configure_logging(level="ERROR", log_format="text", stream=out)
    logging.getLogger("pyrogram").warning("flood")
    logging.getLogger("resumebek").warning("ours")
    assert out.getvalue() == ""


def test_setup_twice_keeps_a_single_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging(Settings(), stream=first)
    setup_logging(Settings(), stream=second)
    logging.getLogger("resumebek").info("once")
    assert first.getvalue() == "" and second.getvalue().count("once") == 1


@pytest.mark.parametrize(
    ("raw", "hidden"),
    [
        ("mail dinara.zh+cv@mail.example.kz now", "dinara.zh+cv@mail.example.kz"),
        ("call +7 (701) 555-12-34", "555-12-34"),
        ("call 8 701 555 12 34", "701 555 12 34"),
        ("call 87015551234", "87015551234"),
        ("uk +44 20 7946 0958", "7946 0958"),
        ("iin 990101450123", "990101450123"),
        ("from 987654321 in -1001234567890", "987654321"),
        ("from 987654321 in -1001234567890", "1001234567890"),
        ("user=42 chat=-7", "=42"),
        ("user_id=123456", "123456"),
    ],
)
def test_redaction_masks_personal_numbers(raw: str, hidden: str) -> None:
    assert hidden not in redact(raw)


@pytest.mark.parametrize(
    "kept",
    [
        "analysis.done trace=3f2a9c1e0b4d4e6f8a7b6c5d4e3f2a1b ms=1234 lang=kk",
        "day=2026-12-03 at 16:45:01 size=12345678 tokens=18000000",
        "score=7 pages=2 port=8080 latency 0.123456789012",
    ],
)
def test_redaction_keeps_ordinary_log_content(kept: str) -> None:
    assert redact(kept) == kept


def test_the_filter_redacts_messages_args_and_tracebacks_of_any_logger() -> None:
    out = io.StringIO()
    configure_logging(level="DEBUG", log_format="json", stream=out)
    logging.getLogger("pyrogram.session").warning("peer %s email %s", 5551234567, "a@b.kz")
    try:
        raise RuntimeError("user 987654321 wrote +77015551234")
    except RuntimeError:
        logging.getLogger("resumebek.actors.ingress").exception("update.failed")
    logging.getLogger("resumebek.actors.outbox").info(
        "send.done", extra={"peer": 1234567890, "to": "x@y.kz", "size": 12345678, "ms": 5}
    )
    text = out.getvalue()
    for secret in ("5551234567", "a@b.kz", "987654321", "77015551234", "1234567890", "x@y.kz"):
        assert secret not in text
    assert text.count("\n") == 3
    last = orjson.loads(text.splitlines()[-1])
    assert (last["peer"], last["size"], last["ms"]) == ("<id>", 12345678, 5)
