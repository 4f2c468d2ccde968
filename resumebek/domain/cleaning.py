"""Text repair for extracted and pasted text (pure functions, no I/O).

PDF and DOCX text comes out with defects that defeat keyword and language detection:
ligature code points (ﬁ), soft hyphens, NUL and control characters (Canva), private-use
icon glyphs, zero-width characters, words glued together (LuaTeX positioning) and one word
per line (Google Docs exports). `clean_text` repairs what can be repaired and reports the
rest as quality notes for the reviewer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# NFKC is applied only to these blocks: it would also turn "№" into "No", "²" into "2" and
# "…" into "...", which changes meaning. Kazakh letters have no compatibility mapping, so
# they never change; this keeps the normalization safe for them too.
_NFKC_RANGES: tuple[tuple[int, int], ...] = (
    (0xFB00, 0xFB4F),  # alphabetic presentation forms: ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ
    (0xFF01, 0xFF5E),  # full-width ASCII
    (0x1D400, 0x1D7FF),  # mathematical alphanumerics ("fancy" bold/italic letters)
    (0x2000, 0x200A),  # typographic spaces
    (0x3000, 0x3000),  # ideographic space
)
_SPACES = "\u00a0\u202f\u205f\u2007\u2008"
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"  # soft hyphen, zero-width
_BULLETS = "•●▪■◆◦‣∙·►▶➢✓✔"
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_PUA_RE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd\ufffd]")
_SPACE_RUN_RE = re.compile(r"[ \t]+")
_BLANK_RUN_RE = re.compile(r"\n{3,}")
_WORD_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)
# a lower-case letter directly followed by an upper-case one ("analystWith")
_CASE_JOIN_RE = re.compile(r"(?<=[a-zа-яёәғқңөұүһі])(?=[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][a-zа-яёәғқңөұүһі])")
# punctuation glued to the next word ("Python,SQL", "2024:built")
_PUNCT_JOIN_RE = re.compile(r"(?<=[,;:!?])(?=[^\W\d_])")


@dataclass(frozen=True, slots=True)
class Cleaned:
    text: str
    notes: tuple[str, ...] = ()


_NFKC_RE = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _NFKC_RANGES) + "]")


def normalize_chars(text: str) -> str:
    """Character-level repair: NFC, safe NFKC, no controls, no private-use or invisible chars."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _NFKC_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    for ch in _SPACES:
        text = text.replace(ch, " ")
    for ch in _INVISIBLE:
        text = text.replace(ch, "")
    text = text.replace("\x00", "")  # a NUL is never a letter: drop it, do not space it
    text = _CONTROL_RE.sub(" ", text)
    text = _PUA_RE.sub(" ", text)  # icon fonts (phone, envelope glyphs) and U+FFFD
    return unicodedata.normalize("NFC", text)


def tidy_whitespace(text: str) -> str:
    lines = [_SPACE_RUN_RE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUN_RE.sub("\n\n", "\n".join(lines)).strip()


def words(text: str) -> list[str]:
    """Words made of letters (digits and punctuation are not words)."""
    return _WORD_RE.findall(text)


def count_words(text: str) -> int:
    return len(text.split())


def glued_share(text: str) -> float:
    """Share of letters that sit in implausibly long space-free tokens."""
    tokens = text.split()
    letters = sum(len(t) for t in tokens)
    if letters == 0:
        return 0.0
    long_letters = sum(len(t) for t in tokens if len(t) > 22 and not _looks_like_url(t))
    return long_letters / letters


def _looks_like_url(token: str) -> bool:
    low = token.lower()
    return "@" in low or "://" in low or low.startswith("www.") or "/" in low or low.count(".") >= 2


def unglue(text: str) -> str:
    """Split glued tokens where a boundary is visible (case change, punctuation)."""

    def fix(match: re.Match[str]) -> str:
        token = match.group(0)
        if len(token) <= 22 or _looks_like_url(token):
            return token
        token = _PUNCT_JOIN_RE.sub(" ", token)
        return _CASE_JOIN_RE.sub(" ", token)

    return re.sub(r"\S+", fix, text)


def _is_one_word_per_line(lines: list[str]) -> bool:
    content = [line for line in lines if line.strip()]
    if len(content) < 12:
        return False
    single = sum(1 for line in content if len(line.split()) == 1)
    return single / len(content) >= 0.6


_ENDS_BLOCK_RE = re.compile(r"[.!?:;]$")


def join_word_lines(text: str) -> str:
    """Rejoin text exported one word per line into lines that end at punctuation or
    at blank lines, keeping headings (a line ending with ':' or in capitals) apart."""
    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            out.append(" ".join(current))
            current.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            flush()
            out.append("")
            continue
        starts_item = line[0] in _BULLETS or line[0] in "-–—*"
        heading = line.isupper() and len(line) > 4  # "SQL" is a word, "SKILLS" a heading
        if starts_item or heading:
            flush()
        current.append(line)
        if _ENDS_BLOCK_RE.search(line) or heading:
            flush()
    flush()
    return "\n".join(out)


# a word broken at the end of a line with a hyphen, continued in lower case on the next
_LINE_HYPHEN_RE = re.compile(r"(?<=[^\W\d_]{2})-\n(?=[a-zа-яёәғқңөұүһі])")


def clean_text(text: str) -> Cleaned:
    """Full repair of extracted text. Notes name what could not be fully repaired."""
    notes: list[str] = []
    text = normalize_chars(text)
    text = tidy_whitespace(text)
    text = _LINE_HYPHEN_RE.sub("-", text)  # kept: "pre-roll" and "ИТ-отдел" need it
    if glued_share(text) > 0.25:
        repaired = unglue(text)
        if glued_share(repaired) > 0.25:
            notes.append("glued_words")
        text = repaired
    lines = text.split("\n")
    if _is_one_word_per_line(lines):
        text = join_word_lines(text)
        notes.append("word_per_line")
    return Cleaned(text=tidy_whitespace(text), notes=tuple(notes))


# Counting with regexes: these run on every page, and per-character Python loops cost
# more than the PDF parsing around them.
_LETTER_RE = re.compile(r"[^\W\d_]")
_CYRILLIC_RE = re.compile("[\u0400-\u04ff]")
_LATIN1_ACCENTED_RE = re.compile("[\u00c0-\u00ff]")
_SPACE_RE = re.compile(r"\s")
_BAD_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\ufffd]")
_MOJIBAKE_RE = re.compile("[ÐÑÒÓÃÂ]")


def _share(text: str, pattern: re.Pattern[str]) -> float:
    letters = len(_LETTER_RE.findall(text))
    return len(pattern.findall(text)) / letters if letters else 0.0


def repair_mojibake(text: str) -> str | None:
    """Cyrillic read with the wrong code page — a PDF font without a Unicode map shows
    Windows-1251 bytes as "Ðåçþìå", UTF-8 bytes as "Ð ÐµÐ·": the repaired text, or None."""
    if _share(text, _LATIN1_ACCENTED_RE) < 0.5:
        return None
    # UTF-8 first: a wrong guess fails to decode, while any byte is valid Windows-1251
    for source, target in (("latin-1", "utf-8"), ("cp1252", "utf-8"), ("cp1252", "cp1251")):
        try:
            fixed = text.encode(source).decode(target)
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if _share(fixed, _CYRILLIC_RE) > 0.6:
            return fixed
    return None


def is_garbage(text: str) -> bool:
    """True when text is mostly unmapped glyphs: control/private-use chars, mojibake, or
    symbols instead of letters (a PDF font without a usable ToUnicode map)."""
    visible = len(text) - len(_SPACE_RE.findall(text))
    if visible < 8:
        return False
    if len(_BAD_RE.findall(text)) / visible > 0.15:
        return True
    letters = len(_LETTER_RE.findall(text))
    if letters / visible < 0.35:
        return True
    # "Ð¢Ò¯Ð¹" is UTF-8 Cyrillic read as Latin-1: these capitals then lead every letter pair
    return len(_MOJIBAKE_RE.findall(text)) / letters > 0.12
