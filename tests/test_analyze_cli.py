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


def test_anyway_reviews_what_does_not_look_like_a_resume(tmp_path: Path) -> None:
    recipe = tmp_path / "borsch.txt"
    recipe.write_text(
        "Рецепт борща\nСвекла 2 шт, капуста 300 г, картофель 3 шт. Варить 2 часа на медленном "
        "огне, добавить соль и перец по вкусу. Подавать со сметаной.\n",
        encoding="utf-8",
    )
    refused = analyze(str(recipe))
    assert refused.returncode == 1 and "--anyway" in refused.stderr  # the CLI's "button"
    proc = analyze(str(recipe), "--anyway", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["is_resume"] is False and data["review"]["language"] == "ru"
    # the review says plainly that the text is no typical resume
    assert data["review"]["summary"].startswith("Этот текст не похож на обычное резюме")


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


def test_devices_and_directories_get_a_one_line_error(tmp_path: Path) -> None:
    for target, kind in (("/dev/zero", "a device"), (str(tmp_path), "a directory")):
        proc = analyze(target)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.strip().splitlines() == [
            f"resumebek analyze: {target} is {kind}, not a file"
        ]


def test_file_over_max_file_mb_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:  # sparse 3 MB of zeros: refused by its size alone
        handle.truncate(3 * 1024 * 1024)
    proc = analyze("--json", str(big), MAX_FILE_MB="2")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["outcome"] == "too_large"
    proc = analyze(str(big), MAX_FILE_MB="2")
    assert "2 MB" in proc.stdout


def _plain_rejection(reason: str, lang: str) -> str:
    import html
    import re

    from resumebek.domain.rejections import rejection_html

    return html.unescape(re.sub(r"<[^>]+>", "", rejection_html(reason, lang)))  # type: ignore[arg-type]


def test_rejection_answers_in_the_language_of_the_text(tmp_path: Path) -> None:
    short_kk = ROOT / "tests" / "fixtures" / "documents" / "text_kazakh_short.txt"
    proc = analyze(str(short_kk))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.strip() == _plain_rejection("too_short", "kk")
    assert analyze(str(short_kk), "--lang", "ru").stdout.strip() == _plain_rejection(
        "too_short", "ru"
    )
    emoji = tmp_path / "emoji.txt"
    emoji.write_text("👍 🙂 🚀", encoding="utf-8")  # no language to go by: English
    assert analyze(str(emoji), DEFAULT_LANGUAGE="ru").stdout.strip() == _plain_rejection(
        "too_short", "en"
    )


def test_a_text_far_longer_than_a_resume_is_not_reviewed(tmp_path: Path) -> None:
    from tests.test_review_rules import RU

    long = tmp_path / "long.txt"
    long.write_text((RU + "\n\n") * (200_000 // len(RU) + 1), encoding="utf-8")
    proc = analyze("--json", str(long))
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["outcome"] == "too_many_pages" and data["review"] is None
