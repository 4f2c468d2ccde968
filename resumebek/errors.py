"""The one error tree of Resumebek.

ResumebekError
├── ConfigError            bad or missing setting or supervisor.toml key (start-up only)
├── MailboxClosed          the target actor stopped taking messages (shutdown)
├── UnknownActor           a control request named an actor the supervisor does not have
├── ControlUnavailable     no running process answers on the control socket (`ctl`)
├── AlreadyRunning         another live process owns this DATA_DIR's control socket
├── ExtractionError        a document could not be turned into text (carries a RejectReason)
├── AnalysisError          the LLM could not give a valid review
│   ├── LLMUnavailable     transient: retry later (timeouts, 5xx, rate limits, connection)
│   └── LLMRejected        final: refusal, content filter, quota, auth, bad request
└── DeliveryError          Telegram refused or failed a send
    ├── FloodWait          wait `retry_after` seconds, then retry the same message
    ├── RecipientGone      user blocked the bot, account deleted, peer unknown: drop
    ├── MessageTooLong     the text is over Telegram's limit after parsing
    ├── MessageNotModified an edit with identical content: ignore
    └── BadButtonUrl       an inline URL button Telegram refuses

Messages never contain chat ids, names or resume text: data goes in attributes.
Adapters in services/ translate SDK errors into these at the boundary.
"""

from __future__ import annotations

import errno


class ResumebekError(Exception):
    """Base of every error Resumebek raises on purpose."""


class ConfigError(ResumebekError):
    """A setting or a supervisor.toml key is missing or malformed; `name` says which."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


class MailboxClosed(ResumebekError):
    """The mailbox no longer takes messages (its actor is shutting down)."""

    def __init__(self, actor: str) -> None:
        super().__init__(f"mailbox of {actor!r} is closed")
        self.actor = actor


class UnknownActor(ResumebekError):
    """A control request named an actor the supervisor does not have."""

    def __init__(self, actor: str, known: tuple[str, ...] = ()) -> None:
        known_text = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown actor {actor!r}{known_text}")
        self.actor = actor
        self.known = known


class ControlUnavailable(ResumebekError):
    """No running process answers on the control socket."""


class AlreadyRunning(ResumebekError):
    """Another live process already listens on this control socket."""


class ExtractionError(ResumebekError):
    """A document could not be turned into text; `reason` is a RejectReason value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AnalysisError(ResumebekError):
    """The LLM could not give a valid review; `kind` is a short machine-readable cause."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class LLMUnavailable(AnalysisError):
    """Transient: timeout, 5xx, 429 rate limit, connection. May be retried."""

    def __init__(self, kind: str, retry_after: float | None = None) -> None:
        super().__init__(kind)
        self.retry_after = retry_after


class LLMRejected(AnalysisError):
    """Final for this request: refusal, content filter, quota exhausted, 400/401/403."""


class DeliveryError(ResumebekError):
    """Telegram refused or failed a send."""


class FloodWait(DeliveryError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Telegram asked us to wait {retry_after:.0f}s")
        self.retry_after = retry_after


class RecipientGone(DeliveryError):
    """The user blocked the bot, deleted the account, or the peer cannot be resolved."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "blocked" | "deactivated" | "peer_unknown"


class MessageTooLong(DeliveryError):
    pass


class MessageNotModified(DeliveryError):
    pass


class BadButtonUrl(DeliveryError):
    pass


def os_error_kind(exc: OSError) -> str:
    """A disk error as ops know it ("ENOSPC", "EROFS", "EIO"): never the path or message,
    which can hold a user's file name."""
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
