"""PyrogramGateway with hand-built pyrogram objects and a Client that never connects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock

import pyrogram
import pytest
from pyrogram import enums, types
from pyrogram import errors as tg

from resumebek.config import Secret, Settings
from resumebek.errors import (
    BadButtonUrl,
    DeliveryError,
    ExtractionError,
    FloodWait,
    MessageNotModified,
    MessageTooLong,
    RecipientGone,
)
from resumebek.messages import (
    CallbackButton,
    ChatRef,
    IncomingCallback,
    IncomingMessage,
    Update,
    UrlButton,
)
from services.telegram import (
    SLEEP_THRESHOLD_S,
    PyrogramGateway,
    keyboard_markup,
    translate_callback,
    translate_errors,
    translate_message,
)
from tests.conftest import FIXTURES
from tests.telegram_fakes import pyrogram_callback, pyrogram_message


def settings(tmp_path: Path) -> Settings:
    return Settings(
        bot_token=Secret("123456:" + "A" * 35),
        api_id=12345,
        api_hash=Secret("0" * 32),
        data_dir=tmp_path / "data",
    )


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / "telegram" / name).read_text(encoding="utf-8"))


def base(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 5,
        "chat": {"id": 42, "type": "private"},
        "from_user": {"id": 42, "is_bot": False, "first_name": "A", "language_code": "ru"},
    }
    data.update(extra)
    return data


def test_document_message_translates_with_declared_size() -> None:
    update = translate_message(
        pyrogram_message(fixture("tg_docx_generic_mime.json")["message"]), received_at=1.0
    )
    assert isinstance(update, IncomingMessage)
    assert update.kind == "document" and update.chat == 700000001 and update.message_id == 504
    assert update.document is not None and update.document.size == 1536
    assert update.document.mime_type == "application/octet-stream"
    assert update.language_code == "kk" and update.chat_type == "private"


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("/start spring_2026", "start", "spring_2026"),
        ("/help@resumebek_bot", "help", ""),
        ("/LANGUAGE", "language", ""),
    ],
)
def test_commands_translate(text: str, command: str, args: str) -> None:
    update = translate_message(pyrogram_message(base(text=text)), received_at=0)
    assert isinstance(update, IncomingMessage)
    assert (update.kind, update.command, update.command_args) == ("command", command, args)


def test_text_photo_voice_sticker_and_groups() -> None:
    text = translate_message(pyrogram_message(base(text="Менің түйіндемем")), received_at=0)
    assert text is not None and text.kind == "text" and text.text == "Менің түйіндемем"
    photo = translate_message(
        pyrogram_message(fixture("tg_resume_sent_as_photo.json")), received_at=0
    )
    assert photo is not None and photo.kind == "photo" and photo.text.startswith("Менің")
    voice = translate_message(pyrogram_message(base(voice=True)), received_at=0)
    assert voice is not None and voice.kind == "voice"
    sticker = translate_message(pyrogram_message(base(sticker=True)), received_at=0)
    assert sticker is not None and sticker.kind == "sticker"
    group = translate_message(
        pyrogram_message(base(text="hi", chat={"id": -100, "type": "supergroup"})), received_at=0
    )
    assert group is not None and group.chat_type == "supergroup"


def test_channel_posts_and_bots_are_not_updates() -> None:
    assert (
        translate_message(pyrogram_message(base(text="x", from_user=None)), received_at=0) is None
    )
    bot = base(text="x", from_user={"id": 9, "is_bot": True, "first_name": "B"})
    assert translate_message(pyrogram_message(bot), received_at=0) is None


def test_callback_translates() -> None:
    update = translate_callback(pyrogram_callback("rate:up:llm:kk", message_id=31), received_at=2.0)
    assert isinstance(update, IncomingCallback)
    assert update.data == "rate:up:llm:kk" and update.message_id == 31 and update.chat == 42
    assert update.language_code == "ru"


def test_keyboard_markup() -> None:
    markup = keyboard_markup(
        (
            (UrlButton(text="📸", url="https://x.example"),),
            (CallbackButton(text="👍", data="rate:up:llm:en"),),
        )
    )
    assert markup is not None
    assert markup.inline_keyboard[0][0].url == "https://x.example"
    assert markup.inline_keyboard[1][0].callback_data == "rate:up:llm:en"
    assert keyboard_markup(()) is None


@pytest.mark.parametrize(
    ("raised", "expected", "attr"),
    [
        (tg.FloodWait(value=37), FloodWait, ("retry_after", 37.0)),
        (tg.UserIsBlocked(), RecipientGone, ("kind", "blocked")),
        (tg.InputUserDeactivated(), RecipientGone, ("kind", "deactivated")),
        (tg.UserDeactivated(), RecipientGone, ("kind", "deactivated")),
        (tg.PeerIdInvalid(), RecipientGone, ("kind", "peer_unknown")),
        (tg.MessageTooLong(), MessageTooLong, None),
        (tg.MessageNotModified(), MessageNotModified, None),
        (tg.ButtonUrlInvalid(), BadButtonUrl, None),
        (tg.MessageIdInvalid(), DeliveryError, None),
        (ConnectionError("reset"), FloodWait, ("retry_after", 2.0)),
    ],
)
async def test_errors_are_translated_at_the_boundary(
    raised: Exception, expected: type[Exception], attr: tuple[str, object] | None
) -> None:
    with pytest.raises(expected) as info:
        async with translate_errors():
            raise raised
    if attr is not None:
        assert getattr(info.value, attr[0]) == attr[1]
    assert "42" not in str(info.value)


async def test_client_is_built_in_the_loop_with_deliberate_options(tmp_path: Path) -> None:
    gateway = PyrogramGateway(settings(tmp_path))
    client = gateway.build_client()
    assert client.sleep_threshold == SLEEP_THRESHOLD_S == 0
    assert client.parse_mode == enums.ParseMode.HTML
    assert Path(client.workdir) == tmp_path / "data" and not client.in_memory
    assert not gateway.connected


def test_gateway_refuses_missing_credentials(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="BOT_TOKEN"):
        PyrogramGateway(Settings(data_dir=tmp_path))


class _FakeClientGateway(PyrogramGateway):
    """The gateway with a Client whose network methods are mocks."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(settings(tmp_path))
        self._client = self.build_client()


async def test_send_uses_html_parse_mode_and_buttons(tmp_path: Path) -> None:
    gateway = _FakeClientGateway(tmp_path)
    gateway.client.send_message = AsyncMock(return_value=types.Message(id=321))  # type: ignore[method-assign]
    buttons = ((CallbackButton(text="👍", data="rate:up:llm:en"),),)
    mid = await gateway.send(ChatRef(42), "<b>hi</b>", buttons=buttons)
    assert mid == 321
    call = gateway.client.send_message.await_args
    assert call is not None
    kwargs = call.kwargs
    assert kwargs["parse_mode"] == enums.ParseMode.HTML
    assert kwargs["reply_markup"].inline_keyboard[0][0].callback_data == "rate:up:llm:en"


async def test_send_to_blocked_user_raises_recipient_gone(tmp_path: Path) -> None:
    gateway = _FakeClientGateway(tmp_path)
    gateway.client.send_message = AsyncMock(side_effect=tg.UserIsBlocked())  # type: ignore[method-assign]
    with pytest.raises(RecipientGone):
        await gateway.send(ChatRef(42), "x")


async def test_download_stops_at_the_byte_limit(tmp_path: Path) -> None:
    gateway = _FakeClientGateway(tmp_path)
    chunks_read: list[int] = []

    async def stream(file_id: str) -> AsyncIterator[bytes]:
        for i in range(10):  # a 10 KiB file
            chunks_read.append(i)
            yield b"x" * 1024

    gateway.client.stream_media = stream  # type: ignore[method-assign,assignment]
    assert len(await gateway.download("F", max_bytes=10 * 1024)) == 10 * 1024
    chunks_read.clear()
    with pytest.raises(ExtractionError) as info:
        await gateway.download("F", max_bytes=3 * 1024)
    assert info.value.reason == "too_large" and len(chunks_read) == 4  # stopped early


async def test_handlers_only_translate_and_hand_over(tmp_path: Path) -> None:
    gateway = _FakeClientGateway(tmp_path)
    got: list[Update] = []

    async def on_update(update: Update) -> None:
        got.append(update)

    gateway._on_update = on_update
    client = gateway.client
    await gateway._handle_message(
        client, pyrogram_message(fixture("tg_document_48mb.json"), client)
    )
    await gateway._handle_callback(client, pyrogram_callback("lang:kk"))
    await gateway._handle_message(client, pyrogram_message(base(text="x", from_user=None)))
    assert [type(u).__name__ for u in got] == ["IncomingMessage", "IncomingCallback"]


async def test_commands_menu_registered_per_language(tmp_path: Path) -> None:
    from resumebek.domain.texts import command_menu

    gateway = _FakeClientGateway(tmp_path)
    gateway.client.set_bot_commands = AsyncMock(return_value=True)  # type: ignore[method-assign]
    await gateway.set_commands(command_menu())
    calls = gateway.client.set_bot_commands.await_args_list
    codes = [c.kwargs.get("language_code") for c in calls]
    assert codes == ["kk", "ru", "en", None]  # en is also the default menu
    assert all(isinstance(c.kwargs["scope"], types.BotCommandScopeDefault) for c in calls)


async def test_a_hanging_start_times_out_and_releases_the_session(tmp_path: Path) -> None:
    import anyio

    class Hanging(PyrogramGateway):
        def build_client(self) -> Any:
            client: Any = super().build_client()  # Any: its network methods are replaced

            async def never() -> None:
                await anyio.sleep_forever()

            client.start = never
            client.stop = AsyncMock(side_effect=ConnectionError("Client is already terminated"))
            self.closed = AsyncMock()
            client.storage.close = self.closed
            return client

    gateway = Hanging(settings(tmp_path), start_timeout_s=0.05)

    async def ignore(update: Update) -> None:
        pass

    with pytest.raises(TimeoutError):
        await gateway.start(ignore)
    gateway.closed.assert_awaited_once()
    assert not gateway.connected


async def test_whole_dispatcher_pipeline_offline(tmp_path: Path) -> None:
    """A raw MTProto update through pyrogram's own parser, filters and handler groups, to
    an IncomingMessage, with the network replaced by a mock that fails if used."""
    import time
    from io import BytesIO

    import anyio
    from pyrogram.raw.core import TLObject

    raw: Any = pyrogram.raw  # generated TL classes, untyped for mypy

    got: list[Update] = []
    arrived = anyio.Event()

    async def on_update(update: Update) -> None:
        got.append(update)
        arrived.set()

    gateway = PyrogramGateway(settings(tmp_path))
    gateway._on_update = on_update
    client: Any = gateway.build_client()
    await gateway.register_handlers(client)
    await client.storage.open()
    client.me = types.User(id=999, is_bot=True, first_name="B", username="resumebek_bot")
    client.invoke = AsyncMock(side_effect=AssertionError("network"))
    await client.dispatcher.start()
    try:
        document = raw.types.Document(
            id=1, access_hash=2, file_reference=b"r", date=0, mime_type="application/pdf",
            size=2_000_000, dc_id=2, attributes=[raw.types.DocumentAttributeFilename(file_name="cv.pdf")],
        )  # fmt: skip
        message = raw.types.Message(
            id=5, peer_id=raw.types.PeerUser(user_id=42), from_id=raw.types.PeerUser(user_id=42),
            date=int(time.time()), message="", media=raw.types.MessageMediaDocument(document=document),
        )  # fmt: skip
        update = raw.types.UpdateNewMessage(message=message, pts=1, pts_count=1)
        user = raw.types.User(id=42, access_hash=777, first_name="Alice", lang_code="kk")
        # round-trip through TL bytes, as updates arrive from the wire
        update = TLObject.read(BytesIO(update.write()))
        user = TLObject.read(BytesIO(user.write()))
        await client.dispatcher.updates_queue.put((update, {42: user}, {}))
        with anyio.fail_after(5):
            await arrived.wait()
    finally:
        await client.dispatcher.stop()
        await client.storage.close()
    (incoming,) = got
    assert isinstance(incoming, IncomingMessage)
    assert incoming.kind == "document" and incoming.document is not None
    assert incoming.document.size == 2_000_000 and incoming.chat == 42
    assert incoming.language_code == "kk" and incoming.chat_type == "private"
