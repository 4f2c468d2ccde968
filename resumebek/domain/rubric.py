"""The scoring rubric: how rule findings become a 1–10 score, and how an LLM score is anchored.

Points per criterion (they add up to 10; the score is the rounded sum, clamped to 1–10):

| criterion     | points | full marks when                                                        |
|---------------|--------|------------------------------------------------------------------------|
| contacts      | 1.5    | email 0.6 + phone 0.6 + a profile link (LinkedIn, GitHub, portfolio) 0.3|
| sections      | 2.5    | experience 0.7, education 0.6, skills 0.6, summary 0.3, languages 0.3;  |
|               |        | a section found only by its content (no heading) earns half            |
| length        | 1.0    | word count fits the career stage (student ≈ one page)                  |
| structure     | 1.0    | bullets and short paragraphs instead of a wall of text                 |
| quantified    | 1.5    | ≥ 4 numbers in achievements (1–3 numbers: 0.75)                        |
| action_verbs  | 1.0    | no weak phrasing, or at least twice as many action verbs (some: 0.5)   |
| dates         | 1.0    | dates present (0.5) and every range in order (0.5)                     |
| oversharing   | 0.5    | no IIN, marital status, full birth date or home address                |

Caps: a text under 40 words scores at most 4 (too little to judge, whatever it contains);
text that tries to instruct the reviewer ("ignore previous instructions…") costs 1 point.

Anchoring the LLM (the score the user sees must be stable, and a resume cannot talk its
way to 10/10): the LLM's score is blended with the rules score and clamped to rules ± 1:

    shown = clamp(round_half_up((llm + rules) / 2), rules - 1, rules + 1)

so LLM noise is halved and bounded: an LLM that wanders over 3 adjacent values (e.g. 6–8)
moves the shown score by at most 1, whatever the LLM says the result never leaves
rules ± 1, and when the rules saw an injection attempt in the text the LLM cannot raise
the score at all (shown <= rules).
"""

from __future__ import annotations

import math

WEIGHTS: dict[str, float] = {
    "contacts": 1.5,
    "sections": 2.5,
    "length": 1.0,
    "structure": 1.0,
    "quantified": 1.5,
    "action_verbs": 1.0,
    "dates": 1.0,
    "oversharing": 0.5,
}

SECTION_POINTS: dict[str, float] = {
    "experience": 0.7,
    "education": 0.6,
    "skills": 0.6,
    "summary": 0.3,
    "languages": 0.3,
}

TINY_WORDS = 40
TINY_CAP = 4

CONTACT_POINTS: dict[str, float] = {"email": 0.6, "phone": 0.6, "link": 0.3}


def round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def clamp_score(value: float) -> int:
    return max(1, min(10, round_half_up(value)))


def total_score(points: dict[str, float]) -> int:
    """Sum of earned points per criterion (each capped at its weight) → 1–10."""
    earned = sum(min(points.get(name, 0.0), weight) for name, weight in WEIGHTS.items())
    return clamp_score(earned)


def anchor_llm_score(llm_score: int, rules_score: int, *, injection: bool = False) -> int:
    """The score shown for an LLM review (see the module docstring)."""
    blended = round_half_up((llm_score + rules_score) / 2)
    low, high = rules_score - 1, rules_score + 1
    if injection:
        high = rules_score
    return max(1, min(10, max(low, min(high, blended))))
