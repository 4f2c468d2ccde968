"""Settings from the environment and the supervisor.toml model: every bad value fails with
one ConfigError naming the variable or the key; secrets never print."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from resumebek import config
from resumebek.config import (
    DEFAULT_SUPERVISOR_TOML,
    Settings,
    load_settings,
    load_supervisor_config,
    parse_supervisor_toml,
)
from resumebek.errors import ConfigError
from tests.conftest import ROOT

GOOD_TELEGRAM = {
    "BOT_TOKEN": "123456:ABCdefGHIjklMNOpqrSTUvwxYZ_-12",
    "API_ID": "12345",
    "API_HASH": "0123456789abcdef0123456789abcdef",
}

# One malformed value per variable that has a parser which can refuse.
MALFORMED = {
    "BOT_TOKEN": "not-a-token",
    "API_ID": "twelve",
    "API_HASH": "xyz",
    "ADMIN_CHAT_ID": "12,abc",
    "OPENAI_BASE_URL": "ftp://example",
    "CUSTOM_MODELS": ", ,",
    "LLM_RESPONSE_FORMAT": "yaml",
    "LLM_TIMEOUT": "soon",
    "LLM_CONCURRENCY": "0",
    "LLM_MAX_ATTEMPTS": "-1",
    "PASS_HISTORY": "maybe",
    "AI_PHOTOS_URL": "t.me/x",
    "PUBLIC_BASE_URL": "localhost",
    "RESUME_THRESHOLD": "high",
    "USER_DAILY_LIMIT": "0",
    "MAX_FILE_MB": "-5",
    "MAX_PAGES": "ten",
    "EXTRACT_TIMEOUT": "0",
    "EXTRACT_WORKERS": "0",
    "EXTRACT_MEMORY_MB": "lots",
    "FOLLOW_UP": "sometimes",
    "FOLLOW_UP_DELAY": "tomorrow",
    "FOLLOW_UP_MAX_LATE": "0",
    "QUIET_HOURS": "25-3",
    "TIMEZONE": "Mars/Olympus",
    "ANALYTICS_RETENTION_DAYS": "0",
    "BOT_MODE": "staging",
    "LOG_LEVEL": "LOUD",
    "LOG_FORMAT": "xml",
    "HTTP_PORT": "70000",
    "HTTP_ENABLED": "perhaps",
    "DEFAULT_LANGUAGE": "de",
}


def variables_read_by_load_settings() -> set[str]:
    source = Path(config.__file__).read_text(encoding="utf-8")
    names = set(re.findall(r'_get\(\s*env,\s*"([A-Z_]+)"', source))
    names |= set(re.findall(r'_get\([^)]*?,\s*"([A-Z_]+)"\)', source))  # aliases
    return names


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.telegram_missing() == ["BOT_TOKEN", "API_ID", "API_HASH"]


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_each_malformed_variable_names_itself(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**GOOD_TELEGRAM, name: MALFORMED[name]})
    assert info.value.name == name
    assert str(info.value).startswith(f"{name}: ")
    assert "\n" not in str(info.value)  # one line


def test_every_parsed_variable_has_a_malformed_case_or_cannot_be_malformed() -> None:
    free_text = {"API", "OPENAI_API_KEY", "DATA_DIR", "ANALYTICS_SALT", "HTTP_HOST"}
    free_text |= {"SUPERVISOR_CONFIG"}
    assert variables_read_by_load_settings() - free_text - {"BOT_MODE"} <= set(MALFORMED)


@pytest.mark.parametrize("name", ["BOT_TOKEN", "API_ID", "API_HASH"])
def test_each_missing_telegram_variable_is_named_alone(name: str) -> None:
    env = {k: v for k, v in GOOD_TELEGRAM.items() if k != name}
    assert load_settings(env).telegram_missing() == [name]


def test_production_requires_an_analytics_salt() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"BOT_MODE": "production"})
    assert info.value.name == "ANALYTICS_SALT"
    assert load_settings({"BOT_MODE": "production", "ANALYTICS_SALT": "s" * 16}).bot_mode == (
        "production"
    )


def test_secrets_never_print() -> None:
    env = {**GOOD_TELEGRAM, "API": "sk-secret-key-value", "ANALYTICS_SALT": "salt-value-12345"}
    settings = load_settings(env)
    shown = repr(settings) + str(settings)
    for secret in (env["BOT_TOKEN"], env["API_HASH"], "sk-secret-key-value", "salt-value-12345"):
        assert secret not in shown
    assert settings.openai_key.reveal() == "sk-secret-key-value"


def test_a_malformed_secret_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"BOT_TOKEN": "999:short-secret"})
    assert "short-secret" not in str(info.value)


def test_openai_api_key_is_an_alias_of_api() -> None:
    assert load_settings({"OPENAI_API_KEY": "sk-x"}).openai_key.reveal() == "sk-x"
    assert load_settings({"API": "sk-a", "OPENAI_API_KEY": "sk-b"}).openai_key.reveal() == "sk-a"


def test_env_example_documents_every_variable() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    assert variables_read_by_load_settings() | {"BOT_MODE"} <= documented


# ---------------------------------------------------------------- supervisor.toml


def test_the_repository_supervisor_toml_equals_the_embedded_default() -> None:
    repo = parse_supervisor_toml((ROOT / "supervisor.toml").read_text(encoding="utf-8"))
    assert repo == parse_supervisor_toml(DEFAULT_SUPERVISOR_TOML)
    assert [a.name for a in repo.actors] == [
        "analytics",
        "followup",
        "outbox",
        "analyzer",
        "extractor",
        "ingress",
    ]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("[supervisor]\nmax_restart = 3\n", "supervisor.max_restart", id="typo"),
        pytest.param("[supervisor]\nmax_restarts = -1\n", "supervisor.max_restarts", id="neg"),
        pytest.param("[supervisor]\nmax_restarts = 2.5\n", "supervisor.max_restarts", id="float"),
        pytest.param(
            '[supervisor]\nwithin_seconds = "1m"\n', "supervisor.within_seconds", id="str"
        ),
        pytest.param("[supervisor]\nbackoff_max = -1\n", "supervisor.backoff_max", id="backoff"),
        pytest.param(
            "[supervisor]\nshutdown_timeout = true\n", "supervisor.shutdown_timeout", id="bool"
        ),
        pytest.param("[supervisors]\n", "supervisors", id="table"),
        pytest.param(
            '[actors.outbox]\nrestart = "always"\n', "actors.outbox.restart", id="restart"
        ),
        pytest.param("[actors.outbox]\nmailbox = 0\n", "actors.outbox.mailbox", id="mailbox"),
        pytest.param("[actors.outbox]\nrate = 3\n", "actors.outbox.rate", id="option"),
        pytest.param(
            "[actors.outbox]\nconcurrency = 2.5\n", "actors.outbox.concurrency", id="int-option"
        ),
        pytest.param(
            "[actors.analytics]\nflush_interval_s = 0\n",
            "actors.analytics.flush_interval_s",
            id="zero-option",
        ),
        pytest.param("actors = 3\n", "actors", id="actors-not-table"),
        pytest.param("[supervisor\n", "supervisor.toml", id="syntax"),
    ],
)
def test_a_bad_supervisor_toml_names_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_supervisor_toml(text)
    assert info.value.name == key
    assert "\n" not in str(info.value)


def test_actor_policy_and_unknown_actor_defaults() -> None:
    parsed = parse_supervisor_toml(DEFAULT_SUPERVISOR_TOML)
    outbox = parsed.actor("outbox")
    assert (outbox.restart, outbox.mailbox, outbox.options["concurrency"]) == (
        "permanent",
        5000,
        16,
    )
    assert parsed.actor("newcomer").mailbox == 1000
    assert parsed.backoff_initial_s == 0.1 and parsed.shutdown_timeout_s == 20.0


def test_supervisor_config_variable_must_point_at_a_file(tmp_path: Path) -> None:
    settings = load_settings({"SUPERVISOR_CONFIG": str(tmp_path / "missing.toml")})
    with pytest.raises(ConfigError) as info:
        load_supervisor_config(settings)
    assert info.value.name == "SUPERVISOR_CONFIG"
    custom = tmp_path / "s.toml"
    custom.write_text("[supervisor]\nmax_restarts = 1\n", encoding="utf-8")
    assert (
        load_supervisor_config(load_settings({"SUPERVISOR_CONFIG": str(custom)})).max_restarts == 1
    )


def test_without_supervisor_config_the_checkout_file_or_default_is_used(tmp_path: Path) -> None:
    parsed = load_supervisor_config(Settings(), cwd=tmp_path)
    assert parsed == parse_supervisor_toml(DEFAULT_SUPERVISOR_TOML)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        pytest.param("USER_DAILY_LIMIT", "abc", "expected a whole number", id="not-a-number"),
        pytest.param("MAX_FILE_MB", "nan", "expected a finite number", id="nan"),
        pytest.param("RESUME_THRESHOLD", "500", "expected 0-100", id="threshold-over-100"),
        pytest.param("RESUME_THRESHOLD", "-5", "expected 0-100", id="threshold-negative"),
        pytest.param("ADMIN_CHAT_ID", "12,abc", "expected a whole number", id="admin-list"),
    ],
)
def test_malformed_numbers_are_explained_in_words_not_python(
    name: str, value: str, says: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({name: value})
    assert says in str(info.value)
    assert "invalid literal" not in str(info.value)
