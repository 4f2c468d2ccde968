"""What ingress remembers between restarts, in DATA_DIR/ingress_state.json (owner-only).

Per user: language preference, follow-up opt-out, deep-link campaign, and today's review
count (USER_DAILY_LIMIT); plus the last (chat, message id) pairs seen, so an update that
Telegram re-delivers after a restart is not processed twice. Only the ingress actor uses
it (single writer). Saved atomically; a torn or foreign file is quarantined, not fatal.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from resumebek.messages import LANGUAGES, ChatRef, Language, UserRef
from services.storage import quarantine, write_atomic

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FILE_NAME = "ingress_state.json"


@dataclass(frozen=True, slots=True)
class UserPrefs:
    language: Language | None = None  # chosen with /language
    follow_up: bool = True  # False after /stop
    campaign: str | None = None  # deep-link payload of the first /start


def _language(value: object) -> Language | None:
    for lang in LANGUAGES:
        if value == lang:
            return lang
    return None


class IngressStore:
    def __init__(self, path: Path | None, *, dedup_window: int = 10_000) -> None:
        self.path = path  # None: memory only (tests)
        self.dedup_window = dedup_window
        self._users: dict[int, UserPrefs] = {}
        self._quota: dict[int, tuple[str, int]] = {}  # user → (local day, reviews taken)
        self._seen: OrderedDict[tuple[int, int], None] = OrderedDict()
        self.dirty = False

    # ------------------------------------------------------------ loading and saving

    @classmethod
    def load(cls, path: Path, *, dedup_window: int = 10_000) -> IngressStore:
        store = cls(path, dedup_window=dedup_window)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return store
        try:
            data = orjson.loads(raw)
            if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
                raise ValueError("unknown format")
            store._restore(data)
        except (orjson.JSONDecodeError, ValueError, TypeError, KeyError):
            moved = quarantine(path)
            log.error("ingress_store.corrupt moved_to=%s", moved.name)
            return cls(path, dedup_window=dedup_window)
        return store

    def _restore(self, data: dict[str, Any]) -> None:
        for key, prefs in data.get("users", {}).items():
            campaign = prefs.get("campaign")
            self._users[int(key)] = UserPrefs(
                language=_language(prefs.get("language")),
                follow_up=bool(prefs.get("follow_up", True)),
                campaign=campaign if isinstance(campaign, str) else None,
            )
        for key, (day, count) in data.get("quota", {}).items():
            self._quota[int(key)] = (str(day), int(count))
        for chat, message_id in data.get("seen", [])[-self.dedup_window :]:
            self._seen[(int(chat), int(message_id))] = None

    def snapshot(self) -> bytes:
        users = {
            str(user): {"language": p.language, "follow_up": p.follow_up, "campaign": p.campaign}
            for user, p in self._users.items()
        }
        quota = {str(user): [day, count] for user, (day, count) in self._quota.items()}
        seen = [list(key) for key in self._seen]
        return orjson.dumps(
            {"version": FORMAT_VERSION, "users": users, "quota": quota, "seen": seen}
        )

    def save(self, snapshot: bytes | None = None) -> None:
        """Write atomically (call from a worker thread with a snapshot taken on the loop)."""
        if self.path is not None:
            write_atomic(self.path, snapshot if snapshot is not None else self.snapshot())

    # ------------------------------------------------------------ preferences

    def prefs(self, user: UserRef) -> UserPrefs:
        return self._users.get(user, UserPrefs())

    def _set(self, user: UserRef, prefs: UserPrefs) -> None:
        if prefs == UserPrefs():
            self._users.pop(user, None)
        else:
            self._users[user] = prefs
        self.dirty = True

    def set_language(self, user: UserRef, language: Language) -> None:
        p = self.prefs(user)
        self._set(user, UserPrefs(language=language, follow_up=p.follow_up, campaign=p.campaign))

    def set_follow_up(self, user: UserRef, enabled: bool) -> None:
        p = self.prefs(user)
        self._set(user, UserPrefs(language=p.language, follow_up=enabled, campaign=p.campaign))

    def set_campaign(self, user: UserRef, campaign: str) -> None:
        p = self.prefs(user)
        if p.campaign is None:  # first touch wins: that is where the user came from
            self._set(
                user, UserPrefs(language=p.language, follow_up=p.follow_up, campaign=campaign)
            )

    def forget(self, user: UserRef, chat: ChatRef) -> None:
        """/delete: everything kept about this user and chat."""
        self._users.pop(user, None)
        self._quota.pop(user, None)
        for key in [k for k in self._seen if k[0] == chat]:
            del self._seen[key]
        self.dirty = True

    # ------------------------------------------------------------ dedup and quota

    def first_time(self, chat: ChatRef, message_id: int) -> bool:
        """True the first time (chat, message id) is seen; remembers it."""
        key = (int(chat), message_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self.dedup_window:
            self._seen.popitem(last=False)
        self.dirty = True
        return True

    def take_quota(self, user: UserRef, day: str, limit: int) -> bool:
        """Count one review for `user` on local `day`; False when the limit is reached."""
        seen_day, count = self._quota.get(user, (day, 0))
        if seen_day != day:
            count = 0
        if count >= limit:
            return False
        self._quota[user] = (day, count + 1)
        self.dirty = True
        return True

    def knows_user(self, user: UserRef) -> bool:
        return user in self._users or user in self._quota
