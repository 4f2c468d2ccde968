from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = (
    ROOT.parent / "shared"
)  # present in the developers' workspace and CI, not in a user's clone


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"  # pyrogram is asyncio-only


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test cleanly when ../shared is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is not here (a user's clone)")
    return path


def resumebek_env(**extra: str) -> dict[str, str]:
    """Environment for a `python -m resumebek` subprocess that imports this checkout,
    with no LLM or Telegram keys leaking in from the developer's shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"API", "OPENAI_API_KEY", "OPENAI_BASE_URL", "BOT_TOKEN", "API_ID", "API_HASH"}
    }
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


PYTHON = sys.executable
