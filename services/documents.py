"""Bytes → `Extraction`: format sniffing, PDF/DOCX/TXT extraction and text repair.

`extract_bytes` is pure and in-process; services/extraction_pool.py runs it in killable
worker processes. It never raises for a bad document: every failure is a typed outcome.
The format is decided by content, never by the file name (a `Резюме.doc` that is really
RTF, an HTML page renamed to .pdf, a Word lock file `~$cv.docx`).
"""

from __future__ import annotations

import codecs
import io
import time
import zipfile
from typing import Literal

from resumebek.domain.cleaning import clean_text, count_words
from resumebek.messages import RejectReason
from services.docx_text import (
    PYTHON_DOCX_ERRORS,
    ZIP_ERRORS,
    DocxRefused,
    check_xml_parts,
    check_zip,
    declared_pages,
    read_raw,
    read_with_python_docx,
)
from services.pdf_text import extract_pdf
from services.ports import Extraction

MIN_WORDS = 10  # fewer words after cleaning: too short to review (a 3-line resume has ~30)
MAX_TEXT_CHARS = 200_000  # what leaves a worker; the analyzer budgets further for the LLM
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

Outcome = Literal["ok"] | RejectReason

_WORD_MAIN = b"wordprocessingml.document.main+xml"
_WORD_TEMPLATE = b"wordprocessingml.template.main+xml"
_WORD_MACRO = b"ms-word.document.macroEnabled.main+xml"
_WORD_MACRO_TEMPLATE = b"ms-word.template.macroEnabledTemplate.main+xml"


SNIFF_ZIP_ERRORS: tuple[type[Exception], ...] = (*ZIP_ERRORS, KeyError)


def sniff(data: bytes) -> str:
    """The real format of `data`: pdf, docx, docm, xlsx, pptx, odt, pages, zip, doc, rtf,
    image, html, txt, or "binary"."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _sniff_zip(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        # OLE2: a legacy .doc (or .xls/.ppt), or a password-protected DOCX, which Office
        # wraps in an OLE2 file with an "EncryptedPackage" stream
        if "EncryptedPackage".encode("utf-16-le") in data[:1_000_000]:
            return "encrypted_ooxml"
        return "doc"
    if head.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    if _is_image(head):
        return "image"
    if head.startswith((b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh")):
        return "archive"
    text_head = _decode_head(head)
    if text_head is not None:
        low = text_head.lstrip().lower()
        if low.startswith(("<!doctype html", "<html", "<?xml", "<head", "<body")):
            return "html"
        return "txt"
    return "binary"


def _is_image(head: bytes) -> bool:
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF87a", b"GIF89a", b"BM", b"II*\x00"))
        or head.startswith(b"MM\x00*")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or (head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif"))
    )


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mime = archive.read("mimetype")[:100]
                return "odt" if b"opendocument" in mime else "zip"
            if any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
                return "pages"
            if "[Content_Types].xml" in names:
                types = archive.read("[Content_Types].xml")[:200_000]
                if _WORD_MACRO in types or _WORD_MACRO_TEMPLATE in types:
                    return "docm"
                if _WORD_MAIN in types or _WORD_TEMPLATE in types:
                    return "docx"
                if b"spreadsheetml" in types:
                    return "xlsx"
                if b"presentationml" in types:
                    return "pptx"
                if "word/document.xml" in names:
                    return "docx"
            return "zip"
    except SNIFF_ZIP_ERRORS:
        return "corrupt_zip"
    except RuntimeError:  # an encrypted member
        return "zip"


def _decode_head(head: bytes) -> str | None:
    text = decode_text(head, partial=True)
    if text is None:
        return None
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return text
    controls = sum(1 for c in visible if ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c == "\ufffd")
    return text if controls / len(visible) < 0.05 else None


def decode_text(data: bytes, *, partial: bool = False) -> str | None:
    """Decode plain text: UTF-8 (BOM or not), UTF-16/32 with BOM, else Windows-1251.
    None when the bytes are not text at all."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            body = data[len(bom) :]
            return body.decode(codec, errors="replace")
    if b"\x00" in data[:4096]:
        return _bomless_utf16(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # the head of a file may end inside a multi-byte character
        if partial and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8")
    if _looks_like_cp1251(data):
        return data.decode("cp1251", errors="replace")
    return None


def _bomless_utf16(data: bytes) -> str | None:
    even_nuls = data[0:4096:2].count(0)
    odd_nuls = data[1:4096:2].count(0)
    sample = max(len(data[:4096]) // 2, 1)
    if odd_nuls / sample > 0.3 and even_nuls / sample < 0.05:
        return data.decode("utf-16-le", errors="replace")
    if even_nuls / sample > 0.3 and odd_nuls / sample < 0.05:
        return data.decode("utf-16-be", errors="replace")
    return None


def _looks_like_cp1251(data: bytes) -> bool:
    high = [b for b in data[:65536] if b >= 0x80]
    if not high:
        return True
    # Cyrillic letters are 0xC0-0xFF (and Ё/ё, Kazakh additions in 0x80-0xBF); binary noise
    # spreads over every value including the unused 0x98.
    letters = sum(1 for b in high if b >= 0xC0 or b in (0xA8, 0xB8, 0xB2, 0xB3, 0xAA, 0xBA))
    if 0x98 in high:
        return False
    low_controls = sum(1 for b in data[:65536] if b < 9 or 13 < b < 32)
    return letters / len(high) > 0.7 and low_controls == 0


_UNSUPPORTED = {"doc", "rtf", "odt", "pages", "image", "zip", "archive", "html", "xlsx", "pptx"}


def extract_bytes(
    data: bytes,
    *,
    name_hint: str,
    mime_type: str | None,
    max_pages: int,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Extraction:
    """Extract cleaned text from a document. Never raises for a bad document."""
    started = time.perf_counter()

    def done(
        outcome: Outcome,
        fmt: str,
        text: str = "",
        pages: int = 0,
        notes: tuple[str, ...] = (),
    ) -> Extraction:
        elapsed = int((time.perf_counter() - started) * 1000)
        return Extraction(
            outcome=outcome, format=fmt, text=text, pages=pages, notes=notes, elapsed_ms=elapsed
        )

    if len(data) > max_bytes:
        return done("too_large", _format_from_hint(name_hint, mime_type))
    if not data.strip():
        return done("no_text", _format_from_hint(name_hint, mime_type))
    fmt = sniff(data)
    if fmt not in ("pdf", "docx", "docm") and _is_lock_file(name_hint, data):
        return done("unsupported_format", "lockfile")
    if fmt in _UNSUPPORTED or fmt == "docm":
        return done("unsupported_format", fmt)
    if fmt == "encrypted_ooxml":
        return done("encrypted", "docx")
    if fmt == "corrupt_zip":
        return done("corrupt", _zip_family(name_hint))
    if fmt == "binary":
        return done(_binary_outcome(name_hint), _format_from_hint(name_hint, mime_type))
    raw_notes: list[str] = []
    pages = 0
    if fmt == "pdf":
        result = extract_pdf(data, max_pages=max_pages)
        if result.outcome != "ok":
            return done(_as_outcome(result.outcome), "pdf", pages=result.pages)
        raw, pages, raw_notes = result.text, result.pages, result.notes
    elif fmt == "docx":
        try:
            raw, raw_notes, pages = _extract_docx(data, max_pages=max_pages)
        except DocxRefused as refused:
            return done(_as_outcome(refused.outcome), "docx", pages=refused.pages)
    else:
        decoded = decode_text(data)
        if decoded is None:
            return done("unsupported_format", "binary")
        raw = decoded
        fmt = "txt"
        pages = 1
    cleaned = clean_text(raw)
    text = cleaned.text[:MAX_TEXT_CHARS]
    notes = tuple(sorted(set(raw_notes) | set(cleaned.notes)))
    if not any(c.isalpha() for c in text):
        return done("no_text", fmt, pages=pages, notes=notes)
    if count_words(text) < MIN_WORDS:
        return done("too_short", fmt, text=text, pages=pages, notes=notes)
    return done("ok", fmt, text=text, pages=pages, notes=notes)


def _extract_docx(data: bytes, *, max_pages: int) -> tuple[str, list[str], int]:
    archive = check_zip(data)
    check_xml_parts(archive)
    pages = declared_pages(archive)
    if pages > max_pages:
        raise DocxRefused("too_many_pages", pages=pages)
    try:
        result = read_with_python_docx(data)
    except PYTHON_DOCX_ERRORS:
        # dangling relationships, a template content type: read the parts ourselves
        result = read_raw(archive)
    return result.text, result.notes, pages


def _is_lock_file(name_hint: str, data: bytes) -> bool:
    """Word's owner file `~$name.docx`: 162 bytes with the user's name, not a document."""
    base = name_hint.replace("\\", "/").rsplit("/", 1)[-1]
    return base.startswith("~$") and len(data) <= 4096


_OUTCOMES: dict[str, Outcome] = {
    "ok": "ok",
    "too_large": "too_large",
    "too_many_pages": "too_many_pages",
    "unsupported_format": "unsupported_format",
    "encrypted": "encrypted",
    "no_text": "no_text",
    "corrupt": "corrupt",
    "timeout": "timeout",
    "too_short": "too_short",
}


def _as_outcome(value: str) -> Outcome:
    return _OUTCOMES.get(value, "corrupt")


def _zip_family(name_hint: str) -> str:
    return "docx" if name_hint.lower().endswith((".docx", ".docm", ".dotx")) else "zip"


def _binary_outcome(name_hint: str) -> Outcome:
    # a truncated/damaged document whose name says PDF or DOCX is damage, not a new format
    low = name_hint.lower()
    if low.endswith((".pdf", ".docx")) and not low.rsplit("/", 1)[-1].startswith("~$"):
        return "corrupt"
    return "unsupported_format"


def _format_from_hint(name_hint: str, mime_type: str | None) -> str:
    low = name_hint.lower()
    for ext in ("pdf", "docx", "txt", "doc", "rtf", "odt"):
        if low.endswith("." + ext):
            return ext
    if mime_type == "application/pdf":
        return "pdf"
    return "unknown"
