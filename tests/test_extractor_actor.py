"""The extractor actor with fakes: downloads, extraction outcomes, detection, the
"analyze anyway" cache, localized rejections, analytics, metrics and concurrency."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import anyio
import pytest

from resumebek import metrics
from resumebek.actors import extractor
from resumebek.config import Settings
from resumebek.domain.rejections import rejection_html
from resumebek.errors import DeliveryError, ExtractionError
from resumebek.extraction_job import classify
from resumebek.messages import (
    AnalyticsEvent,
    AnalyzeAnyway,
    CallbackButton,
    ChatAction,
    ChatRef,
    DocumentReceived,
    Language,
    Outgoing,
    Requester,
    RequestSettled,
    ResumeExtracted,
    TextReceived,
    UserRef,
)
from resumebek.runtime.mailbox import Mailbox
from services.ports import Classifier, Detection, Extraction
from tests.fakes import FakeClock, Recorder

T = TypeVar("T")

RESUME = (
    "Aruzhan Testova\nJunior data analyst · Almaty · +7 700 000 00 00 · aruzhan@example.kz\n"
    "Experience\nData analyst intern, Test Bank, 2023 – 2024: built weekly dashboards.\n"
    "Education\nBSc Statistics, Test University, 2019 – 2023\n"
    "Skills\nSQL, Python, Power BI\nLanguages\nKazakh — native, Russian — fluent, English — B2"
)
COVER_LETTER = (
    "Dear Hiring Manager,\n\nI am writing to apply for the Junior Analyst position. I graduated "
    "from Test University in 2023 and worked as an intern at Test Bank, where I built "
    "dashboards. Please find my CV attached.\n\nSincerely,\nAruzhan"
)
SECRET_NAME = "Aruzhan"


def who(lang: Language = "ru", user: int = 42) -> Requester:
    return Requester(chat=ChatRef(1000 + user), user=UserRef(user), ui_language=lang)


def document(
    trace: str = "t1", *, size: int = 1000, lang: Language = "ru", user: int = 42
) -> DocumentReceived:
    return DocumentReceived(
        trace=trace,
        who=who(lang, user),
        message_id=7,
        file_id=f"file-{trace}",
        file_name="Aruzhan_CV.pdf",
        mime_type="application/pdf",
        size=size,
        received_at=1_780_000_000.0,
    )


class WaitingRecorder(Recorder[T]):
    """A Recorder whose tests can wait (without sleeping) for the n-th message."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._changed = anyio.Event()

    async def send(self, message: T) -> None:
        await super().send(message)
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, count: int) -> None:
        while len(self.items) < count:
            await self._changed.wait()


class FakeExtractor:
    """Returns a scripted Extraction; can wait on an event to prove concurrency. Like the
    pool, it runs a classifier it is given on an "ok" text (here, in this process), unless
    the script already carries the figures."""

    def __init__(self, result: Extraction, *, gate: anyio.Event | None = None) -> None:
        self.result = result
        self.gate = gate
        self.calls = 0
        self.classifiers: list[Classifier | None] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.busy = anyio.Event()  # set once `wait_busy` callers' count is reached
        self._busy_target = 0

    async def extract(
        self,
        data: bytes,
        *,
        name_hint: str,
        mime_type: str | None,
        classifier: Classifier | None = None,
    ) -> Extraction:
        self.calls += 1
        self.classifiers.append(classifier)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self._busy_target and self.in_flight >= self._busy_target:
            self.busy.set()
        try:
            if self.gate is not None:
                await self.gate.wait()
            result = self.result
            if classifier is not None and result.outcome == "ok" and result.detection is None:
                result = replace(result, detection=classifier(result.text))
            return result
        finally:
            self.in_flight -= 1

    async def wait_busy(self, count: int) -> None:
        self._busy_target = count
        if self.in_flight < count:
            await self.busy.wait()


def downloader(
    data: bytes = b"%PDF-", error: Exception | None = None
) -> tuple[Callable[[str, int], Awaitable[bytes]], list[tuple[str, int]]]:
    calls: list[tuple[str, int]] = []

    async def download(file_id: str, max_bytes: int) -> bytes:
        calls.append((file_id, max_bytes))
        if error is not None:
            raise error
        return data

    return download, calls


class Harness:
    def __init__(
        self,
        result: Extraction,
        *,
        download: Callable[[str, int], Awaitable[bytes]] | None = None,
        gate: anyio.Event | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.inbox: Mailbox[DocumentReceived | TextReceived | AnalyzeAnyway] = Mailbox(
            "extractor", 100
        )
        self.analyzer: WaitingRecorder[ResumeExtracted] = WaitingRecorder("analyzer")
        self.outbox: WaitingRecorder[Outgoing | ChatAction] = WaitingRecorder("outbox")
        self.analytics: Recorder[AnalyticsEvent] = Recorder("analytics")
        self.ingress: Recorder[RequestSettled] = Recorder("ingress")
        self.clock = FakeClock()
        self.extractor = FakeExtractor(result, gate=gate)
        self.download = download or downloader()[0]
        self.settings = settings or Settings()

    async def run(self, *messages: DocumentReceived | TextReceived | AnalyzeAnyway) -> None:
        for msg in messages:
            await self.inbox.send(msg)
        self.inbox.close()
        with anyio.fail_after(5):
            await self.actor()

    async def actor(self) -> None:
        await extractor.run(
            self.inbox,
            to_analyzer=self.analyzer,
            to_outbox=self.outbox,
            to_analytics=self.analytics,
            download=self.download,
            extractor=self.extractor,
            clock=self.clock,
            settings=self.settings,
            concurrency=2,
            to_ingress=self.ingress,
        )

    @property
    def replies(self) -> list[Outgoing]:
        return [m for m in self.outbox.items if isinstance(m, Outgoing)]

    def events(self, name: str) -> list[AnalyticsEvent]:
        return [e for e in self.analytics.items if e.name == name]


def ok(text: str = RESUME, fmt: str = "pdf") -> Extraction:
    return Extraction(outcome="ok", format=fmt, text=text, pages=1, notes=("multi_column",))


async def test_resume_goes_to_the_analyzer_with_everything_it_needs() -> None:
    h = Harness(ok())
    msg = document()
    await h.run(msg)
    assert h.replies == []
    [sent] = h.analyzer.items
    assert sent.trace == msg.trace and sent.who == msg.who
    assert sent.text == RESUME and sent.format == "pdf" and sent.pages == 1
    assert sent.language == "en" and sent.language_confidence > 0.5
    assert sent.resume_confidence >= 40 and "section:experience" in sent.signals
    assert sent.quality_notes == ("multi_column",)
    assert sent.received_at == msg.received_at and sent.forced is False
    [received] = h.events("resume_received")
    assert received.fields["format"] == "pdf"
    assert any(isinstance(m, ChatAction) for m in h.outbox.items)


async def test_oversized_document_is_refused_without_download() -> None:
    download, calls = downloader()
    h = Harness(ok(), download=download)
    await h.run(document(size=h.settings.max_file_bytes + 1, lang="kk"))
    assert calls == []
    [reply] = h.replies
    assert reply.kind == "rejection" and reply.language == "kk"
    assert reply.html == rejection_html("too_large", "kk", format="unknown")
    assert "10 МБ" in reply.html
    received, rejected = h.analytics.items
    assert (received.name, rejected.name) == ("resume_received", "resume_rejected")
    assert received.fields == {"format": "pdf", "size_bucket": ">=5MB"}
    assert rejected.fields["reason"] == "too_large"


async def test_download_is_bounded_by_the_size_cap() -> None:
    download, calls = downloader()
    h = Harness(ok(), download=download)
    await h.run(document())
    assert calls == [("file-t1", h.settings.max_file_bytes)]


@pytest.mark.parametrize("error", [DeliveryError("network"), OSError("reset"), TimeoutError()])
async def test_download_failure_asks_to_send_again(error: Exception) -> None:
    h = Harness(ok(), download=downloader(error=error)[0])
    await h.run(document(lang="en"))
    [reply] = h.replies
    assert reply.kind == "error" and "try sending it again" in reply.html
    assert h.analyzer.items == []
    [err] = h.events("error")
    assert err.fields == {"actor": "extractor", "kind": "download_failed"}


async def test_gateway_refusing_a_large_file_is_too_large() -> None:
    h = Harness(ok(), download=downloader(error=ExtractionError("too_large"))[0])
    await h.run(document(lang="en"))
    [reply] = h.replies
    assert reply.html == rejection_html("too_large", "en", format="unknown")
    assert [e.name for e in h.analytics.items] == ["resume_received", "resume_rejected"]


@pytest.mark.parametrize(
    ("outcome", "fmt"),
    [
        ("no_text", "pdf"),
        ("encrypted", "pdf"),
        ("unsupported_format", "doc"),
        ("corrupt", "docx"),
        ("timeout", "pdf"),
        ("too_many_pages", "pdf"),
        ("too_short", "txt"),
    ],
)
async def test_extraction_failures_get_a_localized_reason(outcome: str, fmt: str) -> None:
    before = metrics.REJECTIONS.labels(reason=outcome)._value.get()
    result = Extraction(outcome=outcome, format=fmt)  # type: ignore[arg-type]
    h = Harness(result)
    await h.run(document(lang="kk"))
    [reply] = h.replies
    assert reply.kind == "rejection" and reply.language == "kk" and reply.buttons == ()
    assert reply.html == rejection_html(outcome, "kk", format=fmt)  # type: ignore[arg-type]
    assert h.analyzer.items == []
    [rejected] = h.events("resume_rejected")
    assert rejected.fields == {"reason": outcome, "format": fmt}
    assert rejected.user == UserRef(42) and rejected.trace == "t1"
    assert metrics.REJECTIONS.labels(reason=outcome)._value.get() == before + 1


def figures(sent: ResumeExtracted) -> Detection:
    return Detection(
        resume_confidence=sent.resume_confidence,
        signals=sent.signals,
        language=sent.language,
        language_confidence=sent.language_confidence,
    )


def no_detection_here(text: str) -> Detection:
    raise AssertionError("the detectors ran in the extractor actor, on the event loop")


async def test_a_document_is_classified_in_its_extraction_job() -> None:
    h = Harness(ok())
    await h.run(document())
    assert h.extractor.classifiers == [classify]  # the pool runs it in the worker
    [sent] = h.analyzer.items
    assert figures(sent) == classify(RESUME)


async def test_the_actor_decides_with_the_workers_figures_and_detects_nothing_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(extractor, "classify", no_detection_here)
    worker = Detection(
        resume_confidence=97, signals=("from:worker",), language="kk", language_confidence=0.9
    )
    h = Harness(replace(ok(COVER_LETTER), detection=worker))
    await h.run(document())
    [sent] = h.analyzer.items  # a cover letter reviewed: the worker's figures said resume
    assert figures(sent) == worker and h.replies == []


async def test_not_a_resume_offers_analyze_anyway_and_forwards_when_pressed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(ok(COVER_LETTER, "docx"))
    await h.inbox.send(document(lang="en"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(h.actor)
        with anyio.fail_after(5):
            await h.outbox.wait_for(2)  # typing, then the reply
        [reply] = h.replies
        assert reply.kind == "rejection"
        assert reply.html == rejection_html("not_resume", "en", format="docx")
        [[button]] = reply.buttons
        assert isinstance(button, CallbackButton) and button.text == "Analyze anyway"
        prefix, token = button.data.split(":")
        assert prefix == "anyway" and len(token) == 16 and int(token, 16) >= 0
        assert len(button.data.encode()) <= 64
        # the figures were kept with the text: pressing the button detects nothing again
        monkeypatch.setattr(extractor, "classify", no_detection_here)
        await h.inbox.send(AnalyzeAnyway(trace="t2", who=who("en"), token=token))
        with anyio.fail_after(5):
            await h.analyzer.wait_for(1)
        h.inbox.close()
    [sent] = h.analyzer.items
    assert sent.forced is True and sent.text == COVER_LETTER and sent.format == "docx"
    assert sent.trace == "t2" and sent.resume_confidence < 40
    assert figures(sent) == classify(COVER_LETTER)


async def test_analyze_anyway_works_once_only_for_its_owner_and_expires() -> None:
    cache = extractor.AnywayCache(ttl_s=60, max_items=2)
    figures = Detection(resume_confidence=10, language="en", language_confidence=0.5)

    def put(text: str) -> str:
        return cache.put(
            now=0,
            user=1,
            text=text,
            format="txt",
            pages=1,
            notes=(),
            detection=figures,
            received_at=0,
        )

    token = put("x")
    assert cache.take(token, now=1, user=2) is None  # someone else's button
    kept = cache.take(token, now=1, user=1)
    assert kept is not None and kept.detection == figures
    assert cache.take(token, now=2, user=1) is None  # used
    token = put("x")
    assert cache.take(token, now=61, user=1) is None  # expired
    tokens = [put(str(i)) for i in range(3)]
    assert len(cache) == 2 and cache.take(tokens[0], now=1, user=1) is None  # bounded


async def test_expired_anyway_asks_for_the_file_again() -> None:
    h = Harness(ok())
    await h.run(AnalyzeAnyway(trace="t9", who=who("ru"), token="0123456789abcdef"))
    [reply] = h.replies
    assert "отправьте файл ещё раз" in reply.html
    assert h.analyzer.items == []


async def test_pasted_text_is_cleaned_and_detected() -> None:
    h = Harness(ok())
    text = RESUME.replace("fi", "ﬁ") + "\u00ad\x00"
    await h.run(TextReceived(trace="p1", who=who(), message_id=3, text=text, received_at=5.0))
    [sent] = h.analyzer.items
    assert sent.format == "text" and "\x00" not in sent.text and "ﬁ" not in sent.text
    assert h.extractor.calls == 0


async def test_pasted_short_text_is_too_short() -> None:
    h = Harness(ok())
    await h.run(
        TextReceived(
            trace="p1", who=who("kk"), message_id=3, text="Опыт работы: 2 года", received_at=5.0
        )
    )
    [reply] = h.replies
    assert reply.html == rejection_html("too_short", "kk", format="text")


async def test_pasted_cover_letter_is_not_a_resume() -> None:
    h = Harness(ok())
    await h.run(
        TextReceived(trace="p1", who=who("ru"), message_id=3, text=COVER_LETTER, received_at=5.0)
    )
    [reply] = h.replies
    assert reply.kind == "rejection" and reply.buttons[0][0].text == "Всё равно разобрать"


async def test_documents_are_extracted_concurrently() -> None:
    gate = anyio.Event()
    h = Harness(ok(), gate=gate)
    for i in range(3):
        await h.inbox.send(document(trace=f"c{i}"))
    h.inbox.close()
    async with anyio.create_task_group() as tg:
        tg.start_soon(h.actor)
        with anyio.fail_after(5):
            await h.extractor.wait_busy(2)
        assert h.extractor.max_in_flight == 2  # concurrency=2: both workers busy
        gate.set()
    assert len(h.analyzer.items) == 3


async def test_logs_carry_no_resume_text_or_file_names(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    h = Harness(ok(COVER_LETTER))
    await h.run(
        document(), TextReceived(trace="p", who=who(), message_id=1, text=RESUME, received_at=1.0)
    )
    assert caplog.records
    for record in caplog.records:
        line = record.getMessage()
        assert SECRET_NAME not in line and "CV.pdf" not in line and "file-t1" not in line


async def test_actor_returns_when_inbox_ends() -> None:
    h = Harness(ok())
    await h.run()
    assert h.analyzer.items == [] and h.replies == []


def test_run_signature_is_keyword_only() -> None:
    import inspect

    params = inspect.signature(extractor.run).parameters
    assert list(params)[0] == "inbox"
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(params.values())[1:])
    assert set(params) == {
        "inbox",
        "to_analyzer",
        "to_outbox",
        "to_analytics",
        "download",
        "extractor",
        "clock",
        "settings",
        "concurrency",
        "to_ingress",  # optional (quota refunds): the brief's signature still works
    }
    assert params["to_ingress"].default is None


def text_message(text: str, *, lang: Language = "en") -> TextReceived:
    return TextReceived(
        trace="t-long", who=who(lang), message_id=9, text=text, received_at=1_780_000_000.0
    )


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_text_far_longer_than_a_resume_is_refused_not_reviewed(lang: Language) -> None:
    repeated = (RESUME + "\n\n") * (200_000 // len(RESUME) + 1)  # a resume pasted ~500 times
    h = Harness(ok())
    await h.run(text_message(repeated, lang=lang))
    assert h.analyzer.items == []  # never reaches the analyzer (nor the LLM)
    [reply] = h.replies
    assert reply.html == rejection_html("too_many_pages", lang)
    [rejected] = h.events("resume_rejected")
    assert rejected.fields["reason"] == "too_many_pages"


async def test_document_text_far_longer_than_a_resume_is_refused() -> None:
    h = Harness(ok(text=RESUME * 100, fmt="txt"))
    await h.run(document(lang="en"))
    assert h.analyzer.items == []
    [reply] = h.replies
    assert reply.html == rejection_html("too_many_pages", "en")


async def test_a_long_but_real_resume_is_still_reviewed() -> None:
    h = Harness(ok(text=RESUME * 20))  # ~9,000 characters: a long resume, not a book
    await h.run(document())
    assert len(h.analyzer.items) == 1 and h.replies == []


def test_too_many_pages_text_fits_pasted_text_too() -> None:
    for lang in ("kk", "ru", "en"):
        html = rejection_html("too_many_pages", lang)
        assert "PDF" in html and "DOCX" in html
    assert "characters" in rejection_html("too_many_pages", "en")
    assert "знаков" in rejection_html("too_many_pages", "ru")
    assert "таңба" in rejection_html("too_many_pages", "kk")


async def test_only_a_review_keeps_its_quota() -> None:
    h = Harness(ok())
    await h.run(document("t1"))
    assert len(h.analyzer.items) == 1
    assert h.ingress.items == [RequestSettled(trace="t1", user=UserRef(42), reviewed=True)]


@pytest.mark.parametrize(
    "result",
    [
        Extraction(outcome="corrupt", format="pdf"),
        Extraction(outcome="no_text", format="pdf"),
        ok(COVER_LETTER),  # not a resume: "analyze anyway" is charged when pressed
    ],
)
async def test_a_rejected_document_gives_its_quota_back(result: Extraction) -> None:
    h = Harness(result)
    await h.run(document("t1", user=7))
    assert h.analyzer.items == []
    assert h.ingress.items == [RequestSettled(trace="t1", user=UserRef(7), reviewed=False)]


async def test_refused_downloads_and_short_texts_give_their_quota_back() -> None:
    h = Harness(ok(), download=downloader(error=DeliveryError("network"))[0])
    short = TextReceived(trace="t2", who=who(), message_id=1, text="hi there", received_at=0.0)
    expired = AnalyzeAnyway(trace="t3", who=who(), token="0123456789abcdef")
    await h.run(document("t1"), short, expired, document("t4", size=h.settings.max_file_bytes + 1))
    assert sorted(r.trace for r in h.ingress.items) == ["t1", "t2", "t3", "t4"]
    assert not any(r.reviewed for r in h.ingress.items)


async def test_a_full_ingress_mailbox_never_blocks_the_extractor() -> None:
    h = Harness(Extraction(outcome="corrupt", format="pdf"))
    h.ingress.closed = True  # send_nowait refuses: the refund is dropped, nothing waits
    await h.run(document("t1"))
    [reply] = h.replies
    assert reply.kind == "rejection"
