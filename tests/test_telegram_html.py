from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyrogram import enums
from pyrogram.parser import Parser

from resumebek.domain.telegram_html import (
    escape,
    split_html,
    strip_tags,
    utf16_len,
    visible_len,
)
from resumebek.domain.texts import TEXT_KEYS, command_menu, pick_language, t
from resumebek.messages import LANGUAGES, Language
from tests.conftest import FIXTURES

ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
           "blockquote", "tg-spoiler"}  # fmt: skip
_TAG = re.compile(r"<(/?)([a-z-]+)([^>]*)>")


async def telegram_parse(markup: str) -> dict[str, Any]:
    """What pyrogram would send: the text and entities after HTML parsing."""
    result: dict[str, Any] = await Parser(None).parse(markup, enums.ParseMode.HTML)
    return result


def strictly_balanced(markup: str) -> bool:
    """A strict checker: only Telegram's tags, properly nested, no stray `<` or `&`."""
    stack: list[str] = []
    for m in _TAG.finditer(markup):
        closing, name = m.group(1), m.group(2)
        if name not in ALLOWED:
            return False
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    text = _TAG.sub("", markup)
    if "<" in text or ">" in text:
        return False
    if re.search(r"&(?!(amp|lt|gt|quot|#x27|#\d+);)", text):
        return False
    return not stack


def render_llm(strings: list[str]) -> str:
    """How the outbox builds HTML around LLM strings: always escaped, wrapped in our tags."""
    title, *items = strings or [""]
    body = "\n".join(f"• <i>{escape(s)}</i>" for s in items)
    return f"<b>{escape(title)}</b>\n\n{body}"


llm_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=3000)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(llm_text, min_size=1, max_size=6))
async def test_any_llm_string_renders_to_valid_html_within_the_limit(strings: list[str]) -> None:
    markup = render_llm(strings)
    parts = split_html(markup)
    for part in parts:
        assert strictly_balanced(part), part[:200]
        parsed = await telegram_parse(part)
        assert utf16_len(parsed["message"]) <= 4096
        assert parsed["message"].strip()
    # nothing lost: the visible text of all parts together is the original visible text
    joined = "".join(strip_tags(p) for p in parts)
    assert re.sub(r"\s+", "", joined) == re.sub(r"\s+", "", strip_tags(markup))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=500), st.integers(min_value=8, max_value=300))
def test_split_respects_any_limit_and_keeps_all_text(text: str, limit: int) -> None:
    markup = f"<b>{escape(text)}</b>\n\n<i>{escape(text[::-1])}</i>"
    parts = split_html(markup, limit)
    assert all(visible_len(p) <= limit for p in parts)
    assert all(strictly_balanced(p) for p in parts)
    joined = "".join(strip_tags(p) for p in parts)
    assert re.sub(r"\s+", "", joined) == re.sub(r"\s+", "", strip_tags(markup))


async def test_long_reply_fixture_splits_at_paragraphs() -> None:
    markup = (FIXTURES / "telegram" / "llm_long_reply_html_5200.txt").read_text(encoding="utf-8")
    parts = split_html(markup)
    assert len(parts) == 2
    for part in parts:
        parsed = await telegram_parse(part)
        assert utf16_len(parsed["message"]) <= 4096
        assert strictly_balanced(part)
    assert parts[0].endswith("</pre>") or parts[0].rstrip().endswith("\n") or "\n" in parts[0]


async def test_unclosed_markdown_fixture_is_shown_literally() -> None:
    raw = (FIXTURES / "telegram" / "llm_unclosed_markdown.txt").read_text(encoding="utf-8")
    markup = render_llm([raw])
    (part,) = split_html(markup)
    parsed = await telegram_parse(part)
    assert parsed["message"].strip() == raw.strip()  # "<3 лет", "<хорошее>", ** stay text
    assert len(parsed["entities"]) == 1  # only our <b>


def test_emoji_count_as_telegram_counts() -> None:
    assert utf16_len("👍🏽") == 4
    parts = split_html("👍🏽" * 100, limit=10)
    assert all(utf16_len(p) <= 10 for p in parts)
    assert "".join(parts) == "👍🏽" * 100  # no emoji torn between parts


def test_split_never_cuts_an_entity_or_a_tag() -> None:
    markup = '<a href="https://x.example/?a=1&amp;b=2">' + "&amp;" * 50 + "</a>"
    for part in split_html(markup, limit=16):
        assert strictly_balanced(part)
        assert part.startswith('<a href="https://x.example/?a=1&amp;b=2">')


@pytest.mark.parametrize("lang", [pytest.param(lang, id=lang) for lang in LANGUAGES])
async def test_every_text_exists_and_is_valid_html(lang: Language) -> None:
    for key in TEXT_KEYS:
        text = t(key, lang, max_mb=10, limit=10, days=30, n=7, size_mb=48, reason="EIO")
        assert text.strip() and strictly_balanced(text), key
        await telegram_parse(text)
    menu = command_menu()[lang]
    assert [c for c, _ in menu] == ["start", "help", "language", "privacy", "stop", "delete"]
    assert all(0 < len(d) <= 256 for _, d in menu)


def test_text_parameters_are_escaped() -> None:
    assert "&lt;b&gt;" in t("queue_position", "en", n="<b>")


@pytest.mark.parametrize(
    ("code", "expected"),
    [("kk", "kk"), ("ru-RU", "ru"), ("en-US", "en"), ("de", "en"), (None, "en"), ("KK", "kk")],
)
def test_pick_language(code: str | None, expected: str) -> None:
    assert pick_language(code) == expected
