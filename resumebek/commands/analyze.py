"""`resumebek analyze [FILE] [--lang kk|ru|en] [--json]`: extract → detect → review one file
and print what the Telegram user would read (plain text), or one JSON object.

Without FILE it reviews the synthetic sample resume bundled in the package. Without an LLM
key (API / OPENAI_API_KEY) the built-in rule-based reviewer answers, and stderr says so.
Exit codes: 0 a review was printed, 1 the file got no review (rejected or not a resume),
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import os
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import anyio

from resumebek.config import load_settings
from resumebek.domain.detection import detect_resume
from resumebek.domain.language import detect_language
from resumebek.domain.rejections import rejection_html
from resumebek.domain.render import review_text
from resumebek.errors import ConfigError
from resumebek.messages import LANGUAGES, Language, Review
from resumebek.reviewing import DEADLINE_SLACK_S, review_resume

SAMPLE = "student_resume.docx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", help="a PDF, DOCX or TXT resume (default: a bundled sample)"
    )
    parser.add_argument(
        "--lang", choices=LANGUAGES, help="language of the review (default: the resume's)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _review_json(review: Review) -> dict[str, Any]:
    data = dataclasses.asdict(review)
    data["strengths"] = list(review.strengths)
    data["improvements"] = list(review.improvements)
    return data


def _read(args: argparse.Namespace) -> tuple[str, bytes] | None:
    if args.file is None:
        data = resources.files("resumebek.samples").joinpath(SAMPLE).read_bytes()
        return SAMPLE, data
    path = Path(args.file)
    try:
        return path.name, path.read_bytes()
    except OSError as exc:
        print(f"resumebek analyze: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"resumebek: configuration error: {exc}", file=sys.stderr)
        return 2
    read = _read(args)
    if read is None:
        return 2
    name, data = read
    # Imported here: services.documents pulls in pypdf/python-docx, which only this needs.
    from services.documents import extract_bytes

    extraction = extract_bytes(
        data,
        name_hint=name,
        mime_type=None,
        max_pages=settings.max_pages,
        max_bytes=settings.max_file_bytes,
    )
    result: dict[str, Any] = {
        "file": name,
        "outcome": extraction.outcome,
        "is_resume": None,
        "language": None,
        "review": None,
    }
    lang: Language = args.lang or settings.default_language
    if extraction.outcome != "ok":
        return _finish(
            args, result, _plain(rejection_html(extraction.outcome, lang, format=extraction.format))
        )
    guess = detect_language(extraction.text)
    verdict = detect_resume(extraction.text)
    result["language"] = guess.language
    result["is_resume"] = verdict.is_resume(settings.resume_threshold)
    lang = args.lang or guess.language
    if not result["is_resume"]:
        return _finish(args, result, _plain(rejection_html("not_resume", lang)))

    reviewer = None
    if settings.llm_enabled:
        from services.llm import OpenAIReviewer

        reviewer = OpenAIReviewer.from_settings(settings)
    else:
        print(
            "resumebek: no API / OPENAI_API_KEY set: using the built-in rule-based reviewer",
            file=sys.stderr,
        )

    async def review() -> Review:
        try:
            outcome = await review_resume(
                extraction.text,
                language=lang,
                resume_language=guess.language,
                notes=extraction.notes,
                reviewer=reviewer,
                deadline_s=settings.llm_timeout_s * settings.llm_max_attempts + DEADLINE_SLACK_S,
                pages=extraction.pages if extraction.format in {"pdf", "docx"} else 0,
            )
        finally:
            if reviewer is not None:
                await reviewer.aclose()
        if outcome.fallback is not None:
            print(
                f"resumebek: the LLM review failed ({outcome.fallback}): "
                "showing the rule-based review",
                file=sys.stderr,
            )
        return outcome.review

    result_review = anyio.run(review)
    result["review"] = _review_json(result_review)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(review_text(result_review, lang))
    return 0


def _finish(args: argparse.Namespace, result: dict[str, Any], message: str) -> int:
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(message)
    return 1
