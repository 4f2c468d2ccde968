"""resumebek.extraction_job.classify run by the real worker pool gives, for every file of
the dev corpus, the same figures as the domain's detectors called on this event loop (the
extractor actor's old path)."""

from __future__ import annotations

import anyio

from resumebek.config import Settings
from resumebek.domain.detection import ResumeVerdict, detect_resume
from resumebek.domain.language import detect_language
from resumebek.extraction_job import classify
from services.extraction_pool import ProcessExtractor
from services.ports import Detection
from tests.conftest import shared_path


def test_classify_is_the_domain_detectors() -> None:
    text = "Aruzhan Test\nExperience\nAnalyst, Test Bank, 2021 – 2024\nEducation\nBSc, 2021"
    verdict, guess = detect_resume(text), detect_language(text)
    assert classify(text) == Detection(
        resume_confidence=verdict.confidence,
        signals=verdict.signals,
        language=guess.language,
        language_confidence=guess.confidence,
    )


async def test_the_worker_figures_equal_the_on_loop_ones_for_every_dev_file() -> None:
    files = sorted(p for p in shared_path("corpus", "dev").iterdir() if p.name != "manifest.tsv")
    threshold = Settings().resume_threshold
    compared: list[str] = []
    async with ProcessExtractor(workers=2, timeout_s=30, memory_mb=768, max_pages=10) as pool:

        async def one(name: str, data: bytes) -> None:
            old = await pool.extract(data, name_hint=name, mime_type=None)
            new = await pool.extract(data, name_hint=name, mime_type=None, classifier=classify)
            assert (new.outcome, new.text) == (old.outcome, old.text), name
            if old.outcome != "ok":
                assert new.detection is None, name
                return
            verdict, guess = detect_resume(old.text), detect_language(old.text)
            detection = new.detection
            assert detection is not None, name
            assert detection.resume_confidence == verdict.confidence, name
            assert detection.signals == verdict.signals, name
            assert (detection.language, detection.language_confidence) == (
                guess.language,
                guess.confidence,
            ), name
            figures = ResumeVerdict(detection.resume_confidence, detection.signals)
            assert figures.is_resume(threshold) is verdict.is_resume(threshold), name
            compared.append(name)

        async with anyio.create_task_group() as tg:
            for path in files:
                tg.start_soon(one, path.name, path.read_bytes())
    assert len(compared) >= len(files) - 3  # the two scans without text, at most one more
