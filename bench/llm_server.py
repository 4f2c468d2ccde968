"""The local OpenAI-compatible server (tests/openai_server.py) as a process for benchmarks.

    python -m bench.llm_server --latency 1-3 --fail-rate 0.3 [--port N] [--seed S]

Prints `port N` once it listens, then serves until killed. Every reply is a valid review in
the language the request asks for (kk/ru/en), after a random latency; with --fail-rate a share of requests gets a 429 or a 500 instead
(half each), with no Retry-After, so the bot's own backoff decides.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import threading
from typing import Any

from tests.openai_server import OpenAIServer, Reply, review_payload


class FixedPortServer(OpenAIServer):
    """OpenAIServer on a chosen port (0: any), so a restarted server comes back where it was."""

    def __init__(self, *, port: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.wanted_port = port

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.wanted_port, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        async with self._server:
            await self._stopped.wait()


# A valid review in each review language (the reviewer rejects a reply in the wrong script).
_REVIEWS: dict[str, dict[str, Any]] = {
    "en": review_payload(),
    "ru": review_payload(
        summary="Понятное студенческое резюме; стоит добавить измеримые результаты.",
        strengths=("Контакты указаны полностью.", "Разделы чётко названы.", "Даты согласованы."),
        improvements=(
            "Добавьте цифры к достижениям.",
            "Начинайте пункты с глаголов действия.",
            "Добавьте ссылку на профиль LinkedIn.",
        ),
    ),
    "kk": review_payload(
        summary="Түсінікті студенттік түйіндеме; өлшенетін нәтижелер қосыңыз.",
        strengths=("Байланыс деректері толық.", "Бөлімдер анық аталған.", "Күндер сәйкес."),
        improvements=(
            "Жетістіктерге сандар қосыңыз.",
            "Тармақтарды әрекет етістігінен бастаңыз.",
            "LinkedIn профиліне сілтеме қосыңыз.",
        ),
    ),
}
_SYSTEM_START = {"Вы": "ru", "Сіз": "kk"}  # the system prompt's first word per language


def review_language(body: object) -> str:
    """The review language the request asks for, read off its system prompt."""
    try:
        first = str(body["messages"][0]["content"]).split(maxsplit=1)[0]  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        return "en"
    return _SYSTEM_START.get(first, "en")


def faulty(fail_rate: float, seed: int) -> Any:
    rng = random.Random(seed)
    lock = threading.Lock()
    ok = {
        lang: Reply.content(json.dumps(payload, ensure_ascii=False))
        for lang, payload in _REVIEWS.items()
    }
    too_many = Reply.error(429, code="rate_limit_exceeded", message="Rate limit reached")
    broken = Reply.error(500, code="server_error", message="The server had an error")

    def reply(body: object) -> Reply:
        with lock:
            roll = rng.random()
        if roll < fail_rate / 2:
            return too_many
        if roll < fail_rate:
            return broken
        return ok[review_language(body)]

    return reply


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", default="0-0", help="LOW-HIGH seconds, random per request")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    low, _, high = args.latency.partition("-")
    server = FixedPortServer(
        port=args.port,
        default=faulty(args.fail_rate, args.seed),
        latency=(float(low), float(high or low)),
        seed=args.seed,
    )
    server.start()
    print(f"port {server.port}", flush=True)
    threading.Event().wait()  # until killed
    return 0


if __name__ == "__main__":
    sys.exit(main())
