"""Load runs of the whole bot: the real actor tree, a simulated Telegram, a local LLM server.

    python -m bench.load                         # 1,000 users within 10 s, LLM latency 1–3 s
    python -m bench.load --fail-rate 0.3        # the LLM fails 30 % of requests (429/500)
    python -m bench.load --throughput           # zero-latency LLM, all users at once,
                                                # outbox global limit lifted; vs raw extractor
    python -m bench.load --restart-actors       # `resumebek ctl restart NAME` for each actor
    python -m bench.load --llm-outage 15:20     # LLM connection refused from 15 s for 20 s

What runs: resumebek.app.build_tree with tests/sim_telegram.SimTelegram as the gateway, the
real ProcessExtractor worker processes, OpenAIReviewer against bench/llm_server.py in its
own process (so its memory is not counted). Printed: every user got exactly one review
(lost / duplicated counts), upload→review p50/p95/max, fallback rate (rules reviews), peak
memory of this process and all its children (RSS sum and PSS sum), mailbox high-water
marks, restarts, dead letters, and the rate-limit check of every call that reached Telegram.
`--json FILE` writes the same figures for the README.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio

from bench.harness import (
    ROOT,
    Doc,
    LLMServerProcess,
    TreeMemorySampler,
    corpus_resumes,
    machine,
    percentile,
)
from resumebek.config import (
    ActorPolicy,
    Settings,
    SupervisorConfig,
    load_settings,
    parse_supervisor_toml,
)
from resumebek.domain.texts import t
from resumebek.messages import LANGUAGES
from tests.sim_telegram import SimTelegram

log = logging.getLogger("bench.load")

ACTORS = ("analytics", "followup", "outbox", "analyzer", "extractor", "ingress")


@dataclass(slots=True, kw_only=True)
class LoadOptions:
    users: int = 1000
    within_s: float = 10.0  # every user sends once, spread evenly over this many seconds
    latency: tuple[float, float] = (1.0, 3.0)  # LLM reply latency, random per request
    fail_rate: float = 0.0  # share of LLM requests answered 429/500
    llm: bool = True  # False: no key, the rules reviewer answers
    llm_concurrency: int = 32
    llm_max_attempts: int = 3
    workers: int = 2
    per_chat_per_s: float = 1.0
    global_per_s: float = 25.0
    timeout_s: float = 900.0
    restart_actors: bool = False
    restart_every_s: float = 3.0
    llm_outage: tuple[float, float] | None = None  # (after s, for s)
    raw_extractor: bool = False
    data_dir: Path | None = None
    llm_url: str | None = None  # an already running server (tests); else a process is started
    seed: int = 1
    log_level: str = "WARNING"
    extra_env: dict[str, str] = field(default_factory=dict)
    # tests: inject faults into the simulated Telegram before the users start
    prepare: Callable[[SimTelegram, list[int]], None] | None = None


def outbox_limits(config: SupervisorConfig, per_chat: float, global_: float) -> SupervisorConfig:
    actors = tuple(
        replace(
            p,
            options={**p.options, "per_chat_per_s": per_chat, "global_per_s": global_},
        )
        if p.name == "outbox"
        else p
        for p in config.actors
    )
    if not any(p.name == "outbox" for p in actors):
        actors += (
            ActorPolicy(
                name="outbox", options={"per_chat_per_s": per_chat, "global_per_s": global_}
            ),
        )
    return replace(config, actors=actors)


def bench_settings(opts: LoadOptions, data_dir: Path, llm_url: str | None) -> Settings:
    env = {
        "DATA_DIR": str(data_dir),
        "HTTP_ENABLED": "false",
        "LOG_LEVEL": opts.log_level,
        "LLM_CONCURRENCY": str(opts.llm_concurrency),
        "LLM_MAX_ATTEMPTS": str(opts.llm_max_attempts),
        "LLM_TIMEOUT": "30",
        "EXTRACT_WORKERS": str(opts.workers),
        **opts.extra_env,
    }
    if opts.llm and llm_url is not None:
        env.update(API="sk-bench-local", OPENAI_BASE_URL=llm_url)
    return load_settings(env)


def bench_config(opts: LoadOptions) -> SupervisorConfig:
    from resumebek.config import DEFAULT_SUPERVISOR_TOML

    config = parse_supervisor_toml((ROOT / "supervisor.toml").read_text(encoding="utf-8"))
    if not config.actors:
        config = parse_supervisor_toml(DEFAULT_SUPERVISOR_TOML)
    config = outbox_limits(config, opts.per_chat_per_s, opts.global_per_s)
    return replace(
        config,
        actors=tuple(
            replace(p, options={**p.options, "workers": opts.workers})
            if p.name == "extractor"
            else p
            for p in config.actors
        ),
    )


PLACEHOLDERS = tuple(t("analyzing", lang) for lang in LANGUAGES)


def user_ids(n: int) -> list[int]:
    return [10_000 + i for i in range(n)]


@dataclass(slots=True)
class Outcome:
    """What the users saw, read off the simulated Telegram."""

    users: int
    answered: int = 0
    exactly_one_answer: int = 0  # one review, or no review and one other reply
    exactly_one_review: int = 0
    lost: int = 0  # no answer at all
    duplicated: int = 0  # more than one review, or more than one other reply
    other_answers: int = 0  # replies that are not reviews (e.g. "no text in this scan")
    dangling_placeholders: int = 0  # a ⏳ never edited into an answer
    fallback: int = 0  # reviews by the rules reviewer
    latencies: list[float] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)  # simulated user ids
    # users with other than one answer: what they saw (simulated users, bench text only)
    odd: list[dict[str, object]] = field(default_factory=list)
    reviewed_at_least_once: int = 0
    # per corpus file: how many of its senders got a review / another answer
    per_doc: dict[str, list[int]] = field(default_factory=dict)

    @property
    def review_docs(self) -> list[str]:
        return sorted(d for d, (rev, _) in self.per_doc.items() if rev)

    @property
    def non_review_docs(self) -> list[str]:
        return sorted(d for d, (rev, _) in self.per_doc.items() if not rev)

    @property
    def inconsistent_docs(self) -> list[str]:
        """Files reviewed for some senders and not for others (should never happen)."""
        return sorted(d for d, (rev, other) in self.per_doc.items() if rev and other)

    @property
    def expected_reviews(self) -> int:
        return sum(rev + other for rev, other in self.per_doc.values() if rev)


def read_outcome(
    sim: SimTelegram, users: list[int], sent_at: dict[int, float], doc_of: dict[int, str]
) -> Outcome:
    out = Outcome(users=len(users))
    for user in users:
        reviews = sim.reviews(user)
        answers = sim.answers(user, placeholder_prefixes=PLACEHOLDERS)
        others = [a for a in answers if not a.is_review]
        placeholders = [m for m in sim.chat_messages(user) if m.html.startswith(PLACEHOLDERS)]
        out.dangling_placeholders += len(placeholders)
        out.other_answers += len(others)
        counts = out.per_doc.setdefault(doc_of[user], [0, 0])
        if answers:
            out.answered += 1
        else:
            out.lost += 1
            out.unanswered.append(user)
        if len(reviews) == 1:
            out.exactly_one_review += 1
        # the file was reviewable if any sender got a review, even twice (a repeat after an
        # outbox restart is counted as `duplicated`, not as a file that got no review)
        if reviews:
            counts[0] += 1
        elif others:
            counts[1] += 1
        if len(reviews) > 1 or (not reviews and len(others) > 1):
            out.duplicated += 1
        if (len(reviews) == 1 and not others) or (not reviews and len(others) == 1):
            out.exactly_one_answer += 1
        elif len(out.odd) < 10:
            out.odd.append(
                {
                    "user": user,
                    "messages": [
                        ("review" if m.is_review else m.html[:60], m.edits)
                        for m in sim.chat_messages(user)
                    ],
                }
            )
        if reviews:
            out.reviewed_at_least_once += 1
        for review in reviews[:1]:
            if any(d.startswith("rate:up:rules") for d in review.callback_data):
                out.fallback += 1
            done = review.edited_at if review.edited_at is not None else review.sent_at
            out.latencies.append(done - sent_at[user])
    return out


def answered_count(sim: SimTelegram, users: list[int]) -> int:
    return sum(1 for u in users if sim.answers(u, placeholder_prefixes=PLACEHOLDERS))


async def raw_extractor_rate(docs: list[Doc], settings: Settings, n: int) -> float:
    """Documents per second through a bare ProcessExtractor (same workers), no actors."""
    from services.extraction_pool import ProcessExtractor

    items = list(itertools.islice(itertools.cycle(docs), n))
    async with ProcessExtractor.from_settings(settings) as pool:
        await pool.extract(items[0].data, name_hint=items[0].name, mime_type=items[0].mime_type)
        limiter = anyio.CapacityLimiter(pool.workers * 2)
        started = time.perf_counter()

        async def one(doc: Doc) -> None:
            async with limiter:
                await pool.extract(doc.data, name_hint=doc.name, mime_type=doc.mime_type)

        async with anyio.create_task_group() as tg:
            for doc in items:
                tg.start_soon(one, doc)
        return n / (time.perf_counter() - started)


async def _ctl_restart(name: str, data_dir: Path) -> int:
    env = dict(os.environ, DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    result = await anyio.run_process(
        [sys.executable, "-m", "resumebek", "ctl", "restart", name], env=env, check=False
    )
    return result.returncode


async def run_load(opts: LoadOptions) -> dict[str, Any]:
    docs = corpus_resumes()
    tmp = None
    if opts.data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="resumebek-load-")
        data_dir = Path(tmp.name)
    else:
        data_dir = opts.data_dir
    server: LLMServerProcess | None = None
    llm_url = opts.llm_url
    if opts.llm and llm_url is None:
        server = LLMServerProcess(latency=opts.latency, fail_rate=opts.fail_rate, seed=opts.seed)
        server.start()
        llm_url = server.url
    try:
        settings = bench_settings(opts, data_dir, llm_url)
        config = bench_config(opts)
        result: dict[str, Any] = {
            "scenario": {
                k: v
                for k, v in asdict(opts).items()
                if k not in ("data_dir", "extra_env", "prepare")
            },
            "machine": machine(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        if opts.raw_extractor:
            result["raw_extractor_docs_per_s"] = round(
                await raw_extractor_rate(docs, settings, min(opts.users, 400)), 1
            )
        with TreeMemorySampler() as memory:
            result.update(await _drive(opts, settings, config, docs, server, data_dir))
        result["peak_rss_mb"] = round(memory.peak_rss_kb / 1024, 1)
        result["peak_pss_mb"] = round(memory.peak_pss_kb / 1024, 1)
        result["peak_processes"] = memory.peak_processes
        return result
    finally:
        if server is not None:
            server.stop()
        if tmp is not None:
            tmp.cleanup()


async def _drive(
    opts: LoadOptions,
    settings: Settings,
    config: SupervisorConfig,
    docs: list[Doc],
    server: LLMServerProcess | None,
    data_dir: Path,
) -> dict[str, Any]:
    from resumebek.app import build_tree, open_services
    from resumebek.runtime.clock import SystemClock

    clock = SystemClock()
    sim = SimTelegram(
        clock=clock, per_chat_per_s=opts.per_chat_per_s, global_per_s=opts.global_per_s
    )
    users = user_ids(opts.users)
    doc_of = {user: doc for user, doc in zip(users, itertools.cycle(docs), strict=False)}
    uploads = {
        user: sim.add_document(doc.data, file_name=doc.name, mime_type=doc.mime_type)
        for user, doc in doc_of.items()
    }
    if opts.prepare is not None:
        opts.prepare(sim, users)
    sent_at: dict[int, float] = {}
    restarts: dict[str, int] = {}
    outage: dict[str, float] = {}
    code: list[int] = []
    async with open_services(settings) as services:
        tree = build_tree(
            settings,
            gateway=sim,
            services=services,
            clock=clock,
            config=config,
            handle_signals=False,
            control=opts.restart_actors,
            http=False,
        )

        stopped = anyio.Event()

        async def supervise() -> None:
            code.append(await tree.supervisor.run())
            stopped.set()

        async def send_all() -> None:
            started = anyio.current_time()
            step = opts.within_s / max(1, len(users))
            for i, user in enumerate(users):
                delay = started + i * step - anyio.current_time()
                if delay > 0:
                    await anyio.sleep(delay)
                lang = LANGUAGES[i % len(LANGUAGES)]
                msg = await sim.user_sends_document(user, uploads[user], language_code=lang)
                sent_at[user] = msg.received_at

        async def restart_each() -> None:
            for name in ACTORS:
                await anyio.sleep(opts.restart_every_s)
                restarts[name] = await _ctl_restart(name, data_dir)

        async def take_llm_down() -> None:
            assert opts.llm_outage is not None and server is not None
            after, down = opts.llm_outage
            await anyio.sleep(after)
            outage["down_at"] = clock.now()
            server.stop()
            await anyio.sleep(down)
            await anyio.to_thread.run_sync(server.start)
            outage["up_at"] = clock.now()

        lag = [0.0]

        async def watch_loop_lag() -> None:
            """How late a 50 ms sleep wakes: the event loop's worst stall in this run."""
            while True:
                before = anyio.current_time()
                await anyio.sleep(0.05)
                lag[0] = max(lag[0], anyio.current_time() - before - 0.05)

        wall = time.perf_counter()
        async with anyio.create_task_group() as tg:
            tg.start_soon(supervise)
            tg.start_soon(watch_loop_lag)
            with anyio.fail_after(30):
                await sim.wait_started()
            first_upload = clock.now()
            tg.start_soon(send_all)
            if opts.restart_actors:
                tg.start_soon(restart_each)
            if opts.llm_outage is not None and server is not None:
                tg.start_soon(take_llm_down)
            deadline = anyio.current_time() + opts.timeout_s
            idle_since: float | None = None
            while anyio.current_time() < deadline:
                restarting = opts.restart_actors and len(restarts) < len(ACTORS)
                if len(sent_at) == len(users) and not restarting:
                    if answered_count(sim, users) == len(users):
                        break
                    # someone will never be answered (e.g. blocked the bot): stop once
                    # nothing has moved anywhere in the tree for a while
                    if tree.idle():
                        idle_since = idle_since or anyio.current_time()
                        if anyio.current_time() - idle_since > 3.0:
                            break
                    else:
                        idle_since = None
                await anyio.sleep(0.2)
            all_answered_s = clock.now() - first_upload
            with anyio.move_on_after(60):
                await tree.wait_idle(settle_s=1.0)
            status = [row.to_dict() for row in tree.supervisor.status()]
            tree.supervisor.request_shutdown()
            with anyio.fail_after(120):
                await stopped.wait()
            tg.cancel_scope.cancel()
        # open_services does not close the reviewer's HTTP client (reported); do it here
        aclose = getattr(services.reviewer, "aclose", None)
        if aclose is not None:
            await aclose()
        wall_s = time.perf_counter() - wall

    outcome = read_outcome(sim, users, sent_at, {u: d.name for u, d in doc_of.items()})
    rate = sim.rate_report()
    sends = [a.at for a in sim.actions if a.op != "answer"]
    review_times = [
        (m.edited_at if m.edited_at is not None else m.sent_at)
        for u in users
        for m in sim.reviews(u)
    ]
    last_review = max(review_times) if review_times else first_upload
    return {
        "users": len(users),
        "sent": len(sent_at),
        "answered": outcome.answered,
        "exactly_one_answer": outcome.exactly_one_answer,
        "exactly_one_review": outcome.exactly_one_review,
        "expected_reviews": outcome.expected_reviews,
        "non_review_docs": outcome.non_review_docs,
        "inconsistent_docs": outcome.inconsistent_docs,
        "lost": outcome.lost,
        "reviewed_at_least_once": outcome.reviewed_at_least_once,
        "odd_users": outcome.odd,
        "unanswered_users": outcome.unanswered[:50],
        "duplicated": outcome.duplicated,
        "other_answers": outcome.other_answers,
        "dangling_placeholders": outcome.dangling_placeholders,
        "fallback_reviews": outcome.fallback,
        "fallback_rate": round(outcome.fallback / max(1, len(outcome.latencies)), 4),
        "latency_s": {
            "p50": round(percentile(outcome.latencies, 50), 2),
            "p95": round(percentile(outcome.latencies, 95), 2),
            "max": round(max(outcome.latencies, default=0.0), 2),
        },
        "all_answered_after_s": round(all_answered_s, 1),
        "reviews_per_s": round(len(review_times) / max(1e-9, last_review - first_upload), 2),
        "telegram_calls": len(sends),
        "sending_span_s": round(max(sends) - min(sends), 1) if sends else 0.0,
        "rate_limits": asdict(rate) | {"ok": rate.ok},
        "mailboxes": {
            row["name"]: {
                k: row[k]
                for k in ("high_water", "processed", "dropped", "restarts", "dead_letters")
            }
            for row in status
            if row["kind"] == "actor"
        },
        "actor_states": {row["name"]: row["state"] for row in status},
        "ctl_restart_exit_codes": restarts,
        "llm_outage": outage,
        "supervisor_exit": code[0] if code else None,
        "max_event_loop_lag_s": round(lag[0], 3),
        "wall_s": round(wall_s, 1),
    }


def summary(result: dict[str, Any]) -> str:
    lat = result["latency_s"]
    rate = result["rate_limits"]
    lines = [
        f"{result['date']}  {result['machine']}",
        f"users {result['users']}: exactly one answer {result['exactly_one_answer']}, "
        f"exactly one review {result['exactly_one_review']} of {result['expected_reviews']} "
        f"expected, lost {result['lost']}, duplicated {result['duplicated']}, "
        f"dangling ⏳ {result['dangling_placeholders']}",
        f"corpus files answered without a review (same for every sender): "
        f"{', '.join(result['non_review_docs']) or 'none'}; "
        f"inconsistent files: {', '.join(result['inconsistent_docs']) or 'none'}",
        f"upload→review p50 {lat['p50']} s, p95 {lat['p95']} s, max {lat['max']} s; "
        f"all answered after {result['all_answered_after_s']} s; "
        f"{result['reviews_per_s']} reviews/s",
        f"fallback (rules) reviews {result['fallback_reviews']} "
        f"({100 * result['fallback_rate']:.1f} %)",
        f"peak memory (process + {result['peak_processes'] - 1} children): "
        f"RSS sum {result['peak_rss_mb']} MB, PSS sum {result['peak_pss_mb']} MB",
        f"Telegram calls {result['telegram_calls']} over {result['sending_span_s']} s; "
        f"rate limits {'kept' if rate['ok'] else 'BROKEN'} (per-chat violations "
        f"{rate['per_chat_violations']}, global violations {rate['global_violations']}, "
        f"strict 1 s windows: max per chat {rate['max_per_chat_in_1s']}, max global "
        f"{rate['max_global_in_1s']} calls / {rate['max_global_messages_in_1s']} messages)",
        "mailbox high-water: "
        + ", ".join(f"{k} {v['high_water']}" for k, v in result["mailboxes"].items()),
        f"worst event-loop stall {result['max_event_loop_lag_s']} s",
        "restarts: "
        + ", ".join(f"{k} {v['restarts']}" for k, v in result["mailboxes"].items())
        + "; dead letters: "
        + str(sum(v["dead_letters"] for v in result["mailboxes"].values())),
    ]
    if "raw_extractor_docs_per_s" in result:
        ratio = result["reviews_per_s"] / max(1e-9, result["raw_extractor_docs_per_s"])
        lines.append(
            f"raw extractor {result['raw_extractor_docs_per_s']} docs/s; whole bot "
            f"{result['reviews_per_s']} reviews/s = {ratio:.2f} x raw"
        )
    if result["ctl_restart_exit_codes"]:
        lines.append(f"ctl restart exit codes: {result['ctl_restart_exit_codes']}")
    if result["llm_outage"]:
        o = result["llm_outage"]
        lines.append(f"LLM down for {o.get('up_at', 0) - o.get('down_at', 0):.1f} s")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> tuple[LoadOptions, Path | None]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--within", type=float, default=10.0, help="seconds to spread uploads over")
    p.add_argument("--latency", default="1-3", help="LLM latency LOW-HIGH seconds")
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--no-llm", action="store_true", help="no LLM key: rules reviews only")
    p.add_argument("--llm-concurrency", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--global-per-s", type=float, default=25.0)
    p.add_argument("--throughput", action="store_true")
    p.add_argument("--restart-actors", action="store_true")
    p.add_argument("--llm-outage", default=None, help="AFTER:FOR seconds")
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    low, _, high = a.latency.partition("-")
    opts = LoadOptions(
        users=a.users,
        within_s=a.within,
        latency=(float(low), float(high or low)),
        fail_rate=a.fail_rate,
        llm=not a.no_llm,
        llm_concurrency=a.llm_concurrency,
        workers=a.workers,
        global_per_s=a.global_per_s,
        restart_actors=a.restart_actors,
        timeout_s=a.timeout,
    )
    if a.throughput:
        opts.latency = (0.0, 0.0)
        opts.within_s = 0.0
        opts.global_per_s = 100_000.0
        opts.raw_extractor = True
    if a.llm_outage:
        after, _, down = a.llm_outage.partition(":")
        opts.llm_outage = (float(after), float(down))
    return opts, a.json


def main(argv: list[str] | None = None) -> int:
    opts, json_path = parse_args(argv)
    logging.basicConfig(level=opts.log_level, stream=sys.stderr)
    result = anyio.run(run_load, opts, backend="asyncio")
    print(summary(result))
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    ok = (
        result["exactly_one_answer"] == result["users"]
        and result["exactly_one_review"] == result["expected_reviews"]
        and not result["inconsistent_docs"]
        and result["rate_limits"]["ok"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
