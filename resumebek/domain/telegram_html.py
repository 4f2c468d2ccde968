"""Telegram HTML helpers: length as Telegram counts it, splitting, and plain text.

Telegram limits a message to 4096 characters of *visible* text (after entity parsing),
counted in UTF-16 code units. `split_html` cuts at paragraph boundaries (then line breaks,
then spaces), never inside a tag or an `&entity;`, closes the tags open at a cut and
reopens them in the next part, so every part is valid HTML on its own. Pure: no I/O.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

TELEGRAM_LIMIT = 4096

# A tag, an entity, or one character. Entities follow html.unescape's rules loosely:
# anything `&name;`/`&#123;`/`&#x1F;` counts as one visible character.
_TOKEN = re.compile(
    r"<[^<>]*>|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});|.", re.S
)
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)[^>]*>")
_ANY_TAG = re.compile(r"<[^<>]*>")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts it (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Escape user or LLM text for Telegram HTML (also safe inside attribute values)."""
    return html.escape(text, quote=True)


def strip_tags(markup: str) -> str:
    """Plain text of Telegram HTML: tags removed, entities decoded."""
    return html.unescape(_ANY_TAG.sub("", markup))


def visible_len(markup: str) -> int:
    """UTF-16 length of the text Telegram will show, after parsing the HTML."""
    return utf16_len(strip_tags(markup).strip())


@dataclass(slots=True)
class _Atom:
    raw: str
    weight: int  # visible UTF-16 units
    open_tag: str | None = None  # tag name when this atom opens a tag
    close_tag: str | None = None  # tag name when this atom closes a tag


def _atoms(markup: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    for m in _TOKEN.finditer(markup):
        raw = m.group(0)
        if raw.startswith("<") and raw.endswith(">") and len(raw) > 1:
            tag = _TAG.fullmatch(raw)
            if tag is None:
                atoms.append(_Atom(raw, 0))  # `<>` or junk: the parser drops it
            elif tag.group(1):
                atoms.append(_Atom(raw, 0, close_tag=tag.group(2).lower()))
            elif raw.rstrip(">").rstrip().endswith("/"):
                atoms.append(_Atom(raw, 0))  # self-closing: no scope
            else:
                atoms.append(_Atom(raw, 0, open_tag=tag.group(2).lower()))
        elif raw.startswith("&") and len(raw) > 1:
            atoms.append(_Atom(raw, utf16_len(html.unescape(raw))))
        else:
            atoms.append(_Atom(raw, utf16_len(raw)))
    return atoms


def _break_rank(atoms: list[_Atom], i: int) -> int:
    """How good a cut *after* atom i is: 3 paragraph, 2 line, 1 space, 0 none."""
    raw = atoms[i].raw
    if raw == "\n":
        if i > 0 and atoms[i - 1].raw == "\n":
            return 3
        return 2
    if raw in (" ", "\t"):
        return 1
    return 0


def split_html(markup: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split Telegram HTML into parts whose visible text is at most `limit` UTF-16 units.

    Cuts prefer the last paragraph break in the second half of a part, then a line break,
    then a space, then anywhere between characters. Tags open at a cut are closed at the
    end of the part and reopened at the start of the next. Empty parts are dropped."""
    if limit < 8:
        raise ValueError("limit too small")
    if visible_len(markup) <= limit:
        return [markup] if strip_tags(markup).strip() else []
    atoms = _atoms(markup)
    parts: list[str] = []
    stack: list[_Atom] = []  # tags open where the current part starts
    start = 0
    half = limit // 2
    while start < len(atoms):
        prefix = "".join(a.raw for a in stack)
        weight = 0
        late: dict[int, int] = {}  # rank → last cut index in the second half of the part
        early: dict[int, int] = {}  # rank → last cut index anywhere
        i = start
        while i < len(atoms) and weight + atoms[i].weight <= limit:
            weight += atoms[i].weight
            rank = _break_rank(atoms, i)
            if rank:
                early[rank] = i
                if weight >= half:
                    late[rank] = i
            i += 1
        if i >= len(atoms):  # the rest fits
            body = prefix + "".join(a.raw for a in atoms[start:])
            if strip_tags(body).strip():
                parts.append(body)
            break
        cut = next(
            (found[r] for found in (late, early) for r in (3, 2, 1) if r in found),
            _hard_cut(atoms, start, i - 1),
        )
        end_stack = list(stack)
        for atom in atoms[start : cut + 1]:
            _track(end_stack, atom)
        body = prefix + "".join(a.raw for a in atoms[start : cut + 1])
        body += "".join(f"</{a.open_tag}>" for a in reversed(end_stack))
        if strip_tags(body).strip():
            parts.append(body)
        stack = end_stack
        start = cut + 1
    return parts


def _joins(ch: str) -> bool:
    """Characters that belong to the previous one (combining marks, ZWJ, selectors, skin tones)."""
    return (
        unicodedata.combining(ch) > 0
        or ch in "\u200d\ufe0e\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
    )


def _hard_cut(atoms: list[_Atom], start: int, last: int) -> int:
    """Cut after `last`, or a little earlier so a grapheme is not torn apart."""
    cut = last
    while cut > start and (_joins(atoms[cut + 1].raw[:1]) or atoms[cut].raw == "\u200d"):
        cut -= 1
    return cut


def _track(stack: list[_Atom], atom: _Atom) -> None:
    if atom.open_tag is not None:
        stack.append(atom)
    elif atom.close_tag is not None:
        for j in range(len(stack) - 1, -1, -1):
            if stack[j].open_tag == atom.close_tag:
                del stack[j]
                break


def machine_word(name: str) -> str:
    """`MessageTooLong` → `message_too_long`: a class name as an analytics-safe word."""
    word = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    word = re.sub(r"[^a-z0-9_]", "_", word).strip("_")
    return word if word[:1].isalpha() else "error"
