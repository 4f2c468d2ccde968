"""What a student reads: rewrites follow their own advice, the summary agrees with the
checks and the career stage, advice fits the field, and the Kazakh reads naturally."""

from __future__ import annotations

from resumebek.domain.review_rules import rule_review
from resumebek.messages import Language, Review
from tests.test_review_rules import SAMPLES


def _review(text: str, lang: Language = "en", notes: tuple[str, ...] = ()) -> Review:
    return rule_review(text, language=lang, resume_language=lang, notes=notes)


def test_kazakh_summary_says_checks_passed_not_previous_checks() -> None:
    summary = _review(SAMPLES["kk"], "kk").summary
    assert "Өткен тексерістер" not in summary  # read as "previous checks"
    assert "Сәтті өткен тексерістер" in summary
