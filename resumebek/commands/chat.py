"""`resumebek chat`: the whole bot on this console instead of Telegram.

Same actor tree, data dir, analytics, follow-ups and control socket as `run`. stdin lines:
`/send PATH` (a document), `/paste PATH` (its text as a message), `/as N` (switch user),
`/press DATA` (press an inline button), other `/...` commands, anything else text.
At end of input it waits for the replies still being prepared and exits 0; with
--keep-running it stays up (follow-ups keep firing) until SIGTERM/SIGINT. The HTTP
endpoint runs only when HTTP_ENABLED=true is set explicitly.
"""

from __future__ import annotations

import argparse
import os
import sys

import anyio

from resumebek.config import Settings, SupervisorConfig, load_settings, load_supervisor_config
from resumebek.errors import AlreadyRunning, ConfigError
from resumebek.logs import setup_logging
from resumebek.messages import LANGUAGES

CONSOLE_COMMANDS = """\
what to type (one line each):
  /send PATH       send a document (PDF, DOCX, TXT ...) as the current user
  /paste PATH      send the text of a file as a message
  /as N            switch to Telegram user N (a new chat)
  /press DATA      press an inline button (its data is printed with the message)
  /start /help /language /privacy /stop /delete /stats
                   the bot's own commands
  anything else    a text message
End of input (Ctrl-D) waits for the replies still being prepared, then exits 0."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = CONSOLE_COMMANDS
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--user-id", type=int, default=1000, help="the Telegram user to play")
    parser.add_argument(
        "--lang", choices=LANGUAGES, default=None, help="that user's Telegram client language"
    )
    parser.add_argument(
        "--jsonl", action="store_true", help="print one JSON object per outgoing action"
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="stay up after end of input (follow-ups keep firing) until SIGTERM/SIGINT",
    )


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(os.environ)
        config = load_supervisor_config(settings)
    except ConfigError as exc:
        print(f"resumebek chat: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings)
    if not settings.llm_enabled:
        print(
            "resumebek chat: no API/OPENAI_API_KEY set, the rule-based reviewer answers",
            file=sys.stderr,
        )
    try:
        return anyio.run(_main, settings, config, args, backend="asyncio")
    except AlreadyRunning:
        print(
            f"resumebek chat: another bot is already running with DATA_DIR={settings.data_dir}",
            file=sys.stderr,
        )
        return 1
    except ConfigError as exc:
        print(f"resumebek chat: {exc}", file=sys.stderr)
        return 2


async def _main(settings: Settings, config: SupervisorConfig, args: argparse.Namespace) -> int:
    from resumebek.app import Tree, build_tree, extractor_workers, open_services
    from resumebek.runtime.clock import SystemClock
    from services.console import ConsoleGateway, LineReader

    clock = SystemClock()
    gateway = ConsoleGateway(
        clock=clock, jsonl=args.jsonl, user_id=args.user_id, language_code=args.lang
    )
    tree: Tree | None = None
    stdin = LineReader(sys.stdin.fileno(), encoding=sys.stdin.encoding or "utf-8")

    async def console_input() -> None:
        """stdin → ingress; at end of input, wait for the tree to go quiet, then stop."""
        assert tree is not None
        while True:
            line = await stdin.readline()
            if not line:
                break
            if line.lstrip().startswith("/press"):
                await tree.wait_idle()  # like a person: press once the buttons are there
            update = gateway.parse(line)
            if update is not None:
                await tree.deliver(update)
        await tree.wait_idle()
        if not args.keep_running:
            tree.supervisor.request_shutdown()

    async with open_services(settings, workers=extractor_workers(settings, config)) as services:
        tree = build_tree(
            settings,
            gateway=gateway,
            services=services,
            clock=clock,
            config=config,
            # a console session does not take port 8080 unless asked to (HTTP_ENABLED=true)
            http=settings.http_enabled and "HTTP_ENABLED" in os.environ,
            extra_children=(("console", console_input),),
        )
        return await tree.supervisor.run()
