"""The composition root passes every supervisor.toml option of an actor on to that actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from resumebek import app
from resumebek.actors import extractor, followup
from resumebek.config import DEFAULT_SUPERVISOR_TOML, load_settings, parse_supervisor_toml
from resumebek.domain.texts import t
from resumebek.messages import ChatRef, IncomingMessage, Update, UserRef
from resumebek.runtime.mailbox import Mailbox
from services.llm import OpenAIReviewer
from services.ports import Classifier, Extraction
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
    async def extract(
        self,
        data: bytes,
        *,
        name_hint: str,
        mime_type: str | None,
        classifier: Classifier | None = None,
    ) -> Extraction:
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


async def test_open_services_closes_the_llm_client_on_exit() -> None:
    settings = load_settings({"API": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    async with app.open_services(settings, workers=1) as services:
        reviewer = services.reviewer
        assert isinstance(reviewer, OpenAIReviewer)
        client = reviewer._client  # what the exit must close
        assert not client.is_closed()
    assert client.is_closed()


class _UnreachableTelegram(FakeTelegram):
    """A gateway that cannot connect: start() fails after a while, or hangs."""

    def __init__(self, clock: FakeClock, *, hang: bool) -> None:
        super().__init__(clock)
        self.hang = hang
        self.attempts = 0
        self.stops = 0

    async def start(self, on_update: Callable[[Update], Awaitable[None]]) -> None:
        self.attempts += 1
        if self.hang:
            await anyio.sleep_forever()
        raise KeyError(0)  # what pyrogram raises when no answer comes

    async def stop(self) -> None:
        self.stops += 1


@pytest.mark.parametrize("hang", [True, False])
async def test_an_unreachable_telegram_neither_restarts_nor_holds_the_shutdown(
    tmp_path: Path, hang: bool, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    clock = FakeClock()  # never advanced: a backoff lasts until shutdown cuts it short
    gateway = _UnreachableTelegram(clock, hang=hang)
    config = replace(
        parse_supervisor_toml(DEFAULT_SUPERVISOR_TOML),
        backoff_initial_s=30.0,
        backoff_max_s=30.0,
        shutdown_timeout_s=30.0,
    )
    tree = app.build_tree(
        settings,
        gateway=gateway,
        services=app.Services(extractor=_NoExtractor(), reviewer=None),
        clock=clock,
        config=config,
        handle_signals=False,
        control=False,
        http=False,
    )
    sup = tree.supervisor
    codes: list[int] = []

    async def run() -> None:
        codes.append(await sup.run())

    with anyio.fail_after(5):  # the whole shutdown: far below shutdown_timeout_s
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await sup.wait_state("telegram", ["running" if hang else "backoff"], 4)
            sup.request_shutdown()
    assert codes == [0]
    assert gateway.attempts == 1
    assert "actor.shutdown_timeout" not in caplog.text
    assert {s.name: s.state for s in sup.status()} == {
        "analytics": "stopped",
        "followup": "stopped",
        "outbox": "stopped",
        "analyzer": "stopped",
        "extractor": "stopped",
        "ingress": "stopped",
        "telegram": "stopped",
    }


def test_giving_up_ends_with_a_line_naming_the_failed_actor() -> None:
    from resumebek.commands.run import gave_up_summary
    from resumebek.runtime.supervisor import ActorStatus

    def row(name: str, state: Any, last_error: str | None) -> ActorStatus:
        return ActorStatus(
            name=name,
            kind="service",
            restart="permanent",
            state=state,
            restarts=5,
            depth=0,
            in_flight=0,
            high_water=0,
            processed=0,
            dropped=0,
            dead_letters=0,
            last_error=last_error,
        )

    line = gave_up_summary([row("outbox", "stopped", None), row("telegram", "failed", "KeyError")])
    assert line is not None
    assert "telegram (KeyError)" in line and "telegram.start_failed" in line
    assert "outbox" not in line
    assert gave_up_summary([row("outbox", "stopped", None)]) is None


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
