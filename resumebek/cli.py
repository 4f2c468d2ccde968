"""`resumebek run | chat | analyze | inspect | stats | export | report | ctl`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from resumebek import __version__

COMMANDS: dict[str, str] = {
    "run": "run the Telegram bot (needs BOT_TOKEN, API_ID, API_HASH)",
    "chat": "the whole bot on this console instead of Telegram",
    "analyze": "review one resume file and print what the user would read",
    "inspect": "extract text and detect resume/language for files",
    "stats": "analytics for a day, a week or a range",
    "export": "export daily aggregates or raw analytics events",
    "report": "a self-contained HTML analytics report",
    "ctl": "control a running bot: status, restart/stop/start an actor",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resumebek",
        description="Resumebek: resume reviews in Kazakh, Russian and English.",
    )
    parser.add_argument("--version", action="version", version=f"resumebek {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, summary in COMMANDS.items():
        module = importlib.import_module(f"resumebek.commands.{name}")
        p = sub.add_parser(name, help=summary, description=summary)
        module.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(f"resumebek.commands.{args.command}")
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `resumebek export ... | head`: the reader has what it wanted
        from resumebek.commands.stats import discard_stdout

        discard_stdout()  # Python's own flush at exit would hit the closed pipe again
        return 0


if __name__ == "__main__":
    sys.exit(main())
