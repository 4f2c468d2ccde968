"""The photo-offer link under every review: AI_PHOTOS_URL with UTM parameters.

No raw Telegram id ever goes into the URL. With PUBLIC_BASE_URL set, the production
branch may replace `photo_url` by a signed `/r/{token}` redirect that counts clicks.
Pure: no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from resumebek.messages import Language

_CAMPAIGN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def clean_campaign(payload: str) -> str | None:
    """A deep-link payload as a campaign name, or None when it is not a plain token
    (Telegram allows only A-Z a-z 0-9 _ - in start parameters, up to 64 characters)."""
    payload = payload.strip()
    return payload if _CAMPAIGN.fullmatch(payload) else None


def validate_photo_url(url: str) -> str:
    """Raise ValueError unless `url` can be an inline URL button (http(s) with a host)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or " " in url:
        raise ValueError("expected an http(s) URL with a host")
    return url


def photo_url(base_url: str, *, campaign: str | None, lang: Language) -> str:
    """`base_url` with utm_source/medium/campaign/content added (existing query kept)."""
    parts = urlsplit(base_url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.startswith("utm_")
    ]
    query += [
        ("utm_source", "resumebek"),
        ("utm_medium", "telegram"),
        ("utm_campaign", campaign or "review"),
        ("utm_content", lang),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))
