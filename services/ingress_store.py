"""What ingress remembers between restarts, in DATA_DIR/ingress_state.json (owner-only).

Per user: language preference, follow-up opt-out, deep-link campaign, today's review
count (USER_DAILY_LIMIT) and today's refunds (requests that ended without a review); plus the last (chat, message id) pairs seen, so an update that
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

from resumebek.domain.texts import as_language
from resumebek.messages import ChatRef, Language, UserRef
from services.storage import quarantine, write_atomic

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FILE_NAME = "ingress_state.json"


@dataclass(frozen=True, slots=True)
class UserPrefs:
    language: Language | None = None  # chosen with /language
    follow_up: bool = True  # False after /stop
    campaign: str | None = None  # deep-link payload of the first /start


class IngressStore:
    def __init__(self, path: Path | None, *, dedup_window: int = 10_000) -> None:
        self.path = path  # None: memory only (tests)
        self.dedup_window = dedup_window
        self._users: dict[int, UserPrefs] = {}
        self._quota: dict[int, tuple[str, int]] = {}  # user → (local day, reviews taken)
        self._quota_day = ""  # the latest day take_quota saw: older counts are dropped
        self._refunds: dict[int, tuple[str, int]] = {}  # user → (local day, refunds given)
        self._seen: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._rated: OrderedDict[tuple[int, int], None] = OrderedDict()  # review messages
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
                language=as_language(prefs.get("language")),
                follow_up=bool(prefs.get("follow_up", True)),
                campaign=campaign if isinstance(campaign, str) else None,
            )
        for key, (day, count) in data.get("quota", {}).items():
            self._quota[int(key)] = (str(day), int(count))
        # a separate key: a file written by this version still loads in an older one
        for key, (day, count) in data.get("refunds", {}).items():
            self._refunds[int(key)] = (str(day), int(count))
        for chat, message_id in data.get("seen", [])[-self.dedup_window :]:
            self._seen[(int(chat), int(message_id))] = None
        for chat, message_id in data.get("rated", [])[-self.dedup_window :]:
            self._rated[(int(chat), int(message_id))] = None

    def snapshot(self) -> bytes:
        users = {
            str(user): {"language": p.language, "follow_up": p.follow_up, "campaign": p.campaign}
            for user, p in self._users.items()
        }
        quota = {str(user): [day, count] for user, (day, count) in self._quota.items()}
        refunds = {str(user): [day, count] for user, (day, count) in self._refunds.items()}
        seen = [list(key) for key in self._seen]
        state: dict[str, Any] = {"version": FORMAT_VERSION, "users": users, "quota": quota}
        if refunds:
            state["refunds"] = refunds
        state["seen"] = seen
        if self._rated:
            state["rated"] = [list(key) for key in self._rated]
        return orjson.dumps(state)

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
        self._refunds.pop(user, None)
        for remembered in (self._seen, self._rated):
            for key in [k for k in remembered if k[0] == chat]:
                del remembered[key]
        self.dirty = True

    # ------------------------------------------------------------ dedup and quota

    def first_time(self, chat: ChatRef, message_id: int) -> bool:
        """True the first time (chat, message id) is seen; remembers it."""
        return self._remember(self._seen, chat, message_id)

    def first_rating(self, chat: ChatRef, review_message_id: int) -> bool:
        """True the first time a review is rated: a double tap before the buttons are gone,
        or the same press delivered again after a restart, counts once."""
        return self._remember(self._rated, chat, review_message_id)

    def _remember(
        self, remembered: OrderedDict[tuple[int, int], None], chat: ChatRef, message_id: int
    ) -> bool:
        key = (int(chat), message_id)
        if key in remembered:
            return False
        remembered[key] = None
        while len(remembered) > self.dedup_window:
            remembered.popitem(last=False)
        self.dirty = True
        return True

    def unsee(self, chat: ChatRef, message_id: int) -> None:
        """Forget one (chat, message id): its handling failed and it will be handled again."""
        key = (int(chat), message_id)
        if key in self._seen:
            del self._seen[key]
            self.dirty = True

    def take_quota(self, user: UserRef, day: str, limit: int) -> bool:
        """Count one review for `user` on local `day`; False when the limit is reached."""
        self._forget_quota_before(day)
        seen_day, count = self._quota.get(user, (day, 0))
        if seen_day != day:
            count = 0
        if count >= limit:
            return False
        self._quota[user] = (day, count + 1)
        self.dirty = True
        return True

    def refund_quota(self, user: UserRef, day: str, max_refunds: int) -> bool:
        """Give back one review taken on `day` by a request that ended without a review.
        At most `max_refunds` a day per user, so endless rejected uploads stay bounded
        (after that they count like reviews). False when nothing was given back."""
        self._forget_quota_before(day)
        seen_day, count = self._quota.get(user, (day, 0))
        if seen_day != day or count <= 0:
            return False  # charged on another day, or never charged (an admin)
        refund_day, refunds = self._refunds.get(user, (day, 0))
        if refund_day != day:
            refunds = 0
        if refunds >= max_refunds:
            return False
        self._quota[user] = (day, count - 1)
        self._refunds[user] = (day, refunds + 1)
        self.dirty = True
        return True

    def _forget_quota_before(self, day: str) -> None:
        """A count of an earlier day is worth nothing today: drop those once a day, so the
        table (and the snapshot written on every request) holds today's users, not every user
        ever. `day` is an ISO date in one zone, so string order is date order."""
        if day <= self._quota_day:
            return
        self._quota_day = day
        stale = [user for user, (seen_day, _) in self._quota.items() if seen_day < day]
        for user in stale:
            del self._quota[user]
        stale_refunds = [user for user, (seen_day, _) in self._refunds.items() if seen_day < day]
        for user in stale_refunds:
            del self._refunds[user]
        if stale or stale_refunds:
            self.dirty = True

    def knows_user(self, user: UserRef) -> bool:
        return user in self._users or user in self._quota
