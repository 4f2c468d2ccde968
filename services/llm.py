"""OpenAIReviewer: a structured resume review from any OpenAI-compatible chat API.

Our own retry loop (the SDK's is off: max_retries=0), so every attempt has its own deadline
(LLM_TIMEOUT) and a server's Retry-After can never park a review for minutes:
- transient failures (timeouts, connection, 408/409/429 rate limits, 5xx, a 200 that is not
  a completion, `choices: null`, `content: null`) are retried up to LLM_MAX_ATTEMPTS with
  exponential backoff and jitter; a Retry-After is honoured up to `max_retry_after_s`, and a
  longer one pauses the LLM for that long (reviews fall back to the rules meanwhile);
- final failures are not retried: quota exhausted (429 insufficient_quota), 400/401/403/404,
  refusal, content filter; quota and auth problems also pause the LLM and log an admin line;
- an invalid reply (not JSON, fenced or prose-wrapped JSON that does not validate, wrong
  types such as "8/10", missing fields, score out of range, `finish_reason: length`, a reply
  in the wrong script for the review language) gets at most one repair request, then
  AnalysisError. Text suggestions whose "original" is not in the resume are dropped.
Errors come out as resumebek.errors.LLMUnavailable / LLMRejected; the analyzer falls back to
the rule-based review. Logs carry kinds, statuses, attempts and durations, never text.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import anyio
import openai
import pydantic
from openai.types.chat import ChatCompletion

from resumebek.config import Settings
from resumebek.domain import prompts, review_rules
from resumebek.domain.budget import budget
from resumebek.domain.rubric import anchor_llm_score
from resumebek.errors import AnalysisError, LLMRejected, LLMUnavailable
from resumebek.messages import Review, TextSuggestion
from resumebek.metrics import LLM_RETRIES
from services.ports import ReviewRequest

log = logging.getLogger("resumebek.llm")

_NOT_RETRIED = {400, 401, 403, 404, 422}
_PAUSE_ON_AUTH_S = 600.0  # a bad key or exhausted quota will not fix itself in seconds
_MAX_STRING = 600


class _UnsupportedParameter(Exception):
    """A 400 naming one of our optional parameters (newer models refuse `max_tokens` or a
    non-default `temperature`): adapt once and ask again."""

    def __init__(self, param: str) -> None:
        super().__init__(param)
        self.param = param


_ADAPTABLE = {"max_tokens", "temperature"}


class _InvalidReply(Exception):
    """The reply arrived but is not a usable review; `kind` says why."""

    def __init__(self, kind: str, content: str | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.content = content


@dataclass(frozen=True, slots=True)
class _Payload:
    summary: str
    strengths: tuple[str, ...]
    improvements: tuple[str, ...]
    suggestions: tuple[TextSuggestion, ...]
    score: int


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            return None  # an HTTP date: rare for LLM APIs; fall back to our own backoff
    return None


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def _extract_json(content: str) -> Any:
    """JSON from a reply: bare, inside a code fence, or wrapped in prose."""
    candidates = [content.strip()]
    fenced = _FENCE.search(content)
    if fenced:
        candidates.append(fenced.group(1).strip())
    start, end = content.find("{"), content.rfind("}")
    if 0 <= start < end:
        candidates.append(content[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise _InvalidReply("invalid_json", content)


def _string(value: object, kind: str, content: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _InvalidReply(kind, content)
    return value.strip()[:_MAX_STRING]


def _strings(value: object, kind: str, content: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _InvalidReply(kind, content)
    return tuple(_string(item, kind, content) for item in value)[:5]


def parse_reply(content: str) -> _Payload:
    """Validate one reply; raise _InvalidReply with the first problem found."""
    data = _extract_json(content)
    if not isinstance(data, dict):
        raise _InvalidReply("invalid_shape", content)
    for key in ("summary", "strengths", "improvements", "text_suggestions", "score"):
        if key not in data:
            raise _InvalidReply("missing_field", content)
    score = data["score"]
    if isinstance(score, bool) or not isinstance(score, int):
        raise _InvalidReply("wrong_type", content)  # "8/10", "8", 8.5: ask again, never guess
    if not 1 <= score <= 10:
        raise _InvalidReply("score_out_of_range", content)
    raw_suggestions = data["text_suggestions"]
    if not isinstance(raw_suggestions, list):
        raise _InvalidReply("wrong_type", content)
    suggestions: list[TextSuggestion] = []
    for item in raw_suggestions[:3]:
        if not isinstance(item, dict):
            raise _InvalidReply("wrong_type", content)
        suggestions.append(
            TextSuggestion(
                original=_string(item.get("original"), "wrong_type", content),
                suggested=_string(item.get("suggested"), "wrong_type", content),
                reason=_string(item.get("reason", ""), "wrong_type", content)
                if item.get("reason")
                else "",
            )
        )
    return _Payload(
        summary=_string(data["summary"], "wrong_type", content),
        strengths=_strings(data["strengths"], "wrong_type", content),
        improvements=_strings(data["improvements"], "wrong_type", content),
        suggestions=tuple(suggestions),
        score=score,
    )


def _rule_findings(request: ReviewRequest) -> review_rules.RuleFindings:
    """The rules' facts and score: from the request when the caller ran them, else now."""
    if request.findings and request.rules_score is not None:
        injection = any(c.name == "injection" and not c.passed for c in request.findings)
        return review_rules.RuleFindings(
            checks=request.findings, score=request.rules_score, injection=injection
        )
    return review_rules.findings(request.text, notes=request.quality_notes)


def _comparable(text: str) -> str:
    return " ".join(text.lower().strip(" \t\n\"'«»“”„.,;:•-–—").split())


def _grounded(suggestions: tuple[TextSuggestion, ...], resume: str) -> tuple[TextSuggestion, ...]:
    """Only rewrites of sentences that really are in the resume: a model that "quotes" a
    sentence the candidate never wrote would put words in their mouth."""
    haystack = _comparable(resume)
    return tuple(s for s in suggestions if _comparable(s.original) in haystack)


def _written_in(payload: _Payload, lang: str) -> bool:
    """The reply is in the requested script: Cyrillic for kk/ru, Latin for en."""
    text = " ".join((payload.summary, *payload.strengths, *payload.improvements))
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 20:
        return True  # too little to judge
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in letters) / len(letters)
    return cyrillic < 0.5 if lang == "en" else cyrillic >= 0.5


class OpenAIReviewer:
    """ResumeReviewer over openai.AsyncOpenAI (see the module docstring)."""

    def __init__(
        self,
        *,
        client: openai.AsyncOpenAI,
        model: str,
        response_format: str = "json_schema",
        timeout_s: float = 60.0,
        max_attempts: int = 3,
        concurrency: int = 8,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        max_retry_after_s: float = 20.0,
        max_tokens: int = 1400,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self.model = model
        self._response_format = response_format
        self._timeout_s = timeout_s
        self._max_attempts = max(1, max_attempts)
        self._limiter = anyio.CapacityLimiter(max(1, concurrency))
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._max_retry_after_s = max_retry_after_s
        self._max_tokens = max_tokens
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._paused_until = 0.0
        self._paused_kind = ""
        self._unsupported: set[str] = set()  # parameters this model refused (learned once)
        self.attempts = 0  # HTTP requests made, for tests and benchmarks

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> OpenAIReviewer:
        client = openai.AsyncOpenAI(
            api_key=settings.openai_key.reveal(),
            base_url=settings.openai_base_url,
            max_retries=0,  # our loop retries; the SDK's would sleep a Retry-After of 120 s
            timeout=settings.llm_timeout_s,
        )
        options: dict[str, Any] = {
            "client": client,
            "model": settings.model,
            "response_format": settings.llm_response_format,
            "timeout_s": settings.llm_timeout_s,
            "max_attempts": settings.llm_max_attempts,
            "concurrency": settings.llm_concurrency,
        }
        options.update(overrides)
        return cls(**options)

    async def aclose(self) -> None:
        await self._client.close()

    # ------------------------------------------------------------ the review

    async def review(self, request: ReviewRequest) -> Review:
        now = self._monotonic()
        if now < self._paused_until:
            raise LLMUnavailable("paused_" + self._paused_kind, self._paused_until - now)
        budgeted = budget(request.text)
        if budgeted is None:
            raise LLMRejected("unreadable_text")
        notes = request.quality_notes + (("truncated",) if budgeted.truncated else ())
        rules = _rule_findings(request)
        base = prompts.messages(
            budgeted.text,
            lang=request.language,
            resume_language=request.resume_language,
            findings=rules.checks,
            rules_score=rules.score,
            notes=notes,
        )
        started = time.perf_counter()
        payload, model, tokens = await self._ask(base, request)
        latency_ms = int((time.perf_counter() - started) * 1000)
        return self._to_review(payload, request, rules, model, tokens, latency_ms)

    def _to_review(
        self,
        payload: _Payload,
        request: ReviewRequest,
        rules: review_rules.RuleFindings,
        model: str,
        tokens: int,
        latency_ms: int,
    ) -> Review:
        strengths, improvements = payload.strengths, payload.improvements
        if len(strengths) < 3 or len(improvements) < 3:
            # keep the 3–5 promise with the rules' own points, in the same language
            fill = review_rules.rule_review(
                request.text,
                language=request.language,
                resume_language=request.resume_language,
                notes=request.quality_notes,
            )
            strengths = (strengths + tuple(s for s in fill.strengths if s not in strengths))[
                : max(3, len(strengths))
            ]
            improvements = (
                improvements + tuple(s for s in fill.improvements if s not in improvements)
            )[: max(3, len(improvements))]
        return Review(
            summary=payload.summary,
            strengths=strengths,
            improvements=improvements,
            text_suggestions=_grounded(payload.suggestions, request.text),
            score=anchor_llm_score(payload.score, rules.score, injection=rules.injection),
            language=request.language,
            source="llm",
            checks=rules.checks,
            model=model,
            tokens=tokens,
            latency_ms=latency_ms,
        )

    def _format(self) -> dict[str, Any]:
        if self._response_format == "json_object":
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {
                "name": "resume_review",
                "strict": True,
                "schema": prompts.REVIEW_SCHEMA,
            },
        }

    async def _ask(
        self, base: Sequence[Mapping[str, str]], request: ReviewRequest
    ) -> tuple[_Payload, str, int]:
        messages: list[Mapping[str, str]] = list(base)
        tokens = 0
        attempt = 0
        repaired = False
        max_tokens = self._max_tokens
        while True:
            attempt += 1
            self.attempts += 1
            try:
                content, model, used = await self._call(messages, max_tokens)
                tokens += used
                payload = parse_reply(content)
                if not _written_in(payload, request.language):
                    raise _InvalidReply("wrong_language", content)
                return payload, model, tokens
            except _InvalidReply as exc:
                if repaired:
                    log.warning("llm.invalid trace=%s kind=%s repaired=1", request.trace, exc.kind)
                    raise AnalysisError(exc.kind) from None
                repaired = True
                log.info("llm.repair trace=%s kind=%s", request.trace, exc.kind)
                LLM_RETRIES.inc()
                if exc.kind == "length":
                    max_tokens *= 2  # the JSON was cut: room to finish it, never a patched-up half
                    messages = list(base)
                else:
                    messages = [
                        *base,
                        {"role": "assistant", "content": (exc.content or "")[:4000]},
                        {"role": "user", "content": prompts.repair_prompt(request.language)},
                    ]
            except _UnsupportedParameter as exc:
                if attempt > self._max_attempts:
                    raise LLMRejected("http_400") from None
                log.info("llm.adapt trace=%s unsupported=%s", request.trace, exc.param)
                self._unsupported.add(exc.param)
            except LLMRejected as exc:
                log.warning(
                    "llm.rejected trace=%s kind=%s attempt=%d", request.trace, exc.kind, attempt
                )
                raise
            except LLMUnavailable as exc:
                delay = self._delay(attempt, exc.retry_after)
                if attempt >= self._max_attempts or delay is None:
                    if exc.retry_after is not None and delay is None:
                        self._pause(exc.retry_after, exc.kind)
                    log.warning(
                        "llm.unavailable trace=%s kind=%s attempts=%d",
                        request.trace,
                        exc.kind,
                        attempt,
                    )
                    raise
                log.info(
                    "llm.retry trace=%s kind=%s attempt=%d delay_ms=%d",
                    request.trace,
                    exc.kind,
                    attempt,
                    int(delay * 1000),
                )
                LLM_RETRIES.inc()
                await self._sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before the next attempt; None when the server asks for longer than we wait."""
        if retry_after is not None:
            if retry_after > self._max_retry_after_s:
                return None
            return retry_after + self._rng.uniform(0, 0.1 * retry_after)
        backoff = min(self._backoff_max_s, self._backoff_base_s * 2.0 ** (attempt - 1))
        return backoff * self._rng.uniform(0.75, 1.25)

    def _pause(self, seconds: float, kind: str) -> None:
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)
        self._paused_kind = kind

    async def _call(
        self, messages: Sequence[Mapping[str, str]], max_tokens: int
    ) -> tuple[str, str, int]:
        """One request → (content, model, tokens). Raises LLMUnavailable, LLMRejected or
        _InvalidReply; nothing from the SDK escapes."""
        try:
            async with self._limiter:
                with anyio.fail_after(self._timeout_s):
                    completion = await self._client.chat.completions.create(
                        model=self.model,
                        messages=cast(Any, messages),
                        response_format=cast(Any, self._format()),
                        timeout=self._timeout_s,
                        **self._sampling(max_tokens),
                    )
        except TimeoutError:
            raise LLMUnavailable("timeout") from None
        except openai.APITimeoutError:
            raise LLMUnavailable("timeout") from None
        except openai.APIConnectionError:
            raise LLMUnavailable("connection") from None
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from None
        except (openai.APIError, pydantic.ValidationError, ValueError, TypeError, AttributeError):
            # a 200 whose body is not JSON (JSONDecodeError) or not a completion (TypeError)
            raise LLMUnavailable("bad_response") from None
        return self._content(completion)

    def _sampling(self, max_tokens: int) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if "temperature" not in self._unsupported:
            options["temperature"] = 0  # the same resume should read the same way twice
        if "max_tokens" not in self._unsupported:
            options["max_tokens"] = max_tokens
        else:
            options["max_completion_tokens"] = max_tokens
        return options

    def _status_error(self, exc: openai.APIStatusError) -> AnalysisError | _UnsupportedParameter:
        status = exc.status_code
        code = (exc.code or "") if isinstance(exc.code, str) else ""
        param = getattr(exc, "param", None)
        if (
            status == 400
            and code in {"unsupported_parameter", "unsupported_value"}
            and param in _ADAPTABLE
            and param not in self._unsupported
        ):
            return _UnsupportedParameter(str(param))
        if status == 429 and code == "insufficient_quota":
            log.error(
                "llm.admin kind=quota_exhausted status=429: check the OpenAI plan and billing"
            )
            self._pause(_PAUSE_ON_AUTH_S, "quota")
            return LLMRejected("quota")
        if status in _NOT_RETRIED:
            if status in {401, 403}:
                log.error("llm.admin kind=auth status=%d: check API / OPENAI_API_KEY", status)
                self._pause(_PAUSE_ON_AUTH_S, "auth")
            else:
                log.error("llm.admin kind=bad_request status=%d code=%s", status, code or "-")
            return LLMRejected(f"http_{status}")
        if status == 429:
            return LLMUnavailable("rate_limited", _retry_after(dict(exc.response.headers)))
        if status >= 500 or status in {408, 409}:
            return LLMUnavailable(f"http_{status}", _retry_after(dict(exc.response.headers)))
        return LLMRejected(f"http_{status}")

    @staticmethod
    def _content(completion: Any) -> tuple[str, str, int]:
        if not isinstance(completion, ChatCompletion):
            raise LLMUnavailable("bad_response")  # e.g. a 200 with a text/plain body
        usage = getattr(completion, "usage", None)
        tokens = int(getattr(usage, "total_tokens", 0) or 0) if usage is not None else 0
        model = str(getattr(completion, "model", "") or "")
        choices = getattr(completion, "choices", None)
        if not choices:
            raise LLMUnavailable("no_choices")
        choice = choices[0]
        message = getattr(choice, "message", None)
        finish = getattr(choice, "finish_reason", None)
        if finish == "content_filter":
            raise LLMRejected("content_filter")
        if message is not None and getattr(message, "refusal", None):
            raise LLMRejected("refusal")
        content = getattr(message, "content", None) if message is not None else None
        if finish == "length":
            raise _InvalidReply("length", None)
        if not isinstance(content, str) or not content.strip():
            raise LLMUnavailable("no_content")
        return content, model, tokens
