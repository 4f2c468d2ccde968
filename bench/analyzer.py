"""Analyzer benchmarks: prompt size per review and throughput against a local LLM server.

    python -m bench.analyzer [--reviews 640] [--latency 0.5] [--concurrency 32]

1. Prompt tokens per review over the dev resumes in ../shared/corpus/dev (target: median
   <= 3,000). Tokens are counted with tiktoken (o200k_base) when it and its encoding file are
   available offline; otherwise estimated as ASCII chars / 4 + other chars / 2.5 (Cyrillic
   tokenizes denser than English, so plain chars / 4 would flatter us; both are printed).
2. Throughput of the analyzer actor with the real OpenAIReviewer over real HTTP against
   tests/openai_server.py running in its own process with a fixed latency (target >= 50
   reviews/s at 500 ms latency and concurrency 32). Printed next to the ideal for that latency
   and concurrency (concurrency / latency) and the rules-only baseline measured in the same run.
   Each LLM review costs about 5 ms of CPU (SDK, HTTP, rules, prompt), so on a busy 2-CPU box
   the figure drops below the ideal: the load average is printed with it. `--latency 0`
   measures that CPU cost alone.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import openai

from resumebek.actors import analyzer
from resumebek.config import Settings
from resumebek.domain import prompts
from resumebek.domain.budget import budget
from resumebek.domain.review_rules import findings
from resumebek.messages import (
    AnalyticsEvent,
    ChatRef,
    Language,
    Outgoing,
    Requester,
    ResumeExtracted,
    ReviewReady,
    UserRef,
)
from resumebek.runtime.mailbox import Mailbox
from services.documents import extract_bytes
from services.llm import OpenAIReviewer
from services.ports import ResumeReviewer
from tests.fakes import FakeClock, Recorder

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "corpus" / "dev"


def _token_counter() -> tuple[str, Callable[[str], int]]:
    try:
        tiktoken = importlib.import_module("tiktoken")  # optional: not a dependency
        encoding = tiktoken.get_encoding("o200k_base")
        return "tiktoken o200k_base", lambda text: len(encoding.encode(text))
    except Exception:  # not installed, or its encoding file cannot be fetched offline
        return (
            "estimate: ASCII chars/4 + other chars/2.5 (tiktoken unavailable offline)",
            lambda text: round(
                sum(ch.isascii() for ch in text) / 4 + sum(not ch.isascii() for ch in text) / 2.5
            ),
        )


def dev_resumes() -> list[tuple[str, Language, str, tuple[str, ...]]]:
    rows = list(csv.DictReader((DEV / "manifest.tsv").open(encoding="utf-8"), delimiter="\t"))
    out = []
    for row in rows:
        if row["label"] != "resume":
            continue
        data = (DEV / row["file"]).read_bytes()
        ex = extract_bytes(data, name_hint=row["file"], mime_type=None, max_pages=10)
        if ex.outcome == "ok":
            lang: Language = row["language"]  # type: ignore[assignment]
            out.append((row["file"], lang, ex.text, ex.notes))
    return out


def bench_prompt_tokens(resumes: list[tuple[str, Language, str, tuple[str, ...]]]) -> None:
    how, count = _token_counter()
    totals, quarter = [], []
    for _name, lang, text, notes in resumes:
        budgeted = budget(text)
        if budgeted is None:
            continue
        rules = findings(text, notes=notes)
        msgs = prompts.messages(
            budgeted.text,
            lang=lang,
            resume_language=lang,
            findings=rules.checks,
            rules_score=rules.score,
            notes=notes,
        )
        joined = "\n".join(m["content"] for m in msgs)
        totals.append(count(joined) + 4 * len(msgs))  # a few tokens of chat framing per message
        quarter.append(len(joined) / 4)
    print(f"1. prompt tokens per review over {len(totals)} dev resumes ({how})")
    print(
        f"   median {statistics.median(totals):.0f}  p90 {sorted(totals)[int(0.9 * (len(totals) - 1))]:.0f}"
        f"  max {max(totals):.0f}   (plain chars/4: median {statistics.median(quarter):.0f})"
    )
    print(f"   target median <= 3000: {'OK' if statistics.median(totals) <= 3000 else 'MISSED'}")
    largest = count(prompts.system_prompt("kk")) + round(12_000 / 2.5) + 400
    print(f"   worst case after the text budget (12,000 chars of Cyrillic): ~{largest} tokens")


def _message(i: int, lang: Language, text: str) -> ResumeExtracted:
    return ResumeExtracted(
        trace=f"{i:032x}",
        who=Requester(chat=ChatRef(i), user=UserRef(i), ui_language=lang),
        text=text,
        format="pdf",
        pages=1,
        language=lang,
        language_confidence=0.9,
        resume_confidence=90,
        received_at=0.0,
    )


async def _run_actor(
    msgs: list[ResumeExtracted],
    reviewer: ResumeReviewer | None,
    concurrency: int,
    settings: Settings,
) -> tuple[float, list[ReviewReady | Outgoing]]:
    inbox: Mailbox[ResumeExtracted] = Mailbox("analyzer", len(msgs) + 1)
    outbox: Recorder[ReviewReady | Outgoing] = Recorder("outbox")
    analytics: Recorder[AnalyticsEvent] = Recorder("analytics")
    for msg in msgs:
        await inbox.send(msg)
    inbox.close()
    started = time.perf_counter()
    await analyzer.run(
        inbox,
        to_outbox=outbox,
        to_analytics=analytics,
        reviewer=reviewer,
        clock=FakeClock(),
        settings=settings,
        concurrency=concurrency,
    )
    return time.perf_counter() - started, outbox.items


def bench_throughput(
    resumes: list[tuple[str, Language, str, tuple[str, ...]]],
    n: int,
    latency: float,
    concurrency: int,
) -> None:
    msgs = [
        _message(i, resumes[i % len(resumes)][1], resumes[i % len(resumes)][2]) for i in range(n)
    ]
    settings = Settings(llm_timeout_s=30.0, llm_concurrency=concurrency)
    rules_s, _ = anyio.run(_run_actor, msgs, None, concurrency, settings)

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.openai_server", "--latency", str(latency)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()

        async def llm_run() -> tuple[float, list[ReviewReady | Outgoing]]:
            client = openai.AsyncOpenAI(api_key="sk-bench", base_url=url, max_retries=0)
            reviewer = OpenAIReviewer(
                client=client, model="bench", timeout_s=30.0, concurrency=concurrency
            )
            try:
                warm = [_message(10**6 + i, "en", resumes[0][2]) for i in range(concurrency)]
                await _run_actor(warm, reviewer, concurrency, settings)  # connections, imports
                return await _run_actor(msgs, reviewer, concurrency, settings)
            finally:
                await reviewer.aclose()

        llm_s, items = anyio.run(llm_run)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(10)
    sources = {getattr(getattr(m, "review", None), "source", None) for m in items}
    ideal = concurrency / latency if latency > 0 else float("inf")
    rate = n / llm_s
    load1, _load5, _load15 = os.getloadavg()
    print(
        f"2. analyzer throughput, {n} reviews, server latency {latency * 1000:.0f} ms "
        f"(own process), concurrency {concurrency}; {os.cpu_count()} CPUs, load average {load1:.1f}"
    )
    print(f"   rules only (baseline, same run): {n / rules_s:8.1f} reviews/s")
    print(
        f"   LLM over HTTP:                   {rate:8.1f} reviews/s  (sources {sorted(map(str, sources))})"
    )
    print(
        f"   ideal concurrency/latency:       {ideal:8.1f} reviews/s  -> {rate / ideal:.0%} of ideal"
    )
    print(f"   target >= 50 reviews/s: {'OK' if rate >= 50 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reviews", type=int, default=640)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if not DEV.is_dir():
        sys.exit("../shared/corpus/dev is not here")
    resumes = dev_resumes()
    bench_prompt_tokens(resumes)
    bench_throughput(resumes, args.reviews, args.latency, args.concurrency)


if __name__ == "__main__":
    main()
