"""DOCX → text in reading order (runs in a worker process).

python-docx opens the package (relationships, header and footer parts); the text walk is
done on the XML itself, because python-docx's object model repeats merged table cells,
ignores nested tables in `cell.text`, and does not see text boxes. The walk covers body
paragraphs, tables (nested too), headers and footers (first/even/default, linked ones once),
text boxes (DrawingML, skipping its VML fallback copy), content controls, hyperlinks, smart
tags, fields and tracked changes (insertions accepted, deletions dropped).

When python-docx cannot open a file (dangling relationships written by Word add-ins and WPS,
a template content type), a raw zipfile + lxml walk reads the same parts.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W = "{" + W + "}"

# Parts above this size, or a package above the total, are refused before any parsing.
MAX_PART_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 40 * 1024 * 1024
MAX_RATIO = 100.0
MAX_MEMBERS = 2000

_SKIP = {
    _W + "delText",  # tracked deletion
    _W + "instrText",  # field code, e.g. HYPERLINK "mailto:..."
    _W + "delInstrText",
    _W + "moveFrom",  # the old place of moved text: the new place is read
    _W + "rPr",
    _W + "pPr",
    _W + "sdtPr",
    _W + "fldData",
    "{" + MC + "}Fallback",  # VML copy of a DrawingML text box
}
_TEXT_BOX = _W + "txbxContent"


# What reading a damaged zip member can raise: a bad CRC, a broken deflate stream
# (zlib.error), a truncated member, an unsupported or encrypted compression.
ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
)


# A zip member that is missing, damaged or not valid XML.
PART_ERRORS: tuple[type[Exception], ...] = (
    *ZIP_ERRORS,
    KeyError,
    RuntimeError,
    etree.XMLSyntaxError,
)


class DocxRefused(Exception):
    """A DOCX that must not be parsed (bomb, entities) or cannot be read at all."""

    def __init__(self, outcome: str, *, pages: int = 0) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.pages = pages


@dataclass(slots=True)
class DocxResult:
    text: str
    notes: list[str] = field(default_factory=list)


def _safe_parser() -> etree.XMLParser:
    # never resolve entities, never huge_tree: both reopen entity and size bombs
    return etree.XMLParser(resolve_entities=False, huge_tree=False, no_network=True, load_dtd=False)


def check_zip(data: bytes) -> zipfile.ZipFile:
    """Open the zip and refuse bombs from the declared sizes, before inflating anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except ZIP_ERRORS:
        raise DocxRefused("corrupt") from None
    if len(infos) > MAX_MEMBERS:
        raise DocxRefused("corrupt")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_PART_BYTES:
            raise DocxRefused("corrupt")
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise DocxRefused("corrupt")
    if total > MAX_TOTAL_BYTES:
        raise DocxRefused("corrupt")
    return archive


def check_xml_parts(archive: zipfile.ZipFile) -> None:
    """Refuse any XML part that declares a DTD: no Word file needs one (entity bombs)."""
    for info in archive.infolist():
        if not info.filename.lower().endswith((".xml", ".rels")):
            continue
        try:
            with archive.open(info) as member:
                head = member.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise DocxRefused("corrupt")
        except ZIP_ERRORS:
            raise DocxRefused("corrupt") from None
        except RuntimeError:  # an encrypted member
            raise DocxRefused("encrypted") from None


_PAGES_RE = re.compile(rb"<(?:\w+:)?Pages>\s*(\d{1,6})\s*</(?:\w+:)?Pages>")


def declared_pages(archive: zipfile.ZipFile) -> int:
    """The page count Word saved in docProps/app.xml (1 when absent or implausible)."""
    try:
        head = archive.open("docProps/app.xml").read(65536)
    except PART_ERRORS:
        return 1
    match = _PAGES_RE.search(head)
    if match is None:
        return 1
    pages = int(match.group(1))
    return pages if pages >= 1 else 1


# ------------------------------------------------------------------ the XML walk


def _local(tag: object) -> str:
    return tag if isinstance(tag, str) else ""  # comments and PIs have a function as tag


def _paragraph(p: etree._Element) -> str:
    """Text of one paragraph; a text box anchored in it follows it on its own lines."""
    parts: list[str] = []
    boxes: list[str] = []
    stack: list[Iterator[etree._Element]] = [iter(p)]
    while stack:
        try:
            el = next(stack[-1])
        except StopIteration:
            stack.pop()
            continue
        tag = _local(el.tag)
        if tag in _SKIP:
            continue
        if tag == _TEXT_BOX:
            boxes.extend(_blocks(el))
            continue
        if tag == _W + "t":
            parts.append(el.text or "")
        elif tag in (_W + "tab", _W + "ptab"):
            parts.append("\t")
        elif tag in (_W + "br", _W + "cr"):
            parts.append("\n")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        elif tag == _W + "softHyphen":
            pass
        stack.append(iter(el))
    text = "".join(parts)
    if boxes:
        text = "\n".join([text, *boxes]) if text.strip() else "\n".join(boxes)
    return text


def _is_merge_continuation(tc: etree._Element) -> bool:
    props = tc.find(_W + "tcPr")
    if props is None:
        return False
    vmerge = props.find(_W + "vMerge")
    if vmerge is None:
        return False
    return str(vmerge.get(_W + "val", "continue")) == "continue"


def _cells(row: etree._Element) -> Iterator[etree._Element]:
    for el in row:
        tag = _local(el.tag)
        if tag == _W + "tc":
            yield el
        elif tag in (_W + "sdt", _W + "customXml"):  # a content control around cells
            content = el.find(_W + "sdtContent") if tag == _W + "sdt" else el
            if content is not None:
                yield from _cells(content)


def _rows(tbl: etree._Element) -> Iterator[etree._Element]:
    for el in tbl:
        tag = _local(el.tag)
        if tag == _W + "tr":
            yield el
        elif tag in (_W + "sdt", _W + "customXml"):
            content = el.find(_W + "sdtContent") if tag == _W + "sdt" else el
            if content is not None:
                yield from _rows(content)


def _table(tbl: etree._Element) -> Iterator[str]:
    for tr in _rows(tbl):
        cells: list[str] = []
        for tc in _cells(tr):
            if _is_merge_continuation(tc):
                continue  # a vertically merged cell: its text lives in the first cell
            text = "\n".join(b for b in _blocks(tc) if b.strip())
            if text.strip():
                cells.append(text)
        if not cells:
            continue
        if all("\n" not in c for c in cells):
            yield " | ".join(cells)
        else:
            yield from cells


def _blocks(container: etree._Element) -> Iterator[str]:
    """Block-level content of a body, cell, header, footer, text box or content control."""
    for el in container:
        tag = _local(el.tag)
        if tag == _W + "p":
            yield _paragraph(el)
        elif tag == _W + "tbl":
            yield from _table(el)
        elif tag == _W + "sdt":
            content = el.find(_W + "sdtContent")
            if content is not None:
                yield from _blocks(content)
        elif tag in (_W + "customXml", _W + "smartTag", _W + "ins", _W + "moveTo"):
            yield from _blocks(el)
        elif tag == "{" + MC + "}AlternateContent":
            choice = el.find("{" + MC + "}Choice")
            if choice is not None:
                yield from _blocks(choice)


def walk(root: etree._Element) -> list[str]:
    """Blocks of a document, header or footer root in reading order."""
    body = root.find(_W + "body")
    return list(_blocks(body if body is not None else root))


# ------------------------------------------------------------------ the two readers


def _join(headers: list[str], body: list[str], footers: list[str]) -> str:
    seen: set[str] = set()
    out: list[str] = []
    for block in [*headers, *body, *footers]:
        # a header repeated by several sections, or a text box copy, is read once
        key = block.strip()
        if key and key in seen and (block in headers or block in footers):
            continue
        if key:
            seen.add(key)
        out.append(block)
    return "\n".join(out)


def read_with_python_docx(data: bytes) -> DocxResult:
    """Raises DocxRefused when the file is no package at all, and one of
    PYTHON_DOCX_ERRORS when python-docx cannot read it (the raw walk may still)."""
    import docx  # only services import python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except PackageNotFoundError as exc:
        raise DocxRefused("corrupt") from exc
    body = walk(document.element)
    headers: list[str] = []
    footers: list[str] = []
    seen_parts: set[int] = set()
    for section in document.sections:
        for kind, target in (
            ("first_page_header", headers),
            ("even_page_header", headers),
            ("header", headers),
            ("first_page_footer", footers),
            ("even_page_footer", footers),
            ("footer", footers),
        ):
            part = getattr(section, kind)
            if part.is_linked_to_previous:
                continue
            element = part._element
            if id(element) in seen_parts:
                continue
            seen_parts.add(id(element))
            target.extend(walk(element))
    return DocxResult(text=_join(headers, body, footers))


def _python_docx_errors() -> tuple[type[Exception], ...]:
    from docx.oxml.exceptions import InvalidXmlError

    return (*PART_ERRORS, InvalidXmlError, AttributeError, TypeError, IndexError)


PYTHON_DOCX_ERRORS = _python_docx_errors()


_PART_RE = re.compile(r"^word/(header|footer)\d*\.xml$")


def read_raw(archive: zipfile.ZipFile) -> DocxResult:
    """The fallback: read word/document.xml (and header/footer parts) straight from the zip."""
    names = {info.filename: info for info in archive.infolist()}
    main = _main_part_name(archive) or "word/document.xml"
    if main not in names:
        raise DocxRefused("corrupt")
    parser = _safe_parser()
    try:
        root = etree.fromstring(archive.read(main), parser)
        body = walk(root)
        headers: list[str] = []
        footers: list[str] = []
        for name in sorted(names):
            match = _PART_RE.match(name)
            if match:
                part = etree.fromstring(archive.read(name), parser)
                (headers if match.group(1) == "header" else footers).extend(walk(part))
    except PART_ERRORS:
        raise DocxRefused("corrupt") from None
    return DocxResult(text=_join(headers, body, footers), notes=["raw_docx"])


def _main_part_name(archive: zipfile.ZipFile) -> str | None:
    try:
        rels = etree.fromstring(archive.read("_rels/.rels"), _safe_parser())
    except PART_ERRORS:
        return None
    for rel in rels:
        if str(rel.get("Type", "")).endswith("/officeDocument"):
            target = str(rel.get("Target", "")).lstrip("/")
            return target or None
    return None
