"""PDF → text with pypdf, repairing the defects real resumes show (runs in a worker process).

- Owner-password-only PDFs open with the empty password; a user password is `encrypted`.
- Word gaps drawn as TJ positioning offsets are turned into spaces (LuaTeX/XeTeX output).
- Invisible text (render mode 3/7, white fill, < 2 pt) is dropped and noted: it is a
  common prompt-injection vector and never something a recruiter reads.
- Pages drawn row by row across two columns are rebuilt column by column.
- A page that raises, or whose text is unmapped-glyph garbage, costs only that page.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pypdf
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError
from pypdf.generic import ArrayObject, FloatObject, NumberObject, TextStringObject

from resumebek.domain.cleaning import is_garbage, normalize_chars, repair_mojibake, words

# pypdf logs every syntax repair at WARNING; the worker reports outcomes instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_FILL_OPS = frozenset({b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"})
_WATCHED = _FILL_OPS | {
    b"q",
    b"Q",
    b"Tr",
    b"g",
    b"rg",
    b"k",
    b"sc",
    b"scn",
    b"Do",
    b"BI",
    b"sh",
    b"Tf",
    b"Tj",
    b"'",
    b'"',
    b"TJ",
}

# A TJ offset of at least this many thousandths of an em between two strings is a word gap
# (kerning inside a word stays well below it).
_WORD_GAP = 100.0


@dataclass(slots=True)
class PdfResult:
    outcome: str  # "ok", "encrypted", "corrupt", "no_text", "too_many_pages"
    text: str = ""
    pages: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Fragment:
    x: float
    y: float
    size: float
    text: str


class _PageState:
    """Graphics state that decides visibility, tracked through q/Q."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bool, float]] = []
        self.render_mode = 0
        self.white = False
        self.font_size = 12.0
        self.hidden_chars = 0
        self.painted = False  # a coloured area or image was drawn: white text may sit on it

    def invisible(self, cm: list[float], tm: list[float]) -> bool:
        scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
        effective = self.font_size * (scale if scale > 0 else 1.0)
        if self.render_mode in (3, 7) or effective < 2.0:
            return True
        return self.white and not self.painted


def _num(value: Any) -> float | None:
    if isinstance(value, (int, float, NumberObject, FloatObject)):
        return float(value)
    return None


def _is_white(op: bytes, args: list[Any]) -> bool:
    nums = [n for n in (_num(a) for a in args) if n is not None]
    if op in (b"g", b"rg", b"sc", b"scn") and nums:
        return all(n >= 0.97 for n in nums) and len(nums) in (1, 3)
    if op == b"k" and len(nums) == 4:
        return all(n <= 0.03 for n in nums)
    return False


def _make_operand_visitor(state: _PageState) -> Any:
    def before(op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        if op not in _WATCHED:  # most operators (Td, Tm, cm, paths) change nothing here
            return
        if op == b"q":
            state.stack.append((state.render_mode, state.white, state.font_size))
        elif op == b"Q":
            if state.stack:
                state.render_mode, state.white, state.font_size = state.stack.pop()
        elif op == b"Tr" and args:
            mode = _num(args[0])
            state.render_mode = int(mode) if mode is not None else 0
        elif op in (b"g", b"rg", b"k", b"sc", b"scn"):
            state.white = _is_white(op, args)
        elif op in _FILL_OPS:
            state.painted = state.painted or not state.white
        elif op in (b"Do", b"BI", b"sh"):
            state.painted = True
        elif op == b"Tf" and len(args) >= 2:
            size = _num(args[1])
            if size is not None:
                state.font_size = abs(size)
        elif op in (b"Tj", b"'", b'"', b"TJ") and args:
            if state.invisible(cm, tm):
                _blank_out(op, args, state)
            elif op == b"TJ" and isinstance(args[0], ArrayObject):
                _widen_word_gaps(args[0])

    return before


def _blank_out(op: bytes, args: list[Any], state: _PageState) -> None:
    """Replace the shown strings with nothing, so pypdf extracts no invisible text."""
    if op == b"TJ" and isinstance(args[0], ArrayObject):
        state.hidden_chars += sum(len(a) for a in args[0] if isinstance(a, (str, bytes)))
        args[0].clear()
    else:
        index = len(args) - 1  # the string is the last operand of Tj, ' and "
        value = args[index]
        if isinstance(value, (str, bytes)):
            state.hidden_chars += len(value)
            args[index] = TextStringObject("")


def _widen_word_gaps(array: ArrayObject) -> None:
    last = len(array) - 1
    for i, item in enumerate(array):
        if 0 < i < last and isinstance(item, (int, float)) and item <= -_WORD_GAP:
            array[i] = FloatObject(min(float(item), -1000.0))  # wide enough for pypdf


def _make_text_visitor(fragments: list[_Fragment]) -> Any:
    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text or not text.strip():
            return
        # position = tm × cm (only translation and vertical scale matter here)
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]) or 1.0
        fragments.append(_Fragment(x=x, y=y, size=abs(size) * scale, text=text))

    return visit


def _lines(fragments: list[_Fragment]) -> list[list[_Fragment]]:
    """Fragments grouped into visual lines (same baseline within half a font size)."""
    lines: list[list[_Fragment]] = []
    for frag in sorted(fragments, key=lambda f: -f.y):
        if lines and abs(lines[-1][0].y - frag.y) <= max(frag.size, 4.0) * 0.5:
            lines[-1].append(frag)
        else:
            lines.append([frag])
    for line in lines:
        line.sort(key=lambda f: f.x)
    return lines


def _column_split(fragments: list[_Fragment], page_width: float) -> float | None:
    """The x where a second column starts, when a page is drawn row by row across two
    columns. Conservative: label/value tables must keep their rows."""
    lines = _lines([f for f in fragments if f.text.strip()])
    if len(lines) < 5:
        return None
    starts: Counter[int] = Counter()
    for row in lines:
        for left, right in itertools.pairwise(row):
            left_end = left.x + len(left.text.strip()) * left.size * 0.45
            if right.x - left_end > left.size and right.x > page_width * 0.2:
                starts[round(right.x / 6)] += 1
    if not starts:
        return None
    key, _ = starts.most_common(1)[0]
    split = key * 6 - 3
    split_rows = [
        row
        for row in lines
        if any(f.x < split for f in row)
        and any(abs(f.x - split - 3) <= 6 for f in row)
        and words(" ".join(f.text for f in row if f.x < split))
    ]
    # two real columns fill most lines of the page side by side; a table of a few
    # label/value rows inside a page does not
    if len(split_rows) < 5 or len(split_rows) < 0.6 * len(lines):
        return None
    right_words = sorted(
        len(words(" ".join(f.text for f in row if f.x >= split))) for row in split_rows
    )
    if right_words[len(right_words) // 2] < 2:
        return None  # right-aligned dates or short values in a tab stop
    # each column has its own section headings, side by side on some row ("SKILLS" next
    # to "EXPERIENCE"); a label/value table never puts two headings in one row
    if not any(_is_heading_pair(row, split) for row in split_rows):
        return None
    return split


def _is_heading_pair(row: list[_Fragment], split: float) -> bool:
    left = " ".join(f.text for f in row if f.x < split).strip()
    right = " ".join(f.text for f in row if f.x >= split).strip()
    return all(
        side.isupper() and len(words(side)) <= 4 and sum(c.isalpha() for c in side) >= 4
        for side in (left, right)
    )


def _rebuild(fragments: list[_Fragment]) -> str:
    return "\n".join(
        " ".join(f.text.replace("\n", " ").strip() for f in line) for line in _lines(fragments)
    )


def _page_text(page: pypdf.PageObject, notes: set[str]) -> str:
    state = _PageState()
    fragments: list[_Fragment] = []
    text = page.extract_text(
        visitor_operand_before=_make_operand_visitor(state),
        visitor_text=_make_text_visitor(fragments),
    )
    if state.hidden_chars >= 10:
        notes.add("invisible_text")
    try:
        width = float(page.mediabox.width)
    except (PyPdfError, ValueError, TypeError, KeyError):
        width = 595.0
    split = _column_split(fragments, width)
    if split is not None:
        left = [f for f in fragments if f.x < split]
        right = [f for f in fragments if f.x >= split]
        text = _rebuild(left) + "\n\n" + _rebuild(right)
        notes.add("multi_column")
    return text


def _has_no_content(page: pypdf.PageObject) -> bool:
    try:
        contents = page.get_contents()
        return contents is None or not contents.get_data().strip()
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError):
        return True


def extract_pdf(data: bytes, *, max_pages: int) -> PdfResult:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # owner-password-only files open with the empty user password
            if reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
                return PdfResult(outcome="encrypted")
        count = len(reader.pages)
    except FileNotDecryptedError:
        return PdfResult(outcome="encrypted")
    except (PyPdfError, DependencyError, ValueError, TypeError, KeyError, AttributeError):
        return PdfResult(outcome="corrupt")
    except (RecursionError, IndexError, AssertionError, ZeroDivisionError, OverflowError):
        return PdfResult(outcome="corrupt")
    if count == 0:
        return PdfResult(outcome="corrupt")
    if count > max_pages:
        return PdfResult(outcome="too_many_pages", pages=count)
    notes: set[str] = set()
    texts: list[str] = []
    failed = unreadable = hollow = 0
    for index in range(count):
        try:
            raw = _page_text(reader.pages[index], notes)
        except FileNotDecryptedError:
            return PdfResult(outcome="encrypted", pages=count)
        except MemoryError:
            raise
        except (PdfReadError, PyPdfError, DependencyError, ValueError, TypeError, KeyError):
            failed += 1
            continue
        except (AttributeError, IndexError, RecursionError, AssertionError, ZeroDivisionError):
            failed += 1  # pypdf on malformed objects: the page is lost, not the file
            continue
        except (OverflowError, UnicodeError, LookupError, NotImplementedError):
            failed += 1
            continue
        # judged before repair (it would hide unmapped glyphs), but without NULs: Canva
        # puts them between letters, and they are dropped anyway
        repaired = repair_mojibake(raw)
        if repaired is not None:
            raw = repaired
            notes.add("repaired_encoding")
        if is_garbage(raw.replace("\x00", "")):
            unreadable += 1
            continue
        page = normalize_chars(raw)
        if not page.strip() and _has_no_content(reader.pages[index]):
            hollow += 1
            continue
        if is_garbage(page):
            unreadable += 1
            continue
        texts.append(page)
    if failed:
        notes.add("broken_pages")
    if unreadable:
        notes.add("unreadable_pages")
    text = "\n\n".join(t for t in texts if t.strip())
    if not text.strip():
        return PdfResult(
            # nothing drawn at all (a page dict that lost its /Contents) is damage, while
            # drawn pages without text are scans or outlines
            outcome="corrupt" if failed + hollow == count else "no_text",
            pages=count,
            notes=sorted(notes),
        )
    return PdfResult(outcome="ok", text=text, pages=count, notes=sorted(notes))
