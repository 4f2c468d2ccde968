"""Resume and language detection as a classifier the parser workers run.

The extractor actor hands `classify` to the DocumentExtractor with each document; the
worker process that extracted the text calls it there, so its CPU is not spent on the
event loop. It lives here, between the domain and services, because services never import
the domain's detectors: the worker imports this module by name when it unpickles the job.
"""

from __future__ import annotations

from resumebek.domain.detection import detect_resume
from resumebek.domain.language import detect_language
from services.ports import Detection


def classify(text: str) -> Detection:
    """The figures the extractor actor decides with: detect_resume and detect_language."""
    verdict = detect_resume(text)
    guess = detect_language(text)
    return Detection(
        resume_confidence=verdict.confidence,
        signals=verdict.signals,
        language=guess.language,
        language_confidence=guess.confidence,
    )
