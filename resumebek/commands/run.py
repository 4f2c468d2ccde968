"""`resumebek run`: the Telegram bot (needs BOT_TOKEN, API_ID and API_HASH)."""

from __future__ import annotations

import argparse
import os
import sys

import anyio

from resumebek.config import Settings, SupervisorConfig, load_settings, load_supervisor_config
from resumebek.errors import AlreadyRunning, ConfigError
from resumebek.logs import setup_logging


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
        return await tree.supervisor.run()
