"""A Review as the user reads it: Telegram HTML (every review string escaped) or plain text.

The shape follows the original bot: analysis title, strengths, areas to improve, text
suggestions, overall score X/10, then the professional-photo offer line (the outbox adds
the button). Strings from the LLM or the resume are escaped with html.escape, so a
"<3 years" or a stray "<b>" in them can never break Telegram's HTML parsing.
"""

from __future__ import annotations

import html

from resumebek.domain.review_texts import text
from resumebek.domain.telegram_html import strip_tags
from resumebek.messages import Language, Review


def _e(value: str) -> str:
    return html.escape(value, quote=False)


def _clean(value: str) -> str:
    """One line, no control characters (LLM strings may carry stray newlines or tabs)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def review_html(review: Review, lang: Language) -> str:
    """Telegram HTML (parse_mode=HTML); may exceed 4096 chars: the outbox splits it."""
    parts: list[str] = [f"<b>📋 {_e(text('title', lang))}</b>"]
    if review.summary.strip():
        parts.append(f"<i>{_e(_clean(review.summary))}</i>")
    parts.append(
        f"<b>✅ {_e(text('strengths', lang))}</b>\n"
        + "\n".join(f"• {_e(_clean(s))}" for s in review.strengths)
    )
    parts.append(
        f"<b>🛠 {_e(text('improvements', lang))}</b>\n"
        + "\n".join(f"• {_e(_clean(s))}" for s in review.improvements)
    )
    if review.text_suggestions:
        items = []
        for sug in review.text_suggestions:
            item = f"• «{_e(_clean(sug.original))}»\n   → «{_e(_clean(sug.suggested))}»"
            if sug.reason.strip():
                item += f"\n   <i>{_e(text('reason', lang))}: {_e(_clean(sug.reason))}</i>"
            items.append(item)
        parts.append(f"<b>✍️ {_e(text('suggestions', lang))}</b>\n" + "\n".join(items))
    parts.append(f"<b>⭐ {_e(text('score', lang))}: {review.score}/10</b>")
    if review.source == "rules":
        parts.append(f"<i>{_e(text('rules_note', lang))}</i>")
    parts.append(_e(text("photo_offer", lang)))
    return "\n\n".join(parts)


def review_text(review: Review, lang: Language) -> str:
    """The same review as plain text (the terminal, `resumebek analyze`): one layout, so the
    terminal always shows what the Telegram user reads."""
    return strip_tags(review_html(review, lang))
