from __future__ import annotations

import sys

from resumebek.cli import main

if __name__ == "__main__":  # worker processes import __main__: keep the guard
    sys.exit(main())
