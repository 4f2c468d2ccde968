from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from resumebek.errors import ExtractionError
from resumebek.messages import (
    CallbackButton,
    ChatRef,
    IncomingCallback,
    IncomingMessage,
    UrlButton,
)
from services.console import ConsoleGateway
from tests.fakes import FakeClock


def gateway(*, jsonl: bool = False) -> tuple[ConsoleGateway, io.StringIO, io.StringIO]:
    out, notes = io.StringIO(), io.StringIO()
    gw = ConsoleGateway(
        clock=FakeClock(), out=out, notes=notes, jsonl=jsonl, user_id=7, language_code="kk"
    )
    return gw, out, notes


def test_lines_become_updates(tmp_path: Path) -> None:
    gw, _, notes = gateway()
    doc = tmp_path / "cv.pdf"
    doc.write_bytes(b"%PDF-1.4 hello")
    text = tmp_path / "cv.txt"
    text.write_text("Менің түйіндемем", encoding="utf-8")

    sent = gw.parse(f"/send {doc}\n")
    assert isinstance(sent, IncomingMessage) and sent.kind == "document"
    assert sent.document is not None and sent.document.size == 14
    assert sent.document.mime_type == "application/pdf" and sent.language_code == "kk"

    pasted = gw.parse(f"/paste {text}")
    assert isinstance(pasted, IncomingMessage) and pasted.kind == "text"
    assert pasted.text == "Менің түйіндемем"

    start = gw.parse("/start promo_1")
    assert isinstance(start, IncomingMessage)
    assert (start.kind, start.command, start.command_args) == ("command", "start", "promo_1")

    plain = gw.parse("hello there")
    assert isinstance(plain, IncomingMessage) and plain.kind == "text"
    ids = [u.message_id for u in (sent, pasted, start, plain)]
    assert ids == list(range(ids[0], ids[0] + 4))  # one chat's ids, in order

    assert gw.parse("/as 99") is None and gw.user_id == 99
    switched = gw.parse("hi")
    assert isinstance(switched, IncomingMessage) and switched.user == 99 and switched.chat == 99
    assert gw.parse("   ") is None
    assert gw.parse(f"/send {tmp_path / 'missing.pdf'}") is None
    assert "cannot read" in notes.getvalue()


def test_a_later_session_goes_on_with_higher_message_ids() -> None:
    """The bot drops a (chat, message id) it has seen, across restarts too."""
    clock = FakeClock()
    first = ConsoleGateway(clock=clock, out=io.StringIO(), notes=io.StringIO(), user_id=7)
    earlier = [first.parse(f"message {i}") for i in range(500)]
    clock.advance(1.0)  # the next `resumebek chat`, a second later
    second = ConsoleGateway(clock=clock, out=io.StringIO(), notes=io.StringIO(), user_id=7)
    later = second.parse("hello again")
    assert isinstance(later, IncomingMessage)
    assert all(isinstance(u, IncomingMessage) and u.message_id < later.message_id for u in earlier)


async def test_press_finds_the_newest_button() -> None:
    gw, _, notes = gateway()
    row = (
        CallbackButton(text="Қазақша", data="lang:kk"),
        CallbackButton(text="Русский", data="lang:ru"),
    )
    await gw.send(ChatRef(7), "choose", buttons=(row,))
    mid = await gw.send(ChatRef(7), "again", buttons=(row,))
    pressed = gw.parse("/press Русский")
    assert isinstance(pressed, IncomingCallback)
    assert pressed.data == "lang:ru" and pressed.message_id == mid
    assert gw.parse("/press nothing") is None and "no button" in notes.getvalue()


async def test_jsonl_output_has_every_key() -> None:
    gw, out, _ = gateway(jsonl=True)
    buttons = (
        (UrlButton(text="📸", url="https://x.example/?a=1"),),
        (CallbackButton(text="👍", data="rate:up:llm:kk"),),
    )
    mid = await gw.send(ChatRef(7), "<b>Сәлем</b> &amp; бәрі", buttons=buttons)
    await gw.edit_buttons(ChatRef(7), mid, buttons=buttons[:1])
    await gw.send_chat_action(ChatRef(7), "typing")
    await gw.answer_callback("c1", "Рақмет")
    await gw.send_document(ChatRef(7), b"<html>", file_name="report.html")
    lines = [orjson.loads(x) for x in out.getvalue().splitlines()]
    assert [x["action"] for x in lines] == [
        "send", "edit", "chat_action", "answer_callback", "send_document",
    ]  # fmt: skip
    first = lines[0]
    assert first["text"] == "Сәлем & бәрі" and first["html"] == "<b>Сәлем</b> &amp; бәрі"
    assert first["buttons"] == [
        {"text": "📸", "url": "https://x.example/?a=1"},
        {"text": "👍", "data": "rate:up:llm:kk"},
    ]
    assert lines[1]["message_id"] == mid and lines[1]["text"] == "Сәлем & бәрі"
    assert lines[1]["buttons"] == [{"text": "📸", "url": "https://x.example/?a=1"}]
    assert all(
        set(x) >= {"action", "chat_id", "message_id", "text", "html", "buttons", "ts"}
        for x in lines
    )


async def test_readable_output() -> None:
    gw, out, _ = gateway()
    await gw.send(
        ChatRef(7),
        "<b>Score</b>: 8/10",
        buttons=(
            (
                UrlButton(text="Photo", url="https://x.example"),
                CallbackButton(text="👍", data="rate:up:llm:en"),
            ),
        ),
    )
    text = out.getvalue()
    assert text.startswith("── send #1\n")  # counted within the session, not the raw id
    assert "Score: 8/10" in text and "<b>" not in text
    assert "[Photo → https://x.example]" in text and "[👍 → /press rate:up:llm:en]" in text


async def test_download_checks_the_limit(tmp_path: Path) -> None:
    gw, _, _ = gateway()
    path = tmp_path / "f.pdf"
    path.write_bytes(b"x" * 100)
    assert await gw.download(str(path), max_bytes=100) == b"x" * 100
    with pytest.raises(ExtractionError):
        await gw.download(str(path), max_bytes=99)
