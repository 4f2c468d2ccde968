"""Tiny PDF and DOCX builders for extraction tests (synthetic content, no real people)."""

from __future__ import annotations

import io
import zipfile

import docx

# ------------------------------------------------------------------ PDF


def _obj(num: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % num + body + b"\nendobj\n"


def _stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(content), extra) + content + b"\nendstream"


def to_unicode_cmap(mapping: dict[int, str]) -> bytes:
    """A ToUnicode CMap mapping single byte codes to text."""
    lines = [
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        b"/CMapName /Custom def /CMapType 2 def",
        b"1 begincodespacerange <00> <FF> endcodespacerange",
        b"%d beginbfchar" % len(mapping),
    ]
    for code, text in sorted(mapping.items()):
        hex_text = text.encode("utf-16-be").hex().upper().encode()
        lines.append(b"<%02X> <%s>" % (code, hex_text))
    lines += [b"endbfchar", b"endcmap CMapName currentdict /CMap defineresource pop end end"]
    return b"\n".join(lines)


def build_pdf(
    pages: list[bytes],
    *,
    cmap: dict[int, str] | None = None,
    stream_extra: dict[int, bytes] | None = None,
) -> bytes:
    """A PDF whose pages draw the given content streams. /F1 is Helvetica (WinAnsi);
    /F2, when `cmap` is given, is a font whose text comes from that ToUnicode map.
    `stream_extra` adds dictionary entries to a page's content stream (e.g. a /Filter)."""
    objects: list[bytes] = []
    n_pages = len(pages)
    # 1 catalog, 2 pages, 3 font F1, 4 font F2, 5 cmap, then (page, content) pairs
    first_page = 6
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n_pages))
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 5 0 R "
        b"/FirstChar 0 /LastChar 255 /Widths [%s] >>" % b" ".join([b"500"] * 256)
    )
    objects.append(_stream(to_unicode_cmap(cmap or {0x41: "A"})))
    for i, content in enumerate(pages):
        content_ref = first_page + 2 * i + 1
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>" % content_ref
        )
        objects.append(_stream(content, (stream_extra or {}).get(i, b"")))
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(_obj(num, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def pdf_escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_lines(lines: list[str], *, x: int = 50, top: int = 780, step: int = 16) -> bytes:
    """Content stream drawing `lines` with Helvetica, one line under another."""
    parts = []
    for i, line in enumerate(lines):
        parts.append(b"BT /F1 11 Tf %d %d Td (%s) Tj ET" % (x, top - i * step, pdf_escape(line)))
    return b"\n".join(parts)


# ------------------------------------------------------------------ DOCX

W_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'mc:Ignorable=""'
)


def para(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def docx_from_body(body_xml: str, *, document: docx.document.Document | None = None) -> bytes:
    """A real DOCX (python-docx's template) whose body is replaced by `body_xml`."""
    doc = document or docx.Document()
    buf = io.BytesIO()
    doc.save(buf)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<w:document {W_NS}><w:body>{body_xml}<w:sectPr/></w:body></w:document>"
    )
    return replace_part(buf.getvalue(), "word/document.xml", xml.encode("utf-8"))


def replace_part(data: bytes, name: str, content: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == name else src.read(info))
    return out.getvalue()


def save(document: docx.document.Document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()
