"""A local OpenAI-compatible HTTP server for tests and benchmarks (asyncio + h11, 127.0.0.1).

It runs its own event loop in a daemon thread, so the test's anyio loop and the real
`openai.AsyncOpenAI` client talk to it over real HTTP. Script it per test:

    with OpenAIServer() as server:                       # every reply: a valid review
        server.script(Reply.error(429, headers={"retry-after": "0.05"}), Reply.review(score=7))
        client = openai.AsyncOpenAI(api_key="sk-test", base_url=server.url, max_retries=0)
        ...
        assert len(server.requests) == 2

`Reply` holds a status, headers, a body (JSON or raw bytes), a delay before answering, or
`drop=True` to close the socket without answering. When the script runs out, `default` answers
(a Reply, or a function of the request JSON; by default a valid review in the language the
system prompt asks for). `latency=(low, high)` adds a random delay to
every reply (seeded, reproducible) for load tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11

FIXTURES_LLM = Path(__file__).resolve().parent / "fixtures" / "llm"


def review_payload(
    *,
    score: int | str = 7,
    summary: str = "A clear student resume with room to add measurable results.",
    strengths: tuple[str, ...] = (
        "Contacts are complete.",
        "Sections are clearly labelled.",
        "Dates are consistent.",
    ),
    improvements: tuple[str, ...] = (
        "Add numbers to your achievements.",
        "Start bullets with action verbs.",
        "Add a link to your LinkedIn profile.",
    ),
) -> dict[str, Any]:
    return {
        "summary": summary,
        "strengths": list(strengths),
        "improvements": list(improvements),
        "text_suggestions": [
            {
                "original": "Responsible for social media",
                "suggested": "Grew the club's Instagram from 300 to 1,200 followers in 6 months",
                "reason": "Shows a measurable result instead of a duty.",
            }
        ],
        "score": score,
    }


_LOCALIZED: dict[str, dict[str, Any]] = {
    "ru": {
        "summary": "Понятное резюме студента; не хватает измеримых результатов.",
        "strengths": ("Есть контакты.", "Разделы подписаны.", "Даты последовательны."),
        "improvements": (
            "Добавьте цифры к достижениям.",
            "Начинайте пункты с глаголов действия.",
            "Добавьте ссылку на LinkedIn.",
        ),
    },
    "kk": {
        "summary": "Студенттің түсінікті түйіндемесі; өлшенетін нәтижелер жетіспейді.",
        "strengths": ("Байланыс деректері бар.", "Бөлімдер аталған.", "Күндер ретімен."),
        "improvements": (
            "Жетістіктерге сандар қосыңыз.",
            "Тармақтарды етістіктен бастаңыз.",
            "LinkedIn сілтемесін қосыңыз.",
        ),
    },
}


def localized_review(body: Any) -> Reply:
    """A valid review in the language the system prompt asks for (the default reply)."""
    system = ""
    if isinstance(body, dict) and body.get("messages"):
        system = str(body["messages"][0].get("content", ""))
    lang = "kk" if "Ережелер" in system else "ru" if "Правила" in system else "en"
    return Reply.review(**_LOCALIZED.get(lang, {}))


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    model: str = "test-model",
    prompt_tokens: int = 900,
    completion_tokens: int = 300,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": 1_780_000_000,
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    drop: bool = False  # close the connection without answering

    @classmethod
    def json(cls, data: object, *, status: int = 200, **kw: Any) -> Reply:
        return cls(status=status, body=json.dumps(data, ensure_ascii=False).encode(), **kw)

    @classmethod
    def content(cls, content: str | None, **kw: Any) -> Reply:
        """A completion whose message content is `content` (finish_reason etc. via kw)."""
        delay = kw.pop("delay", 0.0)
        return cls.json(completion(content, **kw), delay=delay)

    @classmethod
    def review(cls, *, delay: float = 0.0, **kw: Any) -> Reply:
        return cls.content(json.dumps(review_payload(**kw), ensure_ascii=False), delay=delay)

    @classmethod
    def error(
        cls,
        status: int,
        *,
        code: str | None = None,
        message: str = "error",
        headers: Mapping[str, str] | None = None,
        param: str | None = None,
    ) -> Reply:
        body = {
            "error": {"message": message, "type": code or "error", "code": code, "param": param}
        }
        return cls.json(body, status=status, headers=dict(headers or {}))

    @classmethod
    def fixture(cls, name: str) -> Reply:
        """A reply from tests/fixtures/llm: a {status, headers, body} file or a completion."""
        data = json.loads((FIXTURES_LLM / name).read_text(encoding="utf-8"))
        if "status" in data and "body" in data:
            return cls.json(data["body"], status=data["status"], headers=data.get("headers", {}))
        return cls.json(data)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or the raw bytes when not JSON


class OpenAIServer:
    def __init__(
        self,
        *,
        default: Reply | Callable[[Any], Reply] | None = None,
        latency: float | tuple[float, float] = 0.0,
        seed: int = 0,
    ) -> None:
        self.default: Reply | Callable[[Any], Reply] = default or localized_review
        self.latency = latency
        self._rng = random.Random(seed)
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at once (concurrency limits)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.max_in_flight = 0

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # ------------------------------------------------------------ lifecycle

    def start(self) -> OpenAIServer:
        self._thread = threading.Thread(target=self._run, name="openai-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the local OpenAI server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=512)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        async with self._server:
            await self._stopped.wait()
            self._server.close()
            current = asyncio.current_task()
            handlers = [t for t in asyncio.all_tasks() if t is not current]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)

    # ------------------------------------------------------------ HTTP

    def _next_reply(self, body: Any) -> Reply:
        with self._lock:
            if self._script:
                return self._script.popleft()
        return self.default(body) if callable(self.default) else self.default

    def _latency(self) -> float:
        if isinstance(self.latency, tuple):
            low, high = self.latency
            with self._lock:
                return self._rng.uniform(low, high)
        return self.latency

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        request: h11.Request | None = None
        chunks: list[bytes] = []
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(65536)
                    conn.receive_data(data)
                    if not data and conn.their_state is not h11.SEND_BODY:
                        if conn.their_state is h11.IDLE or conn.their_state is h11.DONE:
                            return
                    continue
                if isinstance(event, h11.Request):
                    request, chunks = event, []
                elif isinstance(event, h11.Data):
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage) and request is not None:
                    keep = await self._respond(conn, writer, request, b"".join(chunks))
                    if not keep or conn.our_state is h11.MUST_CLOSE:
                        return
                    conn.start_next_cycle()
                    request = None
                elif isinstance(event, h11.ConnectionClosed):
                    return
        except (h11.RemoteProtocolError, ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            return  # the server is stopping: end quietly (a fake server, not production code)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _respond(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, request: h11.Request, raw: bytes
    ) -> bool:
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method.decode(), request.target.decode(), headers, body)
            )
        reply = self._next_reply(body)
        delay = reply.delay + self._latency()
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if delay > 0:
                await asyncio.sleep(delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        if reply.drop:
            return False
        content_type = "application/json" if reply.body[:1] in (b"{", b"[") else "text/plain"
        out_headers = [
            ("content-type", content_type),
            ("content-length", str(len(reply.body))),
            *((k, v) for k, v in reply.headers.items()),
        ]
        writer.write(conn.send(h11.Response(status_code=reply.status, headers=out_headers)) or b"")
        writer.write(conn.send(h11.Data(data=reply.body)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        return True


def main() -> None:
    """`python -m tests.openai_server [--latency 0.5 | --latency 0.2,0.8]`: serve a valid review
    to every request in its own process (load benchmarks); prints the base URL, stops when
    stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--latency", default="0", help="seconds, or LOW,HIGH for random")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    parts = [float(p) for p in args.latency.split(",")]
    latency: float | tuple[float, float] = (parts[0], parts[1]) if len(parts) == 2 else parts[0]
    with OpenAIServer(latency=latency, seed=args.seed) as server:
        sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        sys.stdin.read()


if __name__ == "__main__":
    main()
