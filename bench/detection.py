"""Resume detection and language accuracy over the labeled dev corpus, side by side with a
re-implementation of the original bot's keyword detector (measured in the same run).

    python -m bench.detection [CORPUS_DIR] [--errors]

The original bot counted resume keywords and called a text a resume at a score of 40; its
language guess was "Kazakh letters → kk, else Cyrillic → ru, else en".
Files whose extraction is not `ok` count as "not a resume" (the bot answers them with a
reason instead); image-only resumes are therefore listed separately.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from resumebek.domain.detection import detect_resume
from resumebek.domain.language import detect_language
from services.documents import extract_bytes

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "dev"
THRESHOLD = 40

_KEYWORDS = (
    "resume",
    "cv",
    "experience",
    "education",
    "skills",
    "languages",
    "contact",
    "phone",
    "email",
    "university",
    "резюме",
    "опыт",
    "образование",
    "навыки",
    "языки",
    "телефон",
    "университет",
    "түйіндеме",
    "тәжірибе",
    "білім",
    "дағды",
    "тілдер",
)
_KK_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


def baseline_score(text: str) -> int:
    """The original bot: 10 points per resume keyword found (capped at 100)."""
    low = text.lower()
    hits = sum(1 for k in _KEYWORDS if re.search(rf"(?<!\w){re.escape(k)}", low))
    return min(100, hits * 10)


def baseline_language(text: str) -> str:
    if any(c in _KK_LETTERS for c in text):
        return "kk"
    cyr = sum(1 for c in text if "\u0400" <= c <= "\u04ff")
    lat = sum(1 for c in text if c.isascii() and c.isalpha())
    return "ru" if cyr > lat else "en"


@dataclass(slots=True)
class Row:
    file: str
    label: str
    language: str
    outcome: str
    text: str


@dataclass(slots=True)
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    lang_ok: int = 0
    lang_n: int = 0

    def add(self, truth: bool, guess: bool) -> None:
        if truth and guess:
            self.tp += 1
        elif guess:
            self.fp += 1
        elif truth:
            self.fn += 1
        else:
            self.tn += 1

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


def load(corpus: Path) -> list[Row]:
    rows: list[Row] = []
    with (corpus / "manifest.tsv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh, delimiter="\t"):
            data = (corpus / rec["file"]).read_bytes()
            ex = extract_bytes(data, name_hint=rec["file"], mime_type=None, max_pages=10)
            rows.append(
                Row(
                    file=rec["file"],
                    label=rec["label"],
                    language=rec["language"],
                    outcome=ex.outcome,
                    text=ex.text if ex.outcome == "ok" else "",
                )
            )
    return rows


def evaluate(
    rows: list[Row],
    is_resume: Callable[[str], bool],
    language: Callable[[str], str],
    *,
    text_only: bool,
    errors: list[str] | None = None,
) -> Score:
    score = Score()
    for row in rows:
        if text_only and row.outcome == "no_text":
            continue
        truth = row.label == "resume"
        guess = row.outcome == "ok" and is_resume(row.text)
        score.add(truth, guess)
        if errors is not None and truth != guess:
            errors.append(f"  resume? {row.file} label={row.label} guess={guess} ({row.outcome})")
        if row.text:
            score.lang_n += 1
            got = language(row.text)
            if got == row.language:
                score.lang_ok += 1
            elif errors is not None:
                errors.append(f"  language {row.file} label={row.language} guess={got}")
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--errors", action="store_true", help="list misclassified files")
    args = parser.parse_args(argv)
    if not (args.corpus / "manifest.tsv").is_file():
        print(f"no manifest.tsv in {args.corpus}", file=sys.stderr)
        return 2
    rows = load(args.corpus)
    ours_errors: list[str] = []
    detectors: list[tuple[str, Callable[[str], bool], Callable[[str], str]]] = [
        (
            "resumebek",
            lambda t: detect_resume(t).is_resume(THRESHOLD),
            lambda t: detect_language(t).language,
        ),
        ("original keywords", lambda t: baseline_score(t) >= THRESHOLD, baseline_language),
    ]
    no_text = sum(1 for r in rows if r.outcome == "no_text")
    print(f"dev corpus: {len(rows)} files, {no_text} without a text layer (answered no_text)")
    print(f"{'detector':18s} {'set':10s} {'P':>6s} {'R':>6s} {'F1':>6s} {'lang acc':>9s}")
    for name, is_resume, language in detectors:
        for text_only in (False, True):
            errs = ours_errors if name == "resumebek" and text_only else None
            s = evaluate(rows, is_resume, language, text_only=text_only, errors=errs)
            p, r, f = s.prf()
            acc = s.lang_ok / s.lang_n if s.lang_n else 0.0
            label = "text-layer" if text_only else "all"
            print(f"{name:18s} {label:10s} {p:6.3f} {r:6.3f} {f:6.3f} {acc:9.3f}")
    if args.errors and ours_errors:
        print("resumebek errors (text-layer set):")
        print("\n".join(ours_errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
