"""Resume detection on synthetic kk/ru/en documents: hard negatives that share resume
vocabulary, and resumes without headings, in prose, very short, or academic."""

from __future__ import annotations

from pathlib import Path

import pytest

from resumebek.domain.cleaning import clean_text
from resumebek.domain.detection import detect_resume
from resumebek.domain.language import detect_language
from tests.conftest import FIXTURES

SAMPLES = sorted((FIXTURES / "detection").glob("*.txt"))
THRESHOLD = 40


def _label(path: Path) -> tuple[bool, str]:
    label, language = path.name.split("_")[:2]
    return label == "resume", language


def _text(path: Path) -> str:
    return clean_text(path.read_text(encoding="utf-8")).text


def test_samples_cover_both_labels_and_all_languages() -> None:
    labels = {_label(p) for p in SAMPLES}
    assert labels == {(r, lang) for r in (True, False) for lang in ("kk", "ru", "en")}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_resume_or_not(path: Path) -> None:
    is_resume, _ = _label(path)
    verdict = detect_resume(_text(path))
    assert verdict.is_resume(THRESHOLD) is is_resume, verdict


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_language(path: Path) -> None:
    _, language = _label(path)
    assert detect_language(_text(path)).language == language


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_clear_margin_from_the_threshold(path: Path) -> None:
    # a detector that sits on the threshold flips on the next document of the same kind
    is_resume, _ = _label(path)
    confidence = detect_resume(_text(path)).confidence
    assert confidence >= THRESHOLD + 5 if is_resume else confidence <= THRESHOLD - 15


def test_negative_signals_name_the_document_kind() -> None:
    signals = detect_resume(_text(FIXTURES / "detection" / "other_ru_certificate.txt")).signals
    assert "not:certificate_of_employment" in signals
    signals = detect_resume(_text(FIXTURES / "detection" / "other_en_cover_letter.txt")).signals
    assert "not:application_letter" in signals


def test_signals_carry_no_personal_data() -> None:
    text = _text(FIXTURES / "detection" / "resume_en_standard.txt")
    for signal in detect_resume(text).signals:
        assert "@" not in signal and "+7" not in signal and "Marat" not in signal


def test_confidence_range_and_determinism() -> None:
    for path in SAMPLES:
        text = _text(path)
        first = detect_resume(text)
        assert 0 <= first.confidence <= 100
        assert detect_resume(text) == first


def test_threshold_is_respected() -> None:
    verdict = detect_resume(_text(FIXTURES / "detection" / "resume_kk_short.txt"))
    assert verdict.is_resume(verdict.confidence)
    assert not verdict.is_resume(verdict.confidence + 1)


def test_empty_text() -> None:
    assert detect_resume("").confidence == 0
    assert detect_resume("\n \n").confidence == 0


_RUSSIAN_KEYBOARD = str.maketrans("әіңғүұқөһӘІҢҒҮҰҚӨҺ", "аингуукохАИНГУУКОХ")
KAZAKH = [p for p in SAMPLES if _label(p)[1] == "kk"]


@pytest.mark.parametrize("path", KAZAKH, ids=lambda p: p.name)
def test_kazakh_typed_without_its_letters(path: Path) -> None:
    """Kazakh typed on a Russian keyboard is still Kazakh, and still (not) a resume."""
    is_resume, _ = _label(path)
    text = _text(path).translate(_RUSSIAN_KEYBOARD)
    assert detect_resume(text).is_resume(THRESHOLD) is is_resume
    assert detect_language(text).language == "kk"


def test_dev_corpus_quality() -> None:
    """The labeled dev corpus (../shared): resume F1 and language accuracy on the files
    that have a text layer (image-only resumes are answered no_text by design)."""
    from bench.detection import Score, evaluate, load
    from tests.conftest import shared_path

    rows = load(shared_path("corpus", "dev"))
    score: Score = evaluate(
        rows,
        lambda t: detect_resume(t).is_resume(THRESHOLD),
        lambda t: detect_language(t).language,
        text_only=True,
    )
    _, _, f1 = score.prf()
    assert f1 >= 0.97
    assert score.lang_ok / score.lang_n >= 0.98
