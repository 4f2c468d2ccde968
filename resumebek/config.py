"""One typed Settings object from the environment, and the supervisor.toml model.

`env` is always a parameter (tests never patch os.environ). Every problem raises a
ConfigError naming the variable or the toml key, so start-up fails with one clear line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from resumebek.domain.texts import as_language
from resumebek.errors import ConfigError
from resumebek.messages import Language

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret value: repr() and str() show `Secret('***')`, never the value."""

    _value: str = field(repr=False)

    def reveal(self) -> str:  # call it only where the value is used
        return self._value

    def __str__(self) -> str:
        return "Secret('***')"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __bool__(self) -> bool:
        return bool(self._value)


# ---------------------------------------------------------------- parsers


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str) -> float:
    """Seconds from `90`, `90s`, `15m`, `24h`, `2d`, `500ms`."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError("expected seconds or a duration like 90s, 15m, 24h")
    unit = m.group(2).lower() if m.group(2) else None
    return float(m.group(1)) * _UNIT_S[unit]


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def parse_quiet_hours(text: str) -> tuple[int, int] | None:
    """`21-10` → (21, 10): no messages from 21:00 to 10:00 local time; `off` → None."""
    low = text.strip().lower()
    if low in {"off", "none", ""}:
        return None
    m = re.fullmatch(r"(\d{1,2})\s*-\s*(\d{1,2})", low)
    if not m:
        raise ValueError("expected START-END hours like 21-10, or off")
    start, end = int(m.group(1)), int(m.group(2))
    if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
        raise ValueError("hours must be 0-23 and differ")
    return start, end


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("expected a whole number") from None


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("expected a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("expected a finite number")
    return value


def _percent(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= 100:
        raise ValueError("expected 0-100 (a resume confidence)")
    return value


def _positive(kind: Callable[[str], T]) -> Callable[[str], T]:
    def parse(text: str) -> T:
        value = kind(text)
        if not value > 0:  # type: ignore[operator]
            raise ValueError("must be greater than 0")
        return value

    return parse


def _url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("expected an http(s) URL")
    return text.strip()


def _int_list(text: str) -> tuple[int, ...]:
    return tuple(_int(p) for p in re.split(r"[,\s]+", text.strip()) if p)


def _language(text: str) -> Language:
    lang = as_language(text.strip().lower())
    if lang is None:
        raise ValueError("expected kk, ru or en")
    return lang


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone") from exc
    return text


# ---------------------------------------------------------------- Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    # Telegram (needed by `resumebek run` only)
    bot_token: Secret = Secret("")
    api_id: int | None = None
    api_hash: Secret = Secret("")
    admin_chat_ids: tuple[int, ...] = ()
    # LLM (without a key the rule-based reviewer answers)
    openai_key: Secret = Secret("")
    openai_base_url: str | None = None
    models: tuple[str, ...] = ("gpt-4o-mini",)
    llm_response_format: Literal["json_schema", "json_object"] = "json_schema"
    llm_timeout_s: float = 60.0
    llm_concurrency: int = 8
    llm_max_attempts: int = 3
    pass_history: bool = False  # the original bot's flag; reviews are stateless here
    # product
    ai_photos_url: str = "https://t.me/resumebek_photo_bot"
    public_base_url: str | None = None
    resume_threshold: int = 40
    user_daily_limit: int = 10
    max_file_mb: float = 10.0
    max_pages: int = 10
    extract_timeout_s: float = 30.0
    extract_workers: int | None = None  # EXTRACT_WORKERS; unset: supervisor.toml, else 2
    extract_memory_mb: int = 768
    # follow-ups
    follow_up: bool = True
    follow_up_delay_s: float = 24 * 3600.0
    follow_up_max_late_s: float = 72 * 3600.0
    quiet_hours: tuple[int, int] | None = (21, 10)
    timezone: str = "Asia/Almaty"
    # storage and analytics
    data_dir: Path = Path("data")
    analytics_retention_days: int = 30
    analytics_salt: Secret = Secret("")
    # operations
    bot_mode: Literal["production", "development"] = "development"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    http_enabled: bool = True
    supervisor_config: Path | None = None
    default_language: Language = "en"

    @property
    def model(self) -> str:
        return self.models[0]

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_key)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def telegram_missing(self) -> list[str]:
        """Names of the variables `resumebek run` needs and does not have."""
        missing = []
        if not self.bot_token:
            missing.append("BOT_TOKEN")
        if self.api_id is None:
            missing.append("API_ID")
        if not self.api_hash:
            missing.append("API_HASH")
        return missing


def _get(
    env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T, *aliases: str
) -> T:
    for key in (name, *aliases):
        raw = env.get(key)
        if raw is not None and raw.strip() != "":
            try:
                return parse(raw.strip())
            except (ValueError, TypeError) as exc:
                raise ConfigError(key, str(exc) or "malformed value") from None
    return default


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        low = text.strip().lower()
        if low not in allowed:
            raise ValueError("expected one of " + ", ".join(allowed))
        return low

    return parse


def _response_format(text: str) -> Literal["json_schema", "json_object"]:
    low = text.strip().lower()
    if low == "json_schema":
        return "json_schema"
    if low == "json_object":
        return "json_object"
    raise ValueError("expected json_schema or json_object")


def _log_format(text: str) -> Literal["text", "json"]:
    low = text.strip().lower()
    if low == "text":
        return "text"
    if low == "json":
        return "json"
    raise ValueError("expected text or json")


def _bot_token(text: str) -> Secret:
    if not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", text):
        raise ValueError("expected a token like 123456:ABC... from @BotFather")
    return Secret(text)


def _api_hash(text: str) -> Secret:
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raise ValueError("expected 32 hex characters from my.telegram.org")
    return Secret(text)


def _log_level(text: str) -> str:
    up = text.upper()
    if up not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return up


def _port(text: str) -> int:
    port = _int(text)
    if not 0 <= port <= 65535:
        raise ValueError("expected a port 0-65535")
    return port


def _models(text: str) -> tuple[str, ...]:
    models = tuple(m.strip() for m in text.split(",") if m.strip())
    if not models:
        raise ValueError("expected a comma-separated list of model names")
    return models


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read every variable (DESIGN.md §4, .env.example); raise ConfigError on the first bad one."""
    d = Settings()
    mode: str = _get(
        env, "BOT_MODE", _choice("production", "development", "prod", "dev"), "development"
    )
    bot_mode: Literal["production", "development"] = (
        "production" if mode in {"production", "prod"} else "development"
    )
    settings = Settings(
        bot_token=_get(env, "BOT_TOKEN", _bot_token, d.bot_token),
        api_id=_get(env, "API_ID", _positive(_int), d.api_id),
        api_hash=_get(env, "API_HASH", _api_hash, d.api_hash),
        admin_chat_ids=_get(env, "ADMIN_CHAT_ID", _int_list, d.admin_chat_ids),
        openai_key=_get(env, "API", Secret, d.openai_key, "OPENAI_API_KEY"),
        openai_base_url=_get(env, "OPENAI_BASE_URL", _url, d.openai_base_url),
        models=_get(env, "CUSTOM_MODELS", _models, d.models),
        llm_response_format=_get(
            env, "LLM_RESPONSE_FORMAT", _response_format, d.llm_response_format
        ),
        llm_timeout_s=_get(env, "LLM_TIMEOUT", _positive(parse_duration), d.llm_timeout_s),
        llm_concurrency=_get(env, "LLM_CONCURRENCY", _positive(_int), d.llm_concurrency),
        llm_max_attempts=_get(env, "LLM_MAX_ATTEMPTS", _positive(_int), d.llm_max_attempts),
        pass_history=_get(env, "PASS_HISTORY", parse_bool, d.pass_history),
        ai_photos_url=_get(env, "AI_PHOTOS_URL", _url, d.ai_photos_url),
        public_base_url=_get(env, "PUBLIC_BASE_URL", _url, d.public_base_url),
        resume_threshold=_get(env, "RESUME_THRESHOLD", _percent, d.resume_threshold),
        user_daily_limit=_get(env, "USER_DAILY_LIMIT", _positive(_int), d.user_daily_limit),
        max_file_mb=_get(env, "MAX_FILE_MB", _positive(_float), d.max_file_mb),
        max_pages=_get(env, "MAX_PAGES", _positive(_int), d.max_pages),
        extract_timeout_s=_get(
            env, "EXTRACT_TIMEOUT", _positive(parse_duration), d.extract_timeout_s
        ),
        extract_workers=_get(env, "EXTRACT_WORKERS", _positive(_int), d.extract_workers),
        extract_memory_mb=_get(env, "EXTRACT_MEMORY_MB", _positive(_int), d.extract_memory_mb),
        follow_up=_get(env, "FOLLOW_UP", parse_bool, d.follow_up),
        follow_up_delay_s=_get(
            env, "FOLLOW_UP_DELAY", _positive(parse_duration), d.follow_up_delay_s
        ),
        follow_up_max_late_s=_get(
            env, "FOLLOW_UP_MAX_LATE", _positive(parse_duration), d.follow_up_max_late_s
        ),
        quiet_hours=_get(env, "QUIET_HOURS", parse_quiet_hours, d.quiet_hours),
        timezone=_get(env, "TIMEZONE", _zone, d.timezone),
        data_dir=_get(env, "DATA_DIR", Path, d.data_dir),
        analytics_retention_days=_get(
            env, "ANALYTICS_RETENTION_DAYS", _positive(_int), d.analytics_retention_days
        ),
        analytics_salt=_get(env, "ANALYTICS_SALT", Secret, d.analytics_salt),
        bot_mode=bot_mode,
        log_level=_get(env, "LOG_LEVEL", _log_level, d.log_level),
        log_format=_get(env, "LOG_FORMAT", _log_format, d.log_format),
        http_host=_get(env, "HTTP_HOST", str, d.http_host),
        http_port=_get(env, "HTTP_PORT", _port, d.http_port),
        http_enabled=_get(env, "HTTP_ENABLED", parse_bool, d.http_enabled),
        supervisor_config=_get(env, "SUPERVISOR_CONFIG", Path, d.supervisor_config),
        default_language=_get(env, "DEFAULT_LANGUAGE", _language, d.default_language),
    )
    if settings.bot_mode == "production" and len(settings.analytics_salt.reveal()) < 16:
        raise ConfigError("ANALYTICS_SALT", "required in production (at least 16 characters)")
    return settings


# ---------------------------------------------------------------- supervisor.toml

RestartType = Literal["permanent", "transient", "temporary"]

# Each actor's own limits: name → (type, default). Unknown keys are errors.
ACTOR_OPTIONS: dict[str, dict[str, type]] = {
    "analytics": {"flush_interval_s": float, "batch_max": int},
    "followup": {"snapshot_debounce_s": float, "max_in_flight": int},
    "outbox": {"per_chat_per_s": float, "global_per_s": float, "concurrency": int},
    "analyzer": {"concurrency": int},
    "extractor": {"workers": int, "queue_note_after": int},
    "ingress": {"dedup_window": int},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorPolicy:
    name: str
    restart: RestartType = "permanent"
    mailbox: int = 1000
    options: Mapping[str, float | int | str | bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorConfig:
    max_restarts: int = 5
    within_seconds: float = 60.0
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 5.0
    shutdown_timeout_s: float = 20.0
    actors: tuple[ActorPolicy, ...] = ()  # in start order

    def actor(self, name: str) -> ActorPolicy:
        for policy in self.actors:
            if policy.name == name:
                return policy
        return ActorPolicy(name=name)


def _toml_number(table: Mapping[str, object], key: str, where: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}.{key}", "expected a non-negative number")
    return float(value)


def parse_supervisor_toml(text: str) -> SupervisorConfig:
    """Parse supervisor.toml; a bad file raises ConfigError naming the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("supervisor.toml", f"not valid TOML ({exc})") from None
    known_top = {"supervisor", "actors"}
    for key in data:
        if key not in known_top:
            raise ConfigError(key, "unknown table in supervisor.toml")
    sup = data.get("supervisor", {})
    if not isinstance(sup, dict):
        raise ConfigError("supervisor", "expected a table")
    d = SupervisorConfig()
    known_sup = {
        "max_restarts",
        "within_seconds",
        "backoff_initial",
        "backoff_max",
        "shutdown_timeout",
    }
    for key in sup:
        if key not in known_sup:
            raise ConfigError(f"supervisor.{key}", "unknown key")
    max_restarts = sup.get("max_restarts", d.max_restarts)
    if isinstance(max_restarts, bool) or not isinstance(max_restarts, int) or max_restarts < 0:
        raise ConfigError("supervisor.max_restarts", "expected a non-negative integer")
    actors_table = data.get("actors", {})
    if not isinstance(actors_table, dict):
        raise ConfigError("actors", "expected tables [actors.NAME]")
    actors: list[ActorPolicy] = []
    for name, table in actors_table.items():
        where = f"actors.{name}"
        if not isinstance(table, dict):
            raise ConfigError(where, "expected a table")
        restart = table.get("restart", "permanent")
        if restart not in ("permanent", "transient", "temporary"):
            raise ConfigError(f"{where}.restart", "expected permanent, transient or temporary")
        mailbox = table.get("mailbox", 1000)
        if isinstance(mailbox, bool) or not isinstance(mailbox, int) or mailbox < 1:
            raise ConfigError(f"{where}.mailbox", "expected a positive integer")
        allowed = ACTOR_OPTIONS.get(name, {})
        options: dict[str, float | int | str | bool] = {}
        for key, value in table.items():
            if key in ("restart", "mailbox"):
                continue
            if key not in allowed:
                raise ConfigError(f"{where}.{key}", "unknown key")
            kind = allowed[key]
            ok = (
                isinstance(value, int | float) and not isinstance(value, bool) and value > 0
                if kind in (int, float)
                else isinstance(value, kind)
            )
            if kind is int and not isinstance(value, int):
                ok = False
            if not ok:
                raise ConfigError(f"{where}.{key}", f"expected a positive {kind.__name__}")
            options[key] = value
        actors.append(ActorPolicy(name=name, restart=restart, mailbox=mailbox, options=options))
    return SupervisorConfig(
        max_restarts=max_restarts,
        within_seconds=_toml_number(sup, "within_seconds", "supervisor", d.within_seconds),
        backoff_initial_s=_toml_number(sup, "backoff_initial", "supervisor", d.backoff_initial_s),
        backoff_max_s=_toml_number(sup, "backoff_max", "supervisor", d.backoff_max_s),
        shutdown_timeout_s=_toml_number(
            sup, "shutdown_timeout", "supervisor", d.shutdown_timeout_s
        ),
        actors=tuple(actors),
    )


def find_supervisor_toml(settings: Settings, cwd: Path | None = None) -> Path | None:
    """SUPERVISOR_CONFIG, else ./supervisor.toml, else the one beside the package (a checkout)."""
    if settings.supervisor_config is not None:
        if not settings.supervisor_config.is_file():
            raise ConfigError("SUPERVISOR_CONFIG", "file not found")
        return settings.supervisor_config
    for candidate in (
        (cwd or Path.cwd()) / "supervisor.toml",
        Path(__file__).resolve().parent.parent / "supervisor.toml",
    ):
        if candidate.is_file():
            return candidate
    return None


def load_supervisor_config(settings: Settings, cwd: Path | None = None) -> SupervisorConfig:
    path = find_supervisor_toml(settings, cwd)
    if path is None:
        return parse_supervisor_toml(DEFAULT_SUPERVISOR_TOML)
    return parse_supervisor_toml(path.read_text(encoding="utf-8"))


# Used when no supervisor.toml is found (an installed wheel run outside a checkout).
# tests/test_config.py checks that the repository's supervisor.toml parses to the same.
DEFAULT_SUPERVISOR_TOML = """
[supervisor]
max_restarts = 5
within_seconds = 60
backoff_initial = 0.1
backoff_max = 5.0
shutdown_timeout = 20

[actors.analytics]
restart = "permanent"
mailbox = 20000
flush_interval_s = 0.2
batch_max = 512

[actors.followup]
restart = "permanent"
mailbox = 2000
snapshot_debounce_s = 1.0
max_in_flight = 1

[actors.outbox]
restart = "permanent"
mailbox = 5000
per_chat_per_s = 1.0
global_per_s = 25.0
concurrency = 16

[actors.analyzer]
restart = "permanent"
mailbox = 2000
concurrency = 32

[actors.extractor]
restart = "permanent"
mailbox = 2000
workers = 2
queue_note_after = 5

[actors.ingress]
restart = "permanent"
mailbox = 2000
dedup_window = 10000
"""
