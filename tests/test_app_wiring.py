"""The composition root passes every supervisor.toml option of an actor on to that actor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from resumebek import app
from resumebek.actors import extractor, followup
from resumebek.config import DEFAULT_SUPERVISOR_TOML, load_settings, parse_supervisor_toml
from resumebek.domain.texts import t
from resumebek.messages import ChatRef, IncomingMessage, UserRef
from resumebek.runtime.mailbox import Mailbox
from services.ports import Extraction
from tests.fakes import FakeClock
from tests.telegram_fakes import FakeTelegram

TOML = """
[actors.followup]
snapshot_debounce_s = 2.5
max_in_flight = 3

[actors.extractor]
workers = 3
"""


class _NoExtractor:
    async def extract(self, data: bytes, *, name_hint: str, mime_type: str | None) -> Extraction:
        raise AssertionError("not called")


async def _start_kwargs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, module: Any, actor: str
) -> dict[str, Any]:
    """Build the tree, start `actor` through its supervisor child, return its run() kwargs."""
    seen: dict[str, Any] = {}

    async def fake_run(inbox: object, **kwargs: Any) -> None:
        seen.update(kwargs)

    monkeypatch.setattr(module, "run", fake_run)
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    clock = FakeClock()
    tree = app.build_tree(
        settings,
        gateway=FakeTelegram(clock),
        services=app.Services(extractor=_NoExtractor(), reviewer=None),
        clock=clock,
        config=parse_supervisor_toml(TOML),
        handle_signals=False,
        control=False,
        http=False,
    )
    await tree.supervisor._children[actor].start()
    return seen


async def test_followup_gets_its_debounce_and_max_in_flight(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kwargs = await _start_kwargs(monkeypatch, tmp_path, followup, "followup")
    assert kwargs["debounce_s"] == 2.5
    assert kwargs["max_in_flight"] == 3


async def test_extractor_runs_twice_as_many_files_as_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kwargs = await _start_kwargs(monkeypatch, tmp_path, extractor, "extractor")
    assert kwargs["concurrency"] == 6


def test_the_shipped_config_names_the_followup_in_flight_limit() -> None:
    config = parse_supervisor_toml(DEFAULT_SUPERVISOR_TOML)
    assert config.actor("followup").options["max_in_flight"] == 1


async def test_a_dead_update_is_answered_in_default_language_like_ingress_would() -> None:
    boxes: dict[str, Mailbox[Any]] = {
        "outbox": Mailbox("outbox", 10),
        "analytics": Mailbox("analytics", 10),
    }
    handler = app.dead_letter_handler(boxes, FakeClock(), default_language="kk")
    update = IncomingMessage(
        chat=ChatRef(5),
        user=UserRef(5),
        chat_type="private",
        message_id=1,
        language_code="de",  # not one of ours: ingress answers in DEFAULT_LANGUAGE
        kind="text",
        text="hello",
        received_at=0.0,
    )
    await handler("ingress", update, "ValueError")
    reply = await boxes["outbox"].receive()
    assert reply.language == "kk" and reply.html == t("error_generic", "kk")


def test_extract_workers_from_the_environment_wins_over_supervisor_toml() -> None:
    config = parse_supervisor_toml(TOML)  # workers = 3
    assert app.extractor_workers(load_settings({}), config) == 3
    assert app.extractor_workers(load_settings({"EXTRACT_WORKERS": "5"}), config) == 5
    assert app.extractor_workers(load_settings({}), parse_supervisor_toml("")) == 2


async def test_a_request_that_crashed_twice_gives_its_quota_back() -> None:
    from resumebek.messages import Requester, RequestSettled, TextReceived

    boxes: dict[str, Mailbox[Any]] = {
        "outbox": Mailbox("outbox", 10),
        "analytics": Mailbox("analytics", 10),
        "ingress": Mailbox("ingress", 10),
    }
    handler = app.dead_letter_handler(boxes, FakeClock())
    who = Requester(chat=ChatRef(5), user=UserRef(5), ui_language="ru")
    request = TextReceived(trace="ab12", who=who, message_id=1, text="...", received_at=0.0)
    await handler("extractor", request, "ValueError")
    assert await boxes["ingress"].receive() == RequestSettled(
        trace="ab12", user=UserRef(5), reviewed=False
    )
