"""`resumebek analyze`: not built yet."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    print("resumebek analyze: not built yet", file=sys.stderr)
    return 2
