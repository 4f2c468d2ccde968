"""`resumebek run`: the Telegram bot (needs BOT_TOKEN, API_ID and API_HASH)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from resumebek.config import Settings, SupervisorConfig, load_settings, load_supervisor_config
from resumebek.errors import AlreadyRunning, ConfigError
from resumebek.logs import setup_logging

if TYPE_CHECKING:
    from resumebek.runtime.supervisor import ActorStatus


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(os.environ)
        config = load_supervisor_config(settings)
    except ConfigError as exc:
        print(f"resumebek run: {exc}", file=sys.stderr)
        return 2
    missing = settings.telegram_missing()
    if missing:
        print(
            f"resumebek run: missing {', '.join(missing)} (see .env.example: BOT_TOKEN from "
            "@BotFather, API_ID and API_HASH from my.telegram.org).\n"
            "Without Telegram: `resumebek chat` runs the whole bot on this console, and "
            "`resumebek analyze FILE` reviews one resume.",
            file=sys.stderr,
        )
        return 2
    setup_logging(settings)
    try:
        return anyio.run(_main, settings, config, backend="asyncio")
    except AlreadyRunning:
        print(
            f"resumebek run: another bot is already running with DATA_DIR={settings.data_dir}",
            file=sys.stderr,
        )
        return 1
    except ConfigError as exc:
        print(f"resumebek run: {exc}", file=sys.stderr)
        return 2


async def _main(settings: Settings, config: SupervisorConfig) -> int:
    from resumebek.app import build_tree, extractor_workers, open_services
    from resumebek.runtime.clock import SystemClock
    from services.telegram import PyrogramGateway

    clock = SystemClock()
    gateway = PyrogramGateway(settings, clock=clock)
    async with open_services(settings, workers=extractor_workers(settings, config)) as services:
        tree = build_tree(settings, gateway=gateway, services=services, clock=clock, config=config)
        code = await tree.supervisor.run()
    summary = gave_up_summary(tree.supervisor.status()) if code else None
    if summary:
        print(summary, file=sys.stderr)
    return code


def gave_up_summary(statuses: Sequence[ActorStatus]) -> str | None:
    """The last line when the tree gave up: which actor kept failing, with what, and where
    to look (class names only, like the log)."""
    failed = [s for s in statuses if s.state == "failed"]
    if not failed:
        return None
    names = ", ".join(f"{s.name} ({s.last_error or 'unknown'})" for s in failed)
    hint = ""
    if any(s.name == "telegram" for s in failed):
        hint = " Telegram never connected: see telegram.start_failed above."
    return f"resumebek run: gave up, kept failing: {names}; exit 1.{hint}"
