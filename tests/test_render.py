"""Rendering a Review for Telegram (HTML, escaped) and for the terminal (plain text)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from resumebek.domain.render import review_html, review_text
from resumebek.domain.review_rules import rule_review
from resumebek.domain.review_texts import TEXTS
from resumebek.messages import LANGUAGES, Language, Review, TextSuggestion
from tests.conftest import FIXTURES

ALLOWED_TAGS = {"b", "i"}


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.seen: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        self.seen.add(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html_text: str) -> _TagCollector:
    parser = _TagCollector()
    parser.feed(html_text)
    parser.close()
    assert not parser.stack, f"unclosed tags {parser.stack}"
    assert parser.seen <= ALLOWED_TAGS, parser.seen
    return parser


def _llm_review(text: str, *, score: int = 7) -> Review:
    return Review(
        summary=text,
        strengths=(text, "Опыт с python_pandas и data_cleaning", "Знание C++ <3 лет"),
        improvements=("Add <b>bold</b> claims & numbers", text, "Use `code` and *stars"),
        text_suggestions=(TextSuggestion(original=text, suggested="<хорошее>", reason=text),),
        score=score,
        language="ru",
        source="llm",
        model="test-model",
    )


@pytest.mark.parametrize("lang", [pytest.param(lang, id=lang) for lang in LANGUAGES])
def test_shape_of_the_original_bot(lang: Language) -> None:
    review = rule_review(
        "Engineer\n+7 700 000 11 22\nResponsible for reports", language=lang, resume_language="en"
    )
    html_text = review_html(review, lang)
    _parse(html_text)
    order = [TEXTS[k][lang] for k in ("title", "strengths", "improvements", "suggestions", "score")]
    positions = [html_text.index(part) for part in order]
    assert positions == sorted(positions)
    assert f"{TEXTS['score'][lang]}: {review.score}/10" in html_text
    assert html_text.rstrip().endswith(TEXTS["photo_offer"][lang])  # the offer comes last


def test_llm_markup_is_escaped_never_interpreted() -> None:
    nasty = (FIXTURES / "llm" / "llm_unclosed_markdown.txt").read_text(encoding="utf-8")
    html_text = review_html(_llm_review(nasty), "ru")
    parsed = _parse(html_text)
    assert "&lt;3 лет" in html_text and "&lt;хорошее&gt;" in html_text
    assert "&lt;b&gt;bold&lt;/b&gt;" in html_text and "&amp; numbers" in html_text
    assert "<3 лет" in "".join(parsed.text)  # what the user reads is the original text


def test_long_html_reply_is_escaped_whole() -> None:
    long_reply = (FIXTURES / "llm" / "llm_long_reply_html_5200.txt").read_text(encoding="utf-8")
    html_text = review_html(_llm_review(long_reply), "kk")
    _parse(html_text)
    assert "<i>Ұсыныс</i>" not in html_text  # the model's own tags stay text
    assert len(html_text) > 4096  # splitting is the outbox's job; nothing is cut here


def test_control_characters_and_newlines_in_llm_strings_are_flattened() -> None:
    review = _llm_review("line one\nline two\tand\x07bell")
    html_text = review_html(review, "en")
    assert "line one line two and bell" in html_text
    assert "\x07" not in html_text


def test_rules_reviews_say_they_are_automatic_and_llm_reviews_do_not() -> None:
    rules = rule_review("Engineer 2020", language="en", resume_language="en")
    assert TEXTS["rules_note"]["en"] in review_html(rules, "en")
    assert TEXTS["rules_note"]["en"] not in review_html(_llm_review("x"), "en")


@pytest.mark.parametrize("lang", [pytest.param(lang, id=lang) for lang in LANGUAGES])
def test_plain_text_has_no_markup_and_the_same_content(lang: Language) -> None:
    review = _llm_review("Знание C++ <3 лет & more")
    plain = review_text(review, lang)
    assert len(re.findall(r"</?[bi]>", plain)) == 2  # only the LLM's own "<b>bold</b>", verbatim
    assert "&lt;" not in plain and "<3 лет & more" in plain
    assert f"{review.score}/10" in plain
    assert plain.endswith(TEXTS["photo_offer"][lang])


def test_no_suggestions_no_empty_section() -> None:
    review = Review(
        summary="",
        strengths=("a", "b", "c"),
        improvements=("d", "e", "f"),
        text_suggestions=(),
        score=5,
        language="en",
        source="llm",
    )
    html_text = review_html(review, "en")
    assert TEXTS["suggestions"]["en"] not in html_text
    assert "<i></i>" not in html_text
