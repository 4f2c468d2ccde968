"""Contacts in resume text: email, phone, LinkedIn, GitHub, Telegram; and IINs (pure).

An IIN (Kazakhstan's 12-digit personal number, validated by its check digit) is sensitive:
the review tells the user not to publish it. Values found here stay in memory for the
review; only their presence is ever counted in analytics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
)
# +7 (701) 123-45-67, 8 701 123 45 67, +7 701 1234567, 8(7212)41-22-33, +44 20 7946 0958
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+[ \t]?\d{1,3}|8)[ \t\-.]?\(?\d{2,5}\)?(?:[ \t\-.]?\d){5,9}(?!\d)"
)
_LINKEDIN_RE = re.compile(
    r"(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/(?:in|pub|company)/[\w\-%.]+/?", re.I
)
_GITHUB_RE = re.compile(
    r"(?:https?://)?(?:www\.)?github\.com/[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/?", re.I
)
_TELEGRAM_URL_RE = re.compile(
    r"(?:https?://)?(?:t\.me|telegram\.me)/([A-Za-z][A-Za-z0-9_]{4,31})\b", re.I
)
_TELEGRAM_LABEL_RE = re.compile(
    r"(?:telegram|телеграм|телеграмм|tg)\s*[:\-–—]?\s*@?([A-Za-z][A-Za-z0-9_]{4,31})\b", re.I
)
_HANDLE_RE = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]{4,31})\b(?![.@]\w)")
_IIN_RE = re.compile(r"(?<!\d)(\d{2}[01]\d[0-3]\d[0-6]\d{5})(?!\d)")


@dataclass(frozen=True, slots=True)
class Contacts:
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    linkedin: tuple[str, ...] = ()
    github: tuple[str, ...] = ()
    telegram: tuple[str, ...] = ()
    iins: tuple[str, ...] = ()  # sensitive: tell the user not to publish it

    @property
    def has_any(self) -> bool:
        return bool(self.emails or self.phones or self.linkedin or self.github or self.telegram)

    @property
    def sensitive(self) -> bool:
        return bool(self.iins)

    def presence(self) -> dict[str, bool]:
        """What kinds are present: safe to pass on (no values)."""
        return {
            "email": bool(self.emails),
            "phone": bool(self.phones),
            "linkedin": bool(self.linkedin),
            "github": bool(self.github),
            "telegram": bool(self.telegram),
            "iin": bool(self.iins),
        }


def iin_is_valid(iin: str) -> bool:
    """Check digit of a Kazakhstan IIN/BIN (two weight rounds, mod 11; 10 means invalid)."""
    if len(iin) != 12 or not iin.isdigit():
        return False
    digits = [int(c) for c in iin]
    for weights in (range(1, 12), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)):
        check = sum(d * w for d, w in zip(digits[:11], weights, strict=True)) % 11
        if check != 10:
            return check == digits[11]
    return False


def _unique(items: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)


def _phone_ok(raw: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    if raw.lstrip().startswith("8") and not raw.lstrip().startswith("+"):
        return len(digits) == 11  # KZ/RU trunk prefix: 8 7xx xxx xx xx
    if digits.startswith("7"):
        return len(digits) == 11
    return 8 <= len(digits) <= 15


def find_contacts(text: str) -> Contacts:
    emails = _unique([m.group(0) for m in _EMAIL_RE.finditer(text)])
    email_spans = [m.span() for m in _EMAIL_RE.finditer(text)]
    phones: list[str] = []
    for m in _PHONE_RE.finditer(text):
        raw = m.group(0).strip()
        if not _phone_ok(raw):
            continue
        if any(a <= m.start() < b for a, b in email_spans):
            continue
        digits = re.sub(r"\D", "", raw)
        if raw.startswith("8") and len(digits) == 11:
            digits = "7" + digits[1:]
        phones.append("+" + digits)
    telegram = [m.group(1) for m in _TELEGRAM_URL_RE.finditer(text)]
    telegram += [m.group(1) for m in _TELEGRAM_LABEL_RE.finditer(text)]
    telegram += [m.group(1) for m in _HANDLE_RE.finditer(text)]
    iins = [m.group(1) for m in _IIN_RE.finditer(text) if iin_is_valid(m.group(1))]
    return Contacts(
        emails=emails,
        phones=_unique(phones),
        linkedin=_unique([m.group(0) for m in _LINKEDIN_RE.finditer(text)]),
        github=_unique([m.group(0) for m in _GITHUB_RE.finditer(text)]),
        telegram=_unique(["@" + t for t in telegram]),
        iins=_unique(iins),
    )
