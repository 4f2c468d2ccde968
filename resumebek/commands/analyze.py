"""`resumebek analyze [FILE] [--lang kk|ru|en] [--json] [--anyway]`: extract → detect → review
one file and print what the Telegram user would read (plain text), or one JSON object.
`--anyway` is the bot's "analyze anyway" button: a text that does not look like a resume is
reviewed all the same, and the review says plainly it is no typical resume.

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
from resumebek.domain.review_rules import FORCED_NOTE
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
    parser.add_argument(
        "--anyway",
        action="store_true",
        help="review it even if it does not look like a resume (the bot's button)",
    )


def _plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _review_json(review: Review) -> dict[str, Any]:
    data = dataclasses.asdict(review)
    data["strengths"] = list(review.strengths)
    data["improvements"] = list(review.improvements)
    return data


def _read(args: argparse.Namespace, max_bytes: int) -> tuple[str, bytes | None] | None:
    """(name, bytes), (name, None) for a file over MAX_FILE_MB (never read whole), or None
    after a one-line error (missing, unreadable, a directory or a device)."""
    if args.file is None:
        data = resources.files("resumebek.samples").joinpath(SAMPLE).read_bytes()
        return SAMPLE, data
    from services.local_files import FileTooLarge, NotARegularFile, read_limited

    path = Path(args.file)
    try:
        return path.name, read_limited(path, max_bytes)
    except FileTooLarge:
        return path.name, None
    except NotARegularFile as exc:
        print(f"resumebek analyze: {args.file} is {exc}, not a file", file=sys.stderr)
        return None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        print(f"resumebek analyze: cannot read {args.file}: {reason}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"resumebek: configuration error: {exc}", file=sys.stderr)
        return 2
    read = _read(args, settings.max_file_bytes)
    if read is None:
        return 2
    name, data = read
    # Imported here: services.documents pulls in pypdf/python-docx, which only this needs.
    from services.documents import extract_bytes

    if data is None:  # over MAX_FILE_MB: refused unread, as the bot refuses it
        refused: dict[str, Any] = {
            "file": name,
            "outcome": "too_large",
            "is_resume": None,
            "language": None,
            "review": None,
        }
        message = rejection_html("too_large", args.lang or "en", max_mb=settings.max_file_mb)
        return _finish(args, refused, _plain(message))
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
    guess = detect_language(extraction.text)
    if extraction.outcome != "ok":
        # the text's own language when it has any (a short Kazakh text gets a Kazakh answer)
        has_language = extraction.text and guess.confidence > 0
        lang: Language = args.lang or (guess.language if has_language else "en")
        message = rejection_html(
            extraction.outcome, lang, format=extraction.format, max_mb=settings.max_file_mb
        )
        return _finish(args, result, _plain(message))
    verdict = detect_resume(extraction.text)
    result["language"] = guess.language
    result["is_resume"] = verdict.is_resume(settings.resume_threshold)
    lang = args.lang or guess.language
    notes = extraction.notes
    if not result["is_resume"]:
        if not args.anyway:
            # the bot's text offers a button; here the button is an option
            print("resumebek analyze: --anyway reviews it all the same", file=sys.stderr)
            return _finish(args, result, _plain(rejection_html("not_resume", lang)))
        notes = (*notes, FORCED_NOTE)

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
                notes=notes,
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
