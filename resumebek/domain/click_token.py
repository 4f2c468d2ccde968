"""Signed, opaque click tokens for the photo-offer button, and the URLs built from them.

Telegram URL buttons cannot report clicks, so with PUBLIC_BASE_URL set the button points to
`{PUBLIC_BASE_URL}/r/{token}`; the HTTP endpoint verifies the token, counts a `cta_clicked`
event and redirects to AI_PHOTOS_URL. The token carries a pseudonymous user ref (never the
raw Telegram id), the language and the campaign, and an HMAC so nobody can mint clicks.

Layout (before base64url, no padding):
    version (1) | language index (1) | len(user_ref) (1) | user_ref (ascii) | campaign (utf-8) | mac (12)
Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from resumebek.domain.events import event
from resumebek.messages import LANGUAGES, AnalyticsEvent, Language

if TYPE_CHECKING:
    from resumebek.config import Settings

_VERSION = 1
_MAC_BYTES = 12  # 96 bits: forging one click is not worth 2**96 tries
_KEY_CONTEXT = b"resumebek/click-token/v1"
_MAX_USER_REF = 64
_MAX_CAMPAIGN = 64
_REF_CHARS = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PSEUDONYM = re.compile(r"[0-9a-f]{16}")  # resumebek.domain.privacy.pseudonym's shape
_CAMPAIGN_CHARS = re.compile(r"[A-Za-z0-9_-]{1,64}")  # Telegram's deep-link payload alphabet
# A token longer than this cannot be ours; refuse before decoding anything.
MAX_TOKEN_CHARS = 4 * (3 + _MAX_USER_REF + _MAX_CAMPAIGN + _MAC_BYTES) // 3 + 4


@dataclass(frozen=True, slots=True, kw_only=True)
class ClickToken:
    """What a verified token says. `user_ref` is a pseudonym, `campaign` a deep-link name."""

    user_ref: str
    language: Language
    campaign: str | None = None


def derive_click_key(secret: str) -> bytes:
    """The signing key for one secret (never the secret itself, which has other uses)."""
    if not secret:
        raise ValueError("a click key needs a non-empty secret")
    return hmac.new(_KEY_CONTEXT, secret.encode(), hashlib.sha256).digest()


def click_key(*secrets: str) -> bytes | None:
    """The signing key, derived from the first non-empty secret (ANALYTICS_SALT, then
    BOT_TOKEN). None when there is none: then no token verifies and no click counts."""
    for secret in secrets:
        if secret:
            return derive_click_key(secret)
    return None


def settings_click_key(settings: Settings) -> bytes | None:
    """The one key both the button (outbox) and the endpoint (/r/) must use."""
    return click_key(settings.analytics_salt.reveal(), settings.bot_token.reveal())


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def sign_click(key: bytes, click: ClickToken) -> str:
    """A compact URL-safe token for `click`. Raises ValueError for refs a token cannot carry."""
    if not _REF_CHARS.fullmatch(click.user_ref):
        raise ValueError("user_ref must be 1-64 characters of [A-Za-z0-9_-]")
    if click.user_ref.isdigit():
        # A purely numeric ref looks like a raw Telegram id: refuse rather than leak one.
        raise ValueError("user_ref must be a pseudonym, not a number")
    if click.campaign is not None and not _CAMPAIGN_CHARS.fullmatch(click.campaign):
        raise ValueError("campaign must be 1-64 characters of [A-Za-z0-9_-] (a deep-link payload)")
    campaign = (click.campaign or "").encode("ascii")
    ref = click.user_ref.encode("ascii")
    payload = bytes((_VERSION, LANGUAGES.index(click.language), len(ref))) + ref + campaign
    raw = payload + _mac(key, payload)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def verify_click(key: bytes | None, token: str) -> ClickToken | None:
    """The click a genuine token carries, or None for anything forged, altered or malformed."""
    if key is None or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 3 + _MAC_BYTES:
        return None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(key, payload)):
        return None
    version, lang_index, ref_len = payload[0], payload[1], payload[2]
    if version != _VERSION or lang_index >= len(LANGUAGES) or len(payload) < 3 + ref_len:
        return None
    try:
        user_ref = payload[3 : 3 + ref_len].decode("ascii")
        campaign = payload[3 + ref_len :].decode("ascii")
    except UnicodeDecodeError:
        return None
    return ClickToken(user_ref=user_ref, language=LANGUAGES[lang_index], campaign=campaign or None)


def with_utm(url: str, *, language: Language | None, campaign: str | None) -> str:
    """`url` with the offer's UTM parameters, as the direct button link has them
    (`photo_offer.photo_url`): other query parameters stay, any utm_* is replaced."""
    parts = urlsplit(url)
    ours = {"utm_source": "resumebek", "utm_medium": "telegram"}
    ours["utm_campaign"] = campaign or "review"
    if language is not None:
        ours["utm_content"] = language
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.startswith("utm_")
    ]
    return urlunsplit(parts._replace(query=urlencode([*kept, *ours.items()])))


def tracked_photo_url(
    public_base_url: str,
    *,
    key: bytes,
    user_ref: str,
    language: Language,
    campaign: str | None = None,
) -> str:
    """The photo button's URL through the click counter: `{base}/r/{token}`.
    Pass `user_ref=resumebek.domain.privacy.pseudonym(user_id, salt)` (never the raw id);
    `campaign` is the deep-link payload or None. Raises ValueError for refs a token cannot
    carry: fall back to the direct `with_utm(AI_PHOTOS_URL, ...)` link then."""
    token = sign_click(key, ClickToken(user_ref=user_ref, language=language, campaign=campaign))
    return f"{public_base_url.rstrip('/')}/r/{quote(token, safe='')}"


def click_event(click: ClickToken, *, at: float) -> AnalyticsEvent:
    """The analytics event for one verified click: language, campaign and, when the ref is a
    pseudonym of the analytics format (`privacy.pseudonym`: 16 lowercase hex), `user_ref`,
    which the writer files as the event's user so the click joins that user's other events.
    Any other ref is left out rather than have the writer refuse the whole event."""
    if _PSEUDONYM.fullmatch(click.user_ref):
        return event(
            "cta_clicked",
            at=at,
            language=click.language,
            campaign=click.campaign,
            user_ref=click.user_ref,
        )
    return event("cta_clicked", at=at, language=click.language, campaign=click.campaign)
