"""Reduced proving-ground bad-input run (the full one: `python -m bench.badinput`).

Hostile fixtures from ../shared/cases and a few hypothesis-mutated, random, empty, huge and
200,000-character inputs go through a real `resumebek chat` process: exactly one answer
each, none later than the extraction timeout allows, no actor failed or restarted past the
supervisor's intensity, and SIGTERM still ends it with 0.
"""

from __future__ import annotations

from pathlib import Path

from bench.badinput import Input, case_inputs, fuzz_inputs, run_inputs, verdict
from tests.conftest import shared_path

HOSTILE = (
    "docx_zip_bomb_300mb_text.docx",
    "docx_billion_laughs_entities.docx",
    "pdf_flate_bomb_nested.pdf",
    "pdf_300_pages_thesis.pdf",
    "pdf_encrypted_user_password.pdf",
    "pdf_truncated_xref.pdf",
    "pdf_actually_html.pdf",
    "docx_actually_legacy_doc.docx",
    "pdf_scanned_image_only.pdf",
    "text_not_resume_cover_letter.txt",
)


def test_hostile_and_fuzzed_inputs_each_get_one_answer(tmp_path: Path) -> None:
    shared_path("cases", HOSTILE[0])
    shared_path("corpus", "dev", "manifest.tsv")
    cases = [i for i in case_inputs() if i.label in HOSTILE]
    fuzzed = fuzz_inputs(tmp_path, n=3, seed=3)
    inputs: list[Input] = cases + fuzzed
    result = run_inputs(inputs, extract_timeout_s=8.0, parallel=6, settle_s=1.2)
    v = verdict(result)
    assert v["inputs"] == len(inputs) == len(HOSTILE) + 3 + 4 + 3 + 1 + 2
    assert v["bot_died_feeding"] is None, result["log_tail"]
    assert v["no_answer"] == []
    assert v["several_answers"] == []
    assert v["dangling_placeholders"] == []
    assert v["over_deadline"] == []
    assert v["status_read"]
    assert v["failed_actors"] == []
    assert v["over_intensity"] == []
    assert v["exit_code"] == 0
    assert 0 < v["peak_rss_mb"] < 1500  # the 50 MB file is refused by size, never read
