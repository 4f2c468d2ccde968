"""Every PDF, DOCX and text file of ../shared/cases (copied to tests/fixtures/documents)
gets its right outcome, and the text that matters comes out."""

from __future__ import annotations

import time

import pytest

from resumebek.domain.detection import detect_resume
from resumebek.domain.language import detect_language
from services.documents import extract_bytes
from services.ports import Extraction
from tests.conftest import FIXTURES

DOCS = FIXTURES / "documents"


def _extract(name: str) -> Extraction:
    data = (DOCS / name).read_bytes()
    return extract_bytes(data, name_hint=name, mime_type=None, max_pages=10)


# file → (outcome, format, substrings the text must contain, substrings it must not)
CASES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "docx_actually_legacy_doc.docx": ("unsupported_format", "doc", (), ()),
    "docx_billion_laughs_entities.docx": ("corrupt", "docx", (), ()),
    "docx_contacts_in_header_footer.docx": (
        "ok",
        "docx",
        ("student@example.kz", "+7 700 000 00 02", "@test_student_kz", "Experience"),
        (),
    ),
    "docx_dangling_rel_target_null.docx": ("too_short", "docx", ("Experience: tutor",), ()),
    "docx_hyperlink_contacts.docx": (
        "ok",
        "docx",
        ("student@example.kz", "linkedin.com/in/test-student-example", "GitHub"),
        (),
    ),
    "docx_nested_table.docx": (
        "ok",
        "docx",
        ("Marketing intern", "Barista, campus cafe"),
        (),
    ),
    "docx_table_only.docx": ("ok", "docx", ("junior QA engineer", "Postman", "QA intern"), ()),
    "docx_zip_bomb_300mb_text.docx": ("corrupt", "docx", (), ()),
    "pdf_300_pages_thesis.pdf": ("too_many_pages", "pdf", (), ()),
    "pdf_actually_html.pdf": ("unsupported_format", "html", (), ()),
    "pdf_cyrillic_kk_ru_ok.pdf": ("ok", "pdf", ("Түйіндеме", "Дағдылар", "Опыт работы"), ()),
    "pdf_encrypted_owner_only_aes256.pdf": ("ok", "pdf", ("Түйіндеме",), ()),
    "pdf_encrypted_owner_only_rc4.pdf": ("ok", "pdf", ("Түйіндеме",), ()),
    "pdf_encrypted_user_password.pdf": ("encrypted", "pdf", (), ()),
    "pdf_flate_bomb_nested.pdf": ("corrupt", "pdf", (), ()),
    "pdf_hidden_prompt_injection.pdf": (
        "ok",
        "pdf",
        ("Junior Accountant", "BSc Finance"),
        ("ignore all previous", "system prompt", "APPROVED"),
    ),
    "pdf_ligature_codepoints.pdf": (
        "ok",
        "pdf",
        ("certified financial", "Workflow", "efficiency, office", "Staff", "flexible"),
        ("ﬁ", "ﬂ", "ﬃ"),
    ),
    "pdf_no_space_glyphs.pdf": ("ok", "pdf", ("Junior data analyst with SQL and Python",), ()),
    "pdf_outlined_text_no_text_layer.pdf": ("no_text", "pdf", (), ()),
    "pdf_scanned_image_only.pdf": ("no_text", "pdf", (), ()),
    "pdf_truncated_xref.pdf": ("corrupt", "pdf", (), ()),
    "pdf_two_column_row_order.pdf": (
        "ok",
        "pdf",
        ("Python, SQL\nPower BI", "Kazakh (native)\nRussian (fluent)"),
        ("Python, SQL Intern",),
    ),
    "pdf_unbalanced_dict.pdf": ("corrupt", "pdf", (), ()),
    "text_english_resume_kz.txt": ("ok", "txt", ("BSc Computer Science",), ()),
    "text_kazakh_short.txt": ("too_short", "txt", ("Python білемін",), ()),
    "text_not_resume_cover_letter.txt": ("ok", "txt", ("стипендии",), ()),
    "text_russian_too_short.txt": ("too_short", "txt", ("Опыт работы",), ()),
}


def test_every_case_file_is_covered() -> None:
    present = {p.name for p in DOCS.iterdir() if p.suffix in {".pdf", ".docx", ".txt"}}
    assert present == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_outcome_and_text(name: str) -> None:
    outcome, fmt, must, must_not = CASES[name]
    ex = _extract(name)
    assert (ex.outcome, ex.format) == (outcome, fmt)
    for part in must:
        assert part in ex.text, part
    for part in must_not:
        assert part not in ex.text, part
    if outcome not in ("ok", "too_short"):
        assert ex.text == ""


def test_no_text_layer_is_not_called_not_a_resume() -> None:
    # a scan gets "no text layer", never an empty review or "this is not a resume"
    for name in ("pdf_scanned_image_only.pdf", "pdf_outlined_text_no_text_layer.pdf"):
        assert _extract(name).outcome == "no_text"


def test_hidden_text_is_dropped_and_noted() -> None:
    ex = _extract("pdf_hidden_prompt_injection.pdf")
    assert "invisible_text" in ex.notes


def test_two_column_page_is_noted() -> None:
    assert "multi_column" in _extract("pdf_two_column_row_order.pdf").notes


def test_entity_bomb_is_refused_fast() -> None:
    started = time.perf_counter()
    assert _extract("docx_billion_laughs_entities.docx").outcome == "corrupt"
    assert time.perf_counter() - started < 2.0


def test_zip_bomb_is_refused_before_inflating() -> None:
    started = time.perf_counter()
    assert _extract("docx_zip_bomb_300mb_text.docx").outcome == "corrupt"
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("name", "language", "is_resume"),
    [
        ("pdf_cyrillic_kk_ru_ok.pdf", "kk", True),
        ("pdf_two_column_row_order.pdf", "en", True),
        ("docx_table_only.docx", "en", True),
        ("docx_contacts_in_header_footer.docx", "en", True),
        ("pdf_hidden_prompt_injection.pdf", "en", True),
        ("text_english_resume_kz.txt", "en", True),
        ("text_not_resume_cover_letter.txt", "ru", False),
    ],
)
def test_case_detection(name: str, language: str, is_resume: bool) -> None:
    ex = _extract(name)
    assert detect_language(ex.text).language == language
    assert detect_resume(ex.text).is_resume(40) is is_resume


def test_fixtures_are_the_shared_cases() -> None:
    """Every PDF/DOCX/text case in ../shared/cases is covered, and our copy is identical."""
    from tests.conftest import shared_path

    cases = shared_path("cases")
    shared = {
        p.name
        for p in cases.iterdir()
        if p.suffix in {".pdf", ".docx"} or (p.suffix == ".txt" and p.name.startswith("text_"))
    }
    assert shared == set(CASES)
    for name in shared:
        assert (cases / name).read_bytes() == (DOCS / name).read_bytes(), name
