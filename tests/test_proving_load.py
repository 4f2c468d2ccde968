"""Reduced-size proving-ground load runs (the full-size ones are `python -m bench.load`).

The real actor tree (resumebek.app) with the simulated Telegram, real extractor worker
processes and the local OpenAI-compatible server: every user gets exactly one answer,
no review is lost or duplicated, and the outbox kept the rate limits.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.llm_server import faulty
from bench.load import LoadOptions, run_load
from tests.conftest import shared_path
from tests.openai_server import OpenAIServer
from tests.sim_telegram import SimTelegram

pytestmark = pytest.mark.anyio


def assert_everyone_answered_once(result: dict[str, Any], *, gone: int = 0) -> None:
    assert result["sent"] == result["users"]
    assert result["lost"] == gone, result["unanswered_users"]
    assert result["duplicated"] == 0
    assert result["exactly_one_answer"] == result["users"] - gone
    assert result["exactly_one_review"] == result["expected_reviews"] > 0
    assert result["inconsistent_docs"] == []
    assert result["dangling_placeholders"] == 0
    assert result["rate_limits"]["ok"], result["rate_limits"]
    assert all(v["dead_letters"] == 0 for v in result["mailboxes"].values())
    assert result["supervisor_exit"] == 0


async def test_thirty_users_each_get_exactly_one_review() -> None:
    shared_path("corpus", "dev", "manifest.tsv")
    with OpenAIServer(default=faulty(0.0, seed=3), latency=(0.05, 0.3), seed=3) as server:
        result = await run_load(
            LoadOptions(users=30, within_s=1.0, llm_url=server.url, global_per_s=100.0)
        )
    assert_everyone_answered_once(result)
    assert result["fallback_reviews"] == 0  # the LLM answered every one
    assert result["latency_s"]["max"] < 60
    assert 0 < result["peak_rss_mb"] < 1000  # the bot and its worker processes, measured
    assert result["peak_processes"] >= 2  # worker processes were counted too
    assert max(v["high_water"] for v in result["mailboxes"].values()) > 0


async def test_llm_failing_30_percent_and_telegram_flood_waits_lose_nobody() -> None:
    shared_path("corpus", "dev", "manifest.tsv")

    def faults(sim: SimTelegram, users: list[int]) -> None:
        sim.flood_wait(retry_after=0.5, times=15)  # the next 15 calls to anyone
        sim.flood_wait(retry_after=1.0, chat=users[7], times=2)
        sim.gone(users[3])  # blocked the bot: nothing can reach them

    with OpenAIServer(default=faulty(0.3, seed=5), latency=(0.0, 0.1), seed=5) as server:
        result = await run_load(
            LoadOptions(
                users=25,
                within_s=1.0,
                llm_url=server.url,
                global_per_s=100.0,
                prepare=faults,
            )
        )
        llm_requests = len(server.chat_requests)
    assert_everyone_answered_once(result, gone=1)
    # retries went to the LLM; a review that exhausted them came from the rules reviewer
    assert llm_requests > result["exactly_one_review"] - result["fallback_reviews"]
    # three attempts each: about 0.3 ** 3 of the reviews should need the rules reviewer
    assert 0.0 <= result["fallback_rate"] < 0.5
