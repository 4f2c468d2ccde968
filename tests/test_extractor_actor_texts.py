"""The localized answers of the extractor (domain/rejections.py): every reason in kk/ru/en,
Telegram-safe HTML, and format-specific advice for unsupported files."""

from __future__ import annotations

import re

import pytest

from resumebek.domain.rejections import (
    analyze_anyway_label,
    anyway_expired_html,
    download_failed_html,
    rejection_html,
)
from resumebek.messages import LANGUAGES, REJECT_REASONS, Language, RejectReason

ALLOWED_TAGS = {"b", "i", "code"}


def _check_html(html: str) -> None:
    assert html.strip() and "{" not in html and "}" not in html
    tags = re.findall(r"</?([a-z]+)>", html)
    assert set(tags) <= ALLOWED_TAGS
    for tag in ALLOWED_TAGS:
        assert html.count(f"<{tag}>") == html.count(f"</{tag}>")
    assert "<" not in re.sub(r"</?(?:b|i|code)>", "", html)


@pytest.mark.parametrize("reason", REJECT_REASONS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_reason_in_every_language(reason: RejectReason, lang: Language) -> None:
    _check_html(rejection_html(reason, lang))


@pytest.mark.parametrize("reason", REJECT_REASONS)
def test_languages_differ(reason: RejectReason) -> None:
    texts = {rejection_html(reason, lang) for lang in LANGUAGES}
    assert len(texts) == 3


def test_kazakh_texts_are_kazakh() -> None:
    kazakh = set("әғқңөұүһі")
    for reason in REJECT_REASONS:
        assert kazakh & set(rejection_html(reason, "kk").lower()), reason


@pytest.mark.parametrize(
    ("fmt", "needle"),
    [("doc", ".docx"), ("rtf", "RTF"), ("image", "PDF"), ("pages", "Pages"), ("html", "PDF")],
)
def test_unsupported_formats_say_what_to_do(fmt: str, needle: str) -> None:
    for lang in LANGUAGES:
        html = rejection_html("unsupported_format", lang, format=fmt)
        _check_html(html)
        assert needle in html
        assert html != rejection_html("unsupported_format", lang)


def test_size_limit_is_the_configured_one() -> None:
    assert "25 MB" in rejection_html("too_large", "en", max_mb=25)
    assert "10 МБ" in rejection_html("too_large", "ru")


def test_no_text_suggests_docx_or_pasting() -> None:
    assert "DOCX" in rejection_html("no_text", "en") and "paste" in rejection_html("no_text", "en")


def test_buttons_and_follow_up_texts() -> None:
    for lang in LANGUAGES:
        label = analyze_anyway_label(lang)
        assert 0 < len(label) <= 32
        _check_html(download_failed_html(lang))
        _check_html(anyway_expired_html(lang))


def test_encrypted_word_file_is_not_called_a_pdf() -> None:
    for lang in LANGUAGES:
        html = rejection_html("encrypted", lang, format="docx")
        _check_html(html)
        assert "Word" in html and "PDF" in rejection_html("encrypted", lang, format="pdf")
