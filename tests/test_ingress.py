from __future__ import annotations

import errno
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from resumebek.actors import ingress
from resumebek.config import Settings
from resumebek.domain.events import validate_fields
from resumebek.domain.texts import t
from resumebek.messages import (
    AnalyticsEvent,
    AnalyzeAnyway,
    CallbackAnswer,
    CancelFollowUp,
    ChatAction,
    ChatRef,
    DocumentInfo,
    DocumentReceived,
    IncomingCallback,
    IncomingMessage,
    Language,
    Outgoing,
    RequestSettled,
    TextReceived,
    Update,
    UserRef,
)
from resumebek.runtime.mailbox import Mailbox
from services import storage
from services.ingress_store import IngressStore
from services.telegram import translate_message
from tests.conftest import FIXTURES
from tests.fakes import FakeClock, Recorder
from tests.telegram_fakes import pyrogram_message

SETTINGS = Settings(user_daily_limit=3, admin_chat_ids=(777,), max_file_mb=10)
RESUME_TEXT = "Experience: data analyst intern at Kaspi, built dashboards. " * 8


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / "telegram" / name).read_text(encoding="utf-8"))


def msg(
    kind: str = "text",
    *,
    text: str = "",
    command: str | None = None,
    args: str = "",
    user: int = 42,
    mid: int = 1,
    lang: str | None = "en",
    chat_type: str = "private",
    size: int = 1000,
) -> IncomingMessage:
    return IncomingMessage(
        chat=ChatRef(user),
        user=UserRef(user),
        chat_type=chat_type,  # type: ignore[arg-type]
        message_id=mid,
        language_code=lang,
        kind=kind,  # type: ignore[arg-type]
        text=text,
        command=command,
        command_args=args,
        document=DocumentInfo(
            file_id="F", file_unique_id="U", file_name="cv.pdf", mime_type=None, size=size
        )
        if kind == "document"
        else None,
        received_at=0.0,
    )


def cmd(name: str, args: str = "", **kw: Any) -> IncomingMessage:
    return msg("command", command=name, args=args, text=f"/{name}", **kw)


def press(data: str, *, user: int = 42, mid: int = 50) -> IncomingCallback:
    return IncomingCallback(
        callback_id="cb",
        chat=ChatRef(user),
        user=UserRef(user),
        message_id=mid,
        data=data,
        language_code="en",
        received_at=0.0,
    )


class Harness:
    def __init__(
        self, *, settings: Settings = SETTINGS, store: IngressStore | None = None, depth: int = 0
    ) -> None:
        self.settings = settings
        self.clock = FakeClock()
        self.store = store or IngressStore(None)
        self.depth = depth
        self.extractor: Recorder[DocumentReceived | TextReceived | AnalyzeAnyway] = Recorder()
        self.outbox: Recorder[Outgoing | ChatAction | CallbackAnswer] = Recorder()
        self.followup: Recorder[CancelFollowUp] = Recorder()
        self.analytics: Recorder[AnalyticsEvent] = Recorder()
        self.summaries: list[tuple[float, Language]] = []
        self.waits = ingress.QuotaWaits()  # kept across runs, as the app keeps it

    def summary(self, settings: Settings, now: float, lang: Language) -> tuple[str, bytes]:
        self.summaries.append((now, lang))
        return "<b>Today</b>: 3 reviews", b"<html>report</html>"

    async def run(self, *updates: Update | RequestSettled) -> None:
        inbox: Mailbox[Update | RequestSettled] = Mailbox("ingress", 100)
        for u in updates:
            await inbox.send(u)
        inbox.close()
        with anyio.fail_after(5):
            await ingress.run(
                inbox,
                to_extractor=self.extractor,
                to_outbox=self.outbox,
                to_followup=self.followup,
                to_analytics=self.analytics,
                clock=self.clock,
                settings=self.settings,
                queue_depth=lambda: self.depth,
                store=self.store,
                admin_summary=self.summary,
                waits=self.waits,
            )
        for ev in self.analytics.items:  # the analytics writer would drop an invalid event
            assert validate_fields(ev.name, ev.fields) is None, ev.name

    def store_day(self) -> str:
        from datetime import datetime

        return datetime.fromtimestamp(self.clock.now(), self.settings.zone).date().isoformat()

    def replies(self) -> list[Outgoing]:
        return [m for m in self.outbox.items if isinstance(m, Outgoing)]

    def events(self) -> list[str]:
        return [e.name for e in self.analytics.items]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("kk", "kk", id="kk"),
        pytest.param("ru-RU", "ru", id="ru"),
        pytest.param("de", "en", id="other-en"),
        pytest.param(None, "en", id="none-en"),
    ],
)
async def test_start_answers_in_telegram_language(code: str | None, expected: Language) -> None:
    h = Harness()
    await h.run(cmd("start", lang=code))
    (reply,) = h.replies()
    assert reply.language == expected
    assert reply.html == t("welcome", expected) + "\n\n" + t("privacy_summary", expected)
    assert h.events() == ["user_started"]


async def test_stored_language_wins_and_review_language_follows_it() -> None:
    h = Harness()
    await h.run(press("lang:kk"), cmd("start", lang="ru", mid=2), msg(text=RESUME_TEXT, mid=3))
    answer = h.outbox.items[0]
    assert isinstance(answer, CallbackAnswer) and answer.clear_buttons_of == 50
    assert h.replies()[1].language == "kk"
    (request,) = h.extractor.items
    assert isinstance(request, TextReceived)
    assert request.who.ui_language == "kk" and request.who.review_language == "kk"


async def test_deep_link_campaign_is_recorded() -> None:
    h = Harness()
    await h.run(cmd("start", "spring_fair-2026"), msg(text=RESUME_TEXT, mid=2))
    assert h.analytics.items[0].fields["campaign"] == "spring_fair-2026"
    (request,) = h.extractor.items
    assert request.who.campaign == "spring_fair-2026"


async def test_bad_deep_link_payload_is_not_a_campaign() -> None:
    h = Harness()
    await h.run(cmd("start", "<script>"))
    assert h.analytics.items[0].fields["campaign"] is None


async def test_language_command_offers_three_buttons() -> None:
    h = Harness()
    await h.run(cmd("language"))
    (reply,) = h.replies()
    assert [b.data for b in reply.buttons[0]] == ["lang:kk", "lang:ru", "lang:en"]  # type: ignore[union-attr]


async def test_document_gets_typing_and_placeholder_before_extraction() -> None:
    h = Harness()
    await h.run(msg("document", lang="ru"))
    action, progress = h.outbox.items
    assert isinstance(action, ChatAction)
    assert isinstance(progress, Outgoing) and progress.kind == "progress"
    assert progress.html == t("analyzing", "ru") and not progress.replace_placeholder
    (request,) = h.extractor.items
    assert isinstance(request, DocumentReceived) and request.trace == progress.trace


async def test_queue_note_under_load() -> None:
    h = Harness(depth=7)
    await h.run(msg("document"))
    progress = h.replies()[0]
    assert t("queue_position", "en", n=8) in progress.html


async def test_48mb_document_refused_from_declared_size() -> None:
    h = Harness()
    update = translate_message(pyrogram_message(fixture("tg_document_48mb.json")), received_at=0)
    assert update is not None
    await h.run(update)
    (reply,) = h.replies()
    assert reply.language == "kk" and reply.html == t("too_large", "kk", size_mb="46", max_mb="10")
    assert h.extractor.items == []
    # received first, then rejected: stats never show more rejected than received
    assert h.events() == ["resume_received", "resume_rejected"]
    received, rejected = h.analytics.items
    assert received.fields == {"format": "pdf", "size_bucket": ">=5MB"}
    assert rejected.fields["reason"] == "too_large" and received.trace == rejected.trace


async def test_photo_of_a_resume_gets_send_a_document() -> None:
    h = Harness()
    message = pyrogram_message(fixture("tg_resume_sent_as_photo.json"))
    update = translate_message(message, received_at=0)
    assert update is not None and update.kind == "photo"
    await h.run(update)
    assert [r.html for r in h.replies()] == [t("send_document", "kk")]
    assert h.extractor.items == []


@pytest.mark.parametrize("kind", ["voice", "video", "sticker", "other"])
async def test_other_media_gets_send_a_document(kind: str) -> None:
    h = Harness()
    await h.run(msg(kind))
    assert [r.html for r in h.replies()] == [t("send_document", "en")]


async def test_duplicate_update_is_processed_once_even_after_restart(tmp_path: Path) -> None:
    data = fixture("tg_duplicate_update_after_restart.json")
    first, again = (translate_message(pyrogram_message(u), received_at=0) for u in data["updates"])
    assert first is not None and again is not None
    path = tmp_path / "ingress_state.json"
    h = Harness(store=IngressStore.load(path))
    await h.run(first, again)
    assert len(h.extractor.items) == 1
    restarted = Harness(store=IngressStore.load(path))  # a new process reads the saved state
    await restarted.run(again)
    assert restarted.extractor.items == [] and restarted.outbox.items == []


async def test_short_text_gets_a_hint_and_resume_text_is_reviewed() -> None:
    h = Harness()
    await h.run(msg(text="hello"), msg(text=RESUME_TEXT, mid=2))
    assert h.replies()[0].html == t("send_resume_hint", "en")
    (request,) = h.extractor.items
    assert isinstance(request, TextReceived) and request.text == RESUME_TEXT


async def test_daily_quota_then_next_day() -> None:
    h = Harness()
    for i in range(1, 4):
        await h.run(msg(text=RESUME_TEXT, mid=i))
        await h.run(settle(h, reviewed=True))
    await h.run(msg(text=RESUME_TEXT, mid=4))
    assert len(h.extractor.items) == 3
    assert h.replies()[-1].html == t("quota_reached", "en", limit=3)
    assert h.events() == ["quota_hit"]
    h.clock.advance(24 * 3600)
    await h.run(msg(text=RESUME_TEXT, mid=5))
    assert len(h.extractor.items) == 4


def settle(h: Harness, *, reviewed: bool, index: int = -1) -> RequestSettled:
    """What the extractor reports about the request it got `index`-th."""
    request = h.extractor.items[index]
    return RequestSettled(trace=request.trace, user=request.who.user, reviewed=reviewed)


async def test_requests_that_end_without_a_review_give_their_quota_back() -> None:
    h = Harness()  # limit 3
    for i in range(1, 11):  # ten rejected uploads, one after another
        await h.run(msg("document", mid=i))
        await h.run(settle(h, reviewed=False))
    await h.run(msg(text=RESUME_TEXT, mid=20))
    assert len(h.extractor.items) == 11 and "quota_hit" not in h.events()
    await h.run(settle(h, reviewed=True))
    for i in range(21, 23):
        await h.run(msg(text=RESUME_TEXT, mid=i))
        await h.run(settle(h, reviewed=True))
    await h.run(msg(text=RESUME_TEXT, mid=23))  # three reviews: the limit
    assert len(h.extractor.items) == 13
    assert h.replies()[-1].html == t("quota_reached", "en", limit=3)


async def test_a_burst_over_the_limit_waits_for_the_earlier_requests() -> None:
    h = Harness()  # limit 3: four files at once, the first three still undecided
    await h.run(*[msg("document", mid=i) for i in range(1, 5)], msg(text=RESUME_TEXT, mid=5))
    assert len(h.extractor.items) == 3 and "quota_hit" not in h.events()
    first, second, third = (settle(h, reviewed=False, index=i) for i in range(3))
    await h.run(first)  # one unit back: the fourth file goes on, the text still waits
    assert len(h.extractor.items) == 4
    assert isinstance(h.extractor.items[3], DocumentReceived)
    await h.run(second)
    assert isinstance(h.extractor.items[4], TextReceived)  # in the order they were sent
    await h.run(third, settle(h, reviewed=True, index=3), settle(h, reviewed=True, index=4))
    await h.run(msg(text=RESUME_TEXT, mid=6))
    assert len(h.extractor.items) == 6  # third refunded: one more fits
    await h.run(msg(text=RESUME_TEXT, mid=7))  # 3 reviews, the last undecided: held
    await h.run(settle(h, reviewed=True))  # decided: the held one is refused
    assert len(h.extractor.items) == 6
    assert h.replies()[-1].html == t("quota_reached", "en", limit=3)
    assert h.events().count("quota_hit") == 1


async def test_a_request_never_reported_on_stops_holding_others() -> None:
    h = Harness()
    await h.run(*[msg(text=RESUME_TEXT, mid=i) for i in range(1, 4)])  # all undecided
    await h.run(msg(text=RESUME_TEXT, mid=4))  # held behind them
    h.clock.advance(ingress.UNDECIDED_TTL_S + 1)  # their reports were lost
    await h.run(msg(text=RESUME_TEXT, mid=5))
    quota = t("quota_reached", "en", limit=3)
    assert [r.html for r in h.replies()][-2:] == [quota, quota]  # both answered, in order
    assert len(h.extractor.items) == 3


async def test_refunds_are_bounded_per_day_and_never_go_below_zero() -> None:
    h = Harness()
    await h.run(RequestSettled(trace="x", user=UserRef(42), reviewed=False))  # nothing charged
    assert h.store.take_quota(UserRef(42), h.store_day(), 3)
    cap = ingress.MAX_REFUNDS_PER_DAY
    for i in range(cap + 2):
        await h.run(msg("document", mid=100 + i))
        await h.run(settle(h, reviewed=False))
    # after `cap` refunds a rejected upload counts: the quota runs out again
    await h.run(msg("document", mid=99))
    assert h.replies()[-1].html == t("quota_reached", "en", limit=3)
    assert h.events().count("quota_hit") == 1
    h.clock.advance(24 * 3600)  # a new day: a refund for yesterday's charge gives nothing
    await h.run(settle(h, reviewed=False))
    await h.run(*[msg(text=RESUME_TEXT, mid=300 + i) for i in range(3)])
    await h.run(*[settle(h, reviewed=True, index=-i) for i in (1, 2, 3)])
    await h.run(msg(text=RESUME_TEXT, mid=400))
    assert h.replies()[-1].html == t("quota_reached", "en", limit=3)


async def test_analyze_anyway_is_charged_when_pressed() -> None:
    h = Harness()
    await h.run(msg(text=RESUME_TEXT, mid=1))
    await h.run(settle(h, reviewed=False))  # "not a resume": refunded
    for _ in range(3):
        await h.run(press("anyway:0123456789abcdef"))
        await h.run(settle(h, reviewed=True))
    assert sum(isinstance(m, AnalyzeAnyway) for m in h.extractor.items) == 3
    await h.run(press("anyway:0123456789abcdef"))  # the fourth review today
    assert sum(isinstance(m, AnalyzeAnyway) for m in h.extractor.items) == 3
    assert h.replies()[-1].html == t("quota_reached", "en", limit=3)
    answers = [m for m in h.outbox.items if isinstance(m, CallbackAnswer)]
    assert len(answers) == 4 and answers[-1].clear_buttons_of is None


def test_refunds_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "ingress_state.json"
    store = IngressStore(path)
    day = "2026-12-03"
    assert store.take_quota(UserRef(1), day, 3) and store.refund_quota(UserRef(1), day, 1)
    assert store.take_quota(UserRef(1), day, 3)
    store.save()
    again = IngressStore.load(path)
    assert not again.refund_quota(UserRef(1), day, 1)  # the one refund was used
    assert again.refund_quota(UserRef(1), day, 2)


async def test_admin_has_no_quota() -> None:
    h = Harness()
    await h.run(*[msg(text=RESUME_TEXT, mid=i, user=777) for i in range(1, 6)])
    assert len(h.extractor.items) == 5


async def test_delete_erases_preferences_and_cancels_follow_ups() -> None:
    h = Harness()
    await h.run(press("lang:ru"), cmd("stop", mid=2), cmd("delete", mid=3))
    assert [c.reason for c in h.followup.items] == ["stop", "delete"]
    assert h.replies()[-1].html == t("delete_done", "ru")
    assert "data_deleted" in h.events()
    assert not h.store.knows_user(UserRef(42))
    await h.run(msg(text=RESUME_TEXT, mid=4, lang="en"))
    (request,) = h.extractor.items
    assert request.who.ui_language == "en" and request.who.follow_up


async def test_stop_turns_off_follow_ups_for_later_reviews() -> None:
    h = Harness()
    await h.run(cmd("stop"), msg(text=RESUME_TEXT, mid=2))
    assert h.replies()[0].html == t("stop_done", "en")
    (request,) = h.extractor.items
    assert request.who.follow_up is False


async def test_rating_is_recorded_and_buttons_cleared() -> None:
    h = Harness()
    await h.run(press("rate:down:rules:kk", mid=77))
    (answer,) = h.outbox.items
    assert isinstance(answer, CallbackAnswer)
    assert answer.text == t("rate_thanks", "kk") and answer.clear_buttons_of == 77
    (ev,) = h.analytics.items
    assert ev.name == "review_rated"
    assert dict(ev.fields) == {"rating": "down", "source": "rules", "language": "kk"}


async def test_analyze_anyway_goes_to_the_extractor_with_a_placeholder() -> None:
    h = Harness()
    await h.run(press("anyway:0123456789abcdef"))
    answer, action, progress = h.outbox.items
    assert isinstance(answer, CallbackAnswer) and isinstance(progress, Outgoing)
    (request,) = h.extractor.items
    assert isinstance(request, AnalyzeAnyway) and request.token == "0123456789abcdef"
    assert request.trace == progress.trace


async def test_stats_only_for_admins() -> None:
    h = Harness()
    await h.run(cmd("stats"), cmd("stats", user=777, mid=2))
    stranger, admin = h.replies()
    assert stranger.html == t("unknown_command", "en")
    assert admin.kind == "admin" and admin.document == b"<html>report</html>"
    assert admin.html.startswith("<b>Today</b>")
    assert h.summaries == [(h.clock.now(), "en")]


async def test_stats_that_cannot_be_read_is_an_answer_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()

    def unreadable(settings: Settings, now: float, lang: Language) -> tuple[str, bytes]:
        raise PermissionError(13, "Permission denied", "/data/analytics/2026-05-10.jsonl")

    h.summary = unreadable  # type: ignore[method-assign]
    await h.run(cmd("stats", user=777), msg(text=RESUME_TEXT, mid=2))
    (answer,) = [r for r in h.replies() if r.kind == "admin"]
    assert answer.document is None
    assert answer.html == t("stats_failed", "en", reason="Permission denied")
    assert len(h.extractor.items) == 1  # the next update was served as usual
    assert "ingress.stats_failed" in caplog.text and "errno=13" in caplog.text


@pytest.mark.parametrize("args", ["", "week"], ids=["bare", "with-args"])
async def test_stats_from_a_stranger_is_exactly_an_unknown_command(args: str) -> None:
    # no hint that /stats exists: the same reply, nothing else sent, nothing counted
    unknown, stats = Harness(), Harness()
    await unknown.run(cmd("frobnicate", args))
    await stats.run(cmd("stats", args))
    assert stats.summaries == [] and stats.events() == unknown.events() == []
    assert [m for m in stats.outbox.items if not isinstance(m, Outgoing)] == []
    (expected,), (got,) = unknown.replies(), stats.replies()
    assert replace(got, trace=expected.trace) == expected


async def test_groups_are_not_served() -> None:
    h = Harness()
    await h.run(
        msg(text=RESUME_TEXT, chat_type="group"),
        msg("document", chat_type="supergroup", mid=2),
        cmd("start", chat_type="group", mid=3),
    )
    assert h.extractor.items == []
    assert [r.html for r in h.replies()] == [t("private_only", "en")]


async def test_unknown_command() -> None:
    h = Harness()
    await h.run(cmd("frobnicate"))
    assert [r.html for r in h.replies()] == [t("unknown_command", "en")]


async def test_help_and_privacy_mention_limits() -> None:
    h = Harness()
    await h.run(cmd("help"), cmd("privacy", mid=2, lang="kk"))
    help_reply, privacy = h.replies()
    assert "10" in help_reply.html and "3" in help_reply.html
    assert privacy.language == "kk" and "30" in privacy.html


def test_store_survives_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "ingress_state.json"
    path.write_bytes(b'{"version": 1, "users": {"4')
    store = IngressStore.load(path)
    assert not store.knows_user(UserRef(4))
    assert list(tmp_path.glob("ingress_state.json.corrupt-*"))
    store.set_language(UserRef(4), "kk")
    store.save()
    assert IngressStore.load(path).prefs(UserRef(4)).language == "kk"


@pytest.mark.parametrize(
    ("name", "goes_on"),
    [
        pytest.param("text_not_resume_cover_letter.txt", True, id="cover-letter"),
        pytest.param("text_kazakh_short.txt", False, id="kk-5-words"),
        pytest.param("text_russian_too_short.txt", False, id="ru-4-words"),
    ],
)
def test_which_pasted_texts_go_to_the_extractor(name: str, goes_on: bool) -> None:
    text = (FIXTURES / "telegram" / name).read_text(encoding="utf-8")
    assert ingress.looks_like_resume_text(text) is goes_on


def test_a_three_line_resume_goes_on() -> None:
    assert ingress.looks_like_resume_text(
        "Айгерім Сапарова, aigerim@mail.kz\nБілімі: ҚазҰУ, информатика, 2025\nДағдылар: Python, SQL"
    )
    assert not ingress.looks_like_resume_text("Сәлем! Түйіндемемді тексеріп бере аласыз ба?")


def test_quota_counts_of_past_days_are_forgotten(tmp_path: Path) -> None:
    store = IngressStore(tmp_path / "ingress_state.json")
    for user in range(1, 4):
        assert store.take_quota(UserRef(user), "2026-12-01", limit=3)
    assert store.take_quota(UserRef(1), "2026-12-02", limit=3)
    assert store.knows_user(UserRef(1))
    assert not store.knows_user(UserRef(2)) and not store.knows_user(UserRef(3))
    assert json.loads(store.snapshot())["quota"] == {"1": ["2026-12-02", 1]}
    # today's limit still holds
    assert store.take_quota(UserRef(1), "2026-12-02", limit=2)
    assert not store.take_quota(UserRef(1), "2026-12-02", limit=2)


class _FailsOnce(Recorder[DocumentReceived | TextReceived | AnalyzeAnyway]):
    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def send(self, message: DocumentReceived | TextReceived | AnalyzeAnyway) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("extractor mailbox broke")
        await super().send(message)


async def test_an_update_redelivered_after_a_crash_is_not_taken_for_a_duplicate() -> None:
    h = Harness()
    h.extractor = _FailsOnce()
    inbox: Mailbox[Update | RequestSettled] = Mailbox("ingress", 10)
    await inbox.send(msg(text=RESUME_TEXT))

    async def incarnation() -> None:
        await ingress.run(
            inbox,
            to_extractor=h.extractor,
            to_outbox=h.outbox,
            to_followup=h.followup,
            to_analytics=h.analytics,
            clock=h.clock,
            settings=h.settings,
            queue_depth=lambda: 0,
            store=h.store,  # the composition root keeps one store across restarts
        )

    with anyio.fail_after(5):
        with pytest.raises(RuntimeError):
            await incarnation()
        assert inbox.recover(crashed=True) == []  # redelivered once, as the supervisor does
        inbox.close()
        await incarnation()
    assert [type(m).__name__ for m in h.extractor.items] == ["TextReceived"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("hi", "en"),
        ("Привет, посмотри моё резюме", "ru"),
        ("👍", "ru"),
        ("Сәлем, түйіндемемді қарап беріңізші", "kk"),
        ("Hello! Can you check my resume please?", "en"),
    ],
)
async def test_greeting_or_emoji_gets_how_to_send_a_resume(text: str, lang: Language) -> None:
    h = Harness()
    await h.run(msg(text=text, lang=lang))
    (reply,) = h.replies()  # one answer, in the user's language
    assert reply.html == t("send_resume_hint", lang)
    assert h.extractor.items == [] and h.events() == []


@pytest.mark.parametrize(
    "text",
    [
        "Иван Петров, опыт: стажёр Kaspi 2023, навыки: Excel",
        "Education: KBTU 2020-2024\nSkills: Python",
        "aruzhan@mail.kz +7 701 123 45 67",
        "Experience: intern at Kaspi",
    ],
)
async def test_a_too_short_resume_attempt_is_told_it_is_too_short(text: str) -> None:
    h = Harness()
    await h.run(msg(text=text))
    (reply,) = h.replies()
    assert reply.html == t("short_text_hint", "en")


async def test_a_review_is_rated_once_despite_double_taps_and_restarts(tmp_path: Path) -> None:
    path = tmp_path / "ingress_state.json"
    h = Harness(store=IngressStore.load(path))
    # a double tap reaches the bot before the outbox has removed the buttons
    await h.run(press("rate:up:llm:ru", mid=77), press("rate:up:llm:ru", mid=77))
    await h.run(press("rate:down:llm:ru", mid=78))  # another review: its own rating
    assert [dict(ev.fields)["rating"] for ev in h.analytics.items] == ["up", "down"]
    answers = [o for o in h.outbox.items if isinstance(o, CallbackAnswer)]
    assert len(answers) == 3  # every press is answered (the spinner stops)
    restarted = Harness(store=IngressStore.load(path))  # the press delivered again
    await restarted.run(press("rate:up:llm:ru", mid=77))
    assert restarted.analytics.items == []
    await restarted.run(cmd("delete"))  # /delete forgets which reviews were rated, too
    assert b'"rated"' not in path.read_bytes()


async def test_a_full_disk_for_the_state_file_does_not_stop_the_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ingress_state.json"
    store = IngressStore.load(path)
    real_save = store.save
    disk_full = True

    def save(snapshot: bytes | None = None) -> None:
        if disk_full:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(snapshot)

    monkeypatch.setattr(store, "save", save)
    h = Harness(store=store)
    await h.run(msg(text=RESUME_TEXT, mid=2), msg(text=RESUME_TEXT, mid=3, user=7))
    assert len(h.extractor.items) == 2  # both users are served meanwhile
    assert not path.exists()
    errors = [ev for ev in h.analytics.items if ev.name == "error"]
    assert [dict(ev.fields) for ev in errors] == [{"actor": "ingress", "kind": "state_write"}]
    assert [r.getMessage() for r in caplog.records if "state_write" in r.getMessage()] == [
        "ingress.state_write_failed kind=ENOSPC"  # once for the outage, not per message
    ]
    # the actor stopped with the disk still full: what only memory held is said to be lost
    assert "ingress.state_unsaved_at_shutdown kind=ENOSPC" in caplog.messages
    disk_full = False
    await h.run(msg(text=RESUME_TEXT, mid=4, user=8))
    saved = json.loads(path.read_bytes())
    assert {tuple(k) for k in saved["seen"]} >= {(42, 2), (7, 3), (8, 4)}  # nothing was lost


def test_an_atomic_write_that_fails_leaves_no_temp_file_and_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    storage.write_atomic(path, b"old")

    def no_fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_fsync)  # as services.storage calls it
    with pytest.raises(OSError, match="No space"):
        storage.write_atomic(path, b"new" * 1000)
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    assert path.read_bytes() == b"old"
