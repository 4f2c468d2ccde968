"""`resumebek ctl status [--json] | restart NAME | stop NAME | start NAME`.

Talks to the running process over DATA_DIR/control.sock. Exit codes: 0 done, 1 the
process answered with a failure, 2 bad usage, unknown actor, or no running process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from resumebek.config import load_settings
from resumebek.errors import ConfigError, ControlUnavailable
from resumebek.runtime.control import control_socket_path, request

_COLUMNS = (
    ("actor", "name"),
    ("state", "state"),
    ("restarts", "restarts"),
    ("depth", "depth"),
    ("processed", "processed"),
    ("dead letters", "dead_letters"),
    ("last error", "last_error"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="state and counters of every actor")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    for action, text in (
        ("restart", "restart one actor; its mailbox and the other actors are untouched"),
        ("stop", "stop one actor; its mailbox keeps queueing until `start`"),
        ("start", "start a stopped or failed actor"),
    ):
        p = actions.add_parser(action, help=text, description=text)
        p.add_argument("name", metavar="NAME", help="actor name, as in `ctl status`")


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"resumebek ctl: {exc}", file=sys.stderr)
        return 2
    path = control_socket_path(settings.data_dir)
    payload: dict[str, Any] = {"cmd": args.action}
    if args.action != "status":
        payload["actor"] = args.name
    try:
        answer = request(path, payload)
    except ControlUnavailable as exc:
        print(f"resumebek ctl: {exc}", file=sys.stderr)
        return 2
    if not answer.get("ok"):
        print(f"resumebek ctl: {answer.get('error', 'failed')}", file=sys.stderr)
        return 2 if answer.get("code") in ("unknown_actor", "bad_request") else 1
    if args.action == "status":
        actors = answer.get("actors", [])
        if args.json:
            print(json.dumps(actors, indent=2))
        else:
            print(format_table(actors))
        return 0
    actor = answer.get("actor", {})
    state = actor.get("state", "?")
    print(f"{args.name}: {state} (restarts {actor.get('restarts', '?')})")
    wanted = {"restart": "running", "start": "running", "stop": "stopped"}[args.action]
    return 0 if state == wanted else 1


def format_table(actors: Sequence[dict[str, Any]]) -> str:
    rows = [[h for h, _ in _COLUMNS]]
    for actor in actors:
        rows.append(["-" if actor.get(k) is None else str(actor.get(k)) for _, k in _COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
