"""How much of a resume goes to the LLM, by size rather than a fixed 3,000-character cut.

A normal resume of 2–3 dense pages (up to MAX_CHARS, about 3,000–4,000 tokens) goes in whole.
A longer document keeps its head (where contacts, summary and recent experience are) and its
tail (education, skills, languages) with a marker in between saying how much was left out.
Text that is empty or mostly not letters (a scan, unmapped glyphs) is never sent at all:
an LLM given garbage invents a person.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_CHARS = 12_000
HEAD_CHARS = 8_500
TAIL_CHARS = 3_000
MIN_LETTERS = 40  # below this there is nothing to review
MIN_LETTER_SHARE = 0.5  # of the non-space characters

_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ue000-\uf8ff]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Budgeted:
    text: str = field(repr=False)
    original_chars: int
    truncated: bool


def clean(text: str) -> str:
    """NFKC, unified newlines, no control/private-use/replacement characters."""
    out = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    out = _JUNK.sub(" ", out)
    lines = [" ".join(line.split()) for line in out.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def is_readable(text: str) -> bool:
    """Enough letters, and letters dominate: a real text, not a scan or glyph soup."""
    non_space = [ch for ch in text if not ch.isspace()]
    letters = sum(ch.isalpha() for ch in non_space)
    return letters >= MIN_LETTERS and letters >= MIN_LETTER_SHARE * len(non_space)


def _cut_at_line(text: str, limit: int, *, from_end: bool) -> str:
    if from_end:
        piece = text[-limit:]
        nl = piece.find("\n")
        return piece[nl + 1 :] if 0 <= nl < limit // 4 else piece
    piece = text[:limit]
    nl = piece.rfind("\n")
    return piece[:nl] if nl > limit * 3 // 4 else piece


def budget(text: str) -> Budgeted | None:
    """The text to send, or None when there is nothing readable to send."""
    cleaned = clean(text)
    if not is_readable(cleaned):
        return None
    if len(cleaned) <= MAX_CHARS:
        return Budgeted(text=cleaned, original_chars=len(cleaned), truncated=False)
    head = _cut_at_line(cleaned, HEAD_CHARS, from_end=False)
    tail = _cut_at_line(cleaned, TAIL_CHARS, from_end=True)
    omitted = len(cleaned) - len(head) - len(tail)
    marker = f"\n\n[… {omitted} characters of the middle of the document omitted …]\n\n"
    return Budgeted(text=head + marker + tail, original_chars=len(cleaned), truncated=True)
