"""`resumebek inspect FILE... [--json] [--text]` as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import FIXTURES, PYTHON, resumebek_env

DOCS = FIXTURES / "documents"
KEYS = {
    "file",
    "format",
    "pages",
    "chars",
    "words",
    "outcome",
    "is_resume",
    "resume_confidence",
    "language",
    "language_confidence",
    "signals",
    "elapsed_ms",
}


def inspect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "resumebek", "inspect", *args],
        capture_output=True,
        text=True,
        env=resumebek_env(EXTRACT_WORKERS="2"),
        timeout=120,
        check=False,
    )


def test_json_lines_for_every_file_even_broken_or_missing(tmp_path: Path) -> None:
    files = [
        DOCS / "pdf_cyrillic_kk_ru_ok.pdf",
        DOCS / "docx_actually_legacy_doc.docx",
        DOCS / "pdf_truncated_xref.pdf",
        tmp_path / "missing.pdf",
        DOCS / "text_not_resume_cover_letter.txt",
        DOCS / "pdf_scanned_image_only.pdf",
    ]
    proc = inspect("--json", *map(str, files))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["file"] for r in rows] == [str(f) for f in files]  # one line each, in order
    for row in rows:
        assert KEYS <= set(row)
        assert "text" not in row
        assert isinstance(row["signals"], list)
    ok, doc, truncated, missing, letter, scan = rows
    assert ok["outcome"] == "ok" and ok["is_resume"] is True and ok["language"] == "kk"
    assert ok["format"] == "pdf" and ok["pages"] == 1 and ok["words"] > 20
    assert (doc["outcome"], doc["format"], doc["is_resume"]) == ("unsupported_format", "doc", False)
    assert truncated["outcome"] == "corrupt"
    assert missing["outcome"] == "corrupt" and missing["error"]
    assert letter["outcome"] == "ok" and letter["is_resume"] is False and letter["language"] == "ru"
    assert scan["outcome"] == "no_text" and scan["is_resume"] is False


def test_text_flag_adds_the_cleaned_text() -> None:
    proc = inspect("--json", "--text", str(DOCS / "pdf_ligature_codepoints.pdf"))
    [row] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "certified financial analyst" in row["text"]
    assert row["chars"] == len(row["text"])


def test_human_output() -> None:
    proc = inspect(str(DOCS / "docx_table_only.docx"))
    assert proc.returncode == 0
    assert "docx_table_only.docx: ok format=docx" in proc.stdout
    assert "resume=yes" in proc.stdout and "language=en" in proc.stdout
