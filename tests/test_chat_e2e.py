"""`resumebek chat --jsonl` as a real process: the whole tree with the console gateway.

A dev-corpus PDF goes in; the user sees "analyzing…", then the review edited into that
message with the photo button and 👍/👎; analytics are written and a follow-up scheduled.
Once with the rule-based reviewer, once through the local OpenAI-compatible server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from resumebek.cli import main
from resumebek.domain.texts import t
from resumebek.messages import Language
from tests.conftest import FIXTURES, resumebek_env
from tests.openai_server import OpenAIServer, Reply

RESUME = FIXTURES / "telegram" / "resume_ru_student.pdf"
RESUME_EN = FIXTURES / "telegram" / "resume_en_intern.pdf"
USER = "4242"


def run_chat(
    tmp_path: Path, script: str, *, lang: str = "en", **env: str
) -> tuple[list[dict[str, Any]], subprocess.CompletedProcess[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "resumebek", "chat", "--jsonl", "--user-id", USER, "--lang", lang],
        input=script,
        capture_output=True,
        text=True,
        env=resumebek_env(DATA_DIR=str(tmp_path / "data"), HTTP_ENABLED="false", **env),
        cwd=tmp_path,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    actions = [orjson.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return actions, done


def analytics_events(tmp_path: Path) -> list[dict[str, Any]]:
    return [
        orjson.loads(line)
        for f in sorted((tmp_path / "data" / "analytics").glob("*.jsonl"))
        for line in f.read_bytes().splitlines()
        if line.strip()
    ]


def check_review_flow(
    actions: list[dict[str, Any]], source: str, ui: Language, lang: Language
) -> dict[str, Any]:
    """`ui`: the language of the bot's own texts; `lang`: of the review (the resume's)."""
    assert {a["action"] for a in actions} <= {
        "send", "edit", "chat_action", "answer_callback", "send_document",
    }  # fmt: skip
    assert all(
        {"action", "chat_id", "message_id", "text", "html", "buttons", "ts"} <= a.keys()
        for a in actions
    )
    progress = next(a for a in actions if a["action"] == "send" and a["text"] == t("analyzing", ui))
    review = next(
        a for a in actions if a["action"] == "edit" and a["message_id"] == progress["message_id"]
    )
    assert actions.index(review) > actions.index(progress)
    assert len(review["text"]) > 300 and "<" not in review["text"].replace("<3", "")
    urls = [b["url"] for b in review["buttons"] if "url" in b]
    assert len(urls) == 1 and "utm_source=resumebek" in urls[0] and f"utm_content={lang}" in urls[0]
    assert USER not in urls[0]
    assert [b["data"] for b in review["buttons"] if "data" in b] == [
        f"rate:up:{source}:{lang}",
        f"rate:down:{source}:{lang}",
    ]
    assert any(a["action"] == "chat_action" for a in actions)
    return review


def test_chat_reviews_a_pdf_with_the_rules(tmp_path: Path) -> None:
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(RESUME.read_bytes())
    script = f"/start\n/send {pdf}\n/press 👍\n"
    actions, done = run_chat(tmp_path, script)
    assert actions[0]["text"].startswith("Hi! I'm Resumebek")
    review = check_review_flow(actions, "rules", "en", "ru")
    # the press: acknowledged, and only the rating buttons disappear from that message
    answer = next(a for a in actions if a["action"] == "answer_callback")
    assert answer["text"] == t("rate_thanks", "ru")  # in the language of the review
    cleared = [
        a for a in actions if a["action"] == "edit" and a["message_id"] == review["message_id"]
    ][-1]
    assert [list(b) for b in cleared["buttons"]] == [["text", "url"]]
    events = [e["event"] for e in analytics_events(tmp_path)]
    for name in ("user_started", "resume_received", "review_delivered", "review_rated"):
        assert name in events
    jobs = orjson.loads((tmp_path / "data" / "followup_jobs.json").read_bytes())
    assert len(jobs["jobs"]) == 1  # one follow-up scheduled
    assert USER not in done.stderr and "cv.pdf" not in done.stderr


def test_a_second_session_on_the_same_data_dir_is_answered_too(tmp_path: Path) -> None:
    """The bot keeps the (chat, message id) pairs it has seen across runs, to drop updates
    Telegram delivers again; a new console session must not look like such a redelivery."""
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(RESUME.read_bytes())
    for _ in range(2):
        actions, _ = run_chat(tmp_path, f"/send {pdf}\n/press 👍\n")
        check_review_flow(actions, "rules", "en", "ru")
        assert any(a["action"] == "answer_callback" for a in actions)
    events = [e["event"] for e in analytics_events(tmp_path)]
    assert events.count("review_delivered") == events.count("review_rated") == 2


def test_chat_reviews_a_pdf_through_the_llm_server(tmp_path: Path) -> None:
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(RESUME_EN.read_bytes())
    with OpenAIServer(default=Reply.review(score=7)) as server:
        actions, _ = run_chat(
            tmp_path, f"/send {pdf}\n", lang="kk", API="sk-test", OPENAI_BASE_URL=server.url
        )
        assert len(server.chat_requests) >= 1
    check_review_flow(actions, "llm", "kk", "en")
    events = analytics_events(tmp_path)
    delivered = [e for e in events if e["event"] == "review_delivered"]
    assert delivered and delivered[0]["source"] == "llm"


def test_chat_answers_every_kind_of_input(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024))
    script = f"hello\n/frobnicate\n/send {big}\n/language\n/press lang:kk\n/help\n"
    actions, _ = run_chat(tmp_path, script)
    texts = [a["text"] for a in actions if a["action"] == "send"]
    assert t("send_resume_hint", "en") in [a["html"] for a in actions if a["action"] == "send"]
    assert t("unknown_command", "en") in texts
    assert any(x.startswith("That file is too large") for x in texts)
    assert texts[-1].startswith("Қалай пайдалану")  # /help after choosing Kazakh


@pytest.mark.skipif(sys.platform == "win32", reason="signals")
def test_keep_running_stays_up_until_sigterm(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "resumebek", "chat", "--jsonl", "--keep-running"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=resumebek_env(DATA_DIR=str(tmp_path / "data"), HTTP_ENABLED="false"),
        cwd=tmp_path,
    ) as proc:
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("/start\n")
            proc.stdin.close()  # end of input: it must stay up anyway
            first = orjson.loads(proc.stdout.readline())
            assert first["action"] == "send"
            assert proc.poll() is None
            os.kill(proc.pid, signal.SIGTERM)
            code = proc.wait(timeout=30)
            assert proc.stderr is not None
            assert code == 0, proc.stderr.read()[-2000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_run_without_telegram_credentials_names_them_and_points_to_chat(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "resumebek", "run"],
        capture_output=True,
        text=True,
        env=resumebek_env(DATA_DIR=str(tmp_path / "data"), BOT_TOKEN="123456:" + "A" * 35),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "API_ID" in done.stderr and "API_HASH" in done.stderr
    assert "BOT_TOKEN" not in done.stderr.split("(")[0]  # it is set: not named as missing
    assert "resumebek chat" in done.stderr and "resumebek analyze" in done.stderr


async def test_dead_letter_tells_the_user_in_their_language() -> None:
    from resumebek.app import dead_letter_handler
    from resumebek.messages import ChatRef, Requester, TextReceived, UserRef
    from resumebek.runtime.mailbox import Mailbox
    from tests.fakes import FakeClock

    boxes: dict[str, Mailbox[Any]] = {
        "outbox": Mailbox("outbox", 10),
        "analytics": Mailbox("analytics", 10),
    }
    handler = dead_letter_handler(boxes, FakeClock())
    who = Requester(chat=ChatRef(5), user=UserRef(5), ui_language="kk")
    await handler(
        "extractor",
        TextReceived(trace="ab12", who=who, message_id=1, text="x", received_at=0),
        "ValueError",
    )
    reply = await boxes["outbox"].receive()
    assert reply.kind == "error" and reply.html == t("error_generic", "kk")
    assert reply.replace_placeholder and reply.trace == "ab12"  # edited into the ⏳ message
    event = await boxes["analytics"].receive()
    assert event.name == "dead_letter" and dict(event.fields) == {
        "actor": "extractor",
        "kind": "value_error",
    }
    # a failed error reply is not answered with another error reply (no loop)
    await handler("outbox", reply, "ValueError")
    assert boxes["outbox"].stats().depth == 0


def test_photo_link_is_signed_when_public_base_url_is_set(tmp_path: Path) -> None:
    from resumebek.app import photo_link
    from resumebek.config import Secret, Settings
    from resumebek.domain.click_token import click_key, verify_click
    from resumebek.messages import ChatRef, Requester, UserRef

    who = Requester(chat=ChatRef(4242), user=UserRef(4242), ui_language="kk", campaign="fair_2026")
    salt = "s" * 20
    plain = photo_link(Settings(ai_photos_url="https://photo.example/a"), salt.encode())(who, "kk")
    assert plain == (
        "https://photo.example/a?utm_source=resumebek&utm_medium=telegram"
        "&utm_campaign=fair_2026&utm_content=kk"
    )
    public = Settings(public_base_url="https://bot.example", analytics_salt=Secret(salt))
    signed = photo_link(public, salt.encode())(who, "ru")
    assert signed.startswith("https://bot.example/r/") and "4242" not in signed
    click = verify_click(click_key(salt), signed.rsplit("/", 1)[1])
    assert click is not None and click.language == "ru" and click.campaign == "fair_2026"


async def test_dead_reminders_get_no_error_reply() -> None:
    from resumebek.app import dead_letter_handler
    from resumebek.messages import ChatRef, Outgoing, Priority
    from resumebek.runtime.mailbox import Mailbox
    from tests.fakes import FakeClock

    boxes: dict[str, Mailbox[Any]] = {
        "outbox": Mailbox("outbox", 10),
        "analytics": Mailbox("analytics", 10),
    }
    handler = dead_letter_handler(boxes, FakeClock())
    reminder = Outgoing(
        trace="cd34", chat=ChatRef(5), language="ru", kind="followup", html="x",
        priority=Priority.BACKGROUND, receipt="job",
    )  # fmt: skip
    await handler("outbox", reminder, "RuntimeError")
    assert boxes["outbox"].stats().depth == 0 and boxes["analytics"].stats().depth == 1


@pytest.mark.skipif(sys.platform == "win32", reason="signals")
@pytest.mark.parametrize("keep_running", [True, False])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_chat_while_stdin_is_still_open(
    tmp_path: Path, signum: signal.Signals, keep_running: bool
) -> None:
    """A read blocked on an open stdin must not keep the process alive after shutdown."""
    argv = [sys.executable, "-m", "resumebek", "chat", "--jsonl"]
    with subprocess.Popen(
        argv + (["--keep-running"] if keep_running else []),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=resumebek_env(DATA_DIR=str(tmp_path / "data"), HTTP_ENABLED="false"),
        cwd=tmp_path,
    ) as proc:
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("/start\n")
            proc.stdin.flush()  # and stdin stays open: the reader is blocked in a read
            assert orjson.loads(proc.stdout.readline())["action"] == "send"
            os.kill(proc.pid, signum)
            code = proc.wait(timeout=15)
            assert proc.stderr is not None
            assert code == 0, proc.stderr.read()[-2000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_failed_uploads_do_not_use_up_the_daily_quota(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(RESUME.read_bytes())
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024))
    script = f"/send {empty}\n" * 4 + f"/send {big}\n/send {pdf}\n"
    actions, _ = run_chat(tmp_path, script, lang="ru", USER_DAILY_LIMIT="3", MAX_FILE_MB="2")
    texts = [a["text"] for a in actions if a["action"] in ("send", "edit")]
    assert not any(t("quota_reached", "ru", limit=3) == x for x in texts)
    assert sum("пустой" in x for x in texts) == 4  # the empty files: "empty, please re-send"
    reviews = [  # the real resume is reviewed: its ⏳ edited into a review with 👍/👎
        a
        for a in actions
        if a["action"] == "edit" and any(b.get("data") == "rate:up:rules:ru" for b in a["buttons"])
    ]
    assert len(reviews) == 1 and len(reviews[0]["text"]) > 300
    events = analytics_events(tmp_path)
    received = {e["trace"] for e in events if e["event"] == "resume_received"}
    rejected = {e["trace"] for e in events if e["event"] == "resume_rejected"}
    assert len(rejected) == 5 and rejected <= received  # the too-large file counts as received
    assert len(received) == 6


def test_chat_help_says_what_to_type(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["chat", "--help"])
    shown = capsys.readouterr().out
    for command in ("/send PATH", "/paste PATH", "/as N", "/press DATA", "Ctrl-D"):
        assert command in shown
