"""`resumebek analyze` as a user runs it: a subprocess of this checkout."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from resumebek.domain.review_texts import TEXTS
from tests.conftest import PYTHON, ROOT, resumebek_env, shared_path
from tests.openai_server import OpenAIServer, Reply


def analyze(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "resumebek", "analyze", *args],
        capture_output=True,
        text=True,
        env=resumebek_env(**env),
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_bundled_sample_without_a_key_uses_the_rules() -> None:
    proc = analyze()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "rule-based reviewer" in lines[0]
    out = proc.stdout
    for key in ("title", "strengths", "improvements", "suggestions", "score", "photo_offer"):
        assert TEXTS[key]["en"] in out
    assert "/10" in out and "<b>" not in out


def test_json_output_shape() -> None:
    proc = analyze("--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"file", "outcome", "is_resume", "language", "review"}
    assert data["outcome"] == "ok" and data["is_resume"] is True and data["language"] == "en"
    review = data["review"]
    assert review["source"] == "rules" and 1 <= review["score"] <= 10
    assert {"model", "tokens", "latency_ms", "checks", "text_suggestions"} <= set(review)
    assert 3 <= len(review["strengths"]) <= 5 and 3 <= len(review["improvements"]) <= 5


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_lang_option(lang: str) -> None:
    proc = analyze("--lang", lang)
    assert proc.returncode == 0, proc.stderr
    assert TEXTS["title"][lang] in proc.stdout  # type: ignore[index]


def test_a_text_file(tmp_path: Path) -> None:
    from tests.test_review_rules import RU

    path = tmp_path / "резюме.txt"
    path.write_text(RU, encoding="utf-8")
    proc = analyze(str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["file"] == "резюме.txt" and data["language"] == "ru"
    assert data["review"]["language"] == "ru"


def test_not_a_resume_gets_no_review() -> None:
    proc = analyze(str(shared_path("cases", "text_not_resume_cover_letter.txt")), "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["is_resume"] is False and data["review"] is None and data["outcome"] == "ok"


def test_scanned_pdf_is_rejected_with_a_reason() -> None:
    proc = analyze(str(shared_path("cases", "pdf_scanned_image_only.pdf")), "--lang", "ru")
    assert proc.returncode == 1
    assert proc.stdout.strip() and "<" not in proc.stdout
    proc = analyze(str(shared_path("cases", "pdf_scanned_image_only.pdf")), "--json")
    data = json.loads(proc.stdout)
    assert data["outcome"] == "no_text" and data["review"] is None


def test_missing_file() -> None:
    proc = analyze("/nonexistent/cv.pdf")
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as srv:
        yield srv


def test_with_an_llm_key_the_llm_reviews(server: OpenAIServer) -> None:
    proc = analyze("--json", API="sk-test", OPENAI_BASE_URL=server.url)
    assert proc.returncode == 0, proc.stderr
    review = json.loads(proc.stdout)["review"]
    assert review["source"] == "llm" and review["model"] == "test-model"
    assert review["tokens"] == 1200 and review["latency_ms"] >= 0
    assert proc.stderr == ""
    assert len(server.chat_requests) == 1


def test_llm_failure_still_prints_a_review(server: OpenAIServer) -> None:
    server.script(Reply.error(401))
    proc = analyze(API="sk-bad", OPENAI_BASE_URL=server.url)
    assert proc.returncode == 0
    assert "http_401" in proc.stderr and "rule-based review" in proc.stderr
    assert "sk-bad" not in proc.stderr + proc.stdout
    assert TEXTS["rules_note"]["en"] in proc.stdout
