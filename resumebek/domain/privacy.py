"""Pseudonyms for analytics: a keyed hash, so the files never hold a raw Telegram id and
nobody without the salt can map an id to its pseudonym (a plain hash could be brute-forced)."""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_HEX = 16  # 64 bits: collisions are negligible for a bot's user base


def pseudonym(user_id: int, salt: bytes) -> str:
    """The same user and salt always give the same id; HMAC-SHA256, hex prefix."""
    return hmac.new(salt, str(user_id).encode("ascii"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]
