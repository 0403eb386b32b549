"""Reads of listening history."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from catalog.models import credits_prefetch
from history.models import HISTORY_LIMIT, HistoryEntry


def history_list(*, user: User) -> QuerySet[HistoryEntry]:
    """The listener's entries, newest first, with what a list shows."""
    return (
        HistoryEntry.objects.filter(user=user)
        .select_related("track", "track__album", "track__album__primary_artist")
        .prefetch_related(credits_prefetch("track__track_artists"), "track__genres")
        .order_by("-added_at", "-id")
    )


@dataclass(frozen=True)
class HistoryState:
    """How full the listener's history is and which tracks it holds."""

    count: int
    track_ids: frozenset[int]
    limit: int = HISTORY_LIMIT

    @property
    def full(self) -> bool:
        return self.count >= self.limit


def history_state(*, user: User) -> HistoryState:
    ids = frozenset(HistoryEntry.objects.filter(user=user).values_list("track_id", flat=True))
    return HistoryState(count=len(ids), track_ids=ids)


def history_counts(count: int) -> dict[str, int]:
    """``{"count", "limit", "remaining"}`` for a history of ``count`` entries."""
    return {"count": count, "limit": HISTORY_LIMIT, "remaining": HISTORY_LIMIT - count}


def history_summary(*, user: User) -> dict[str, int]:
    return history_counts(HistoryEntry.objects.filter(user=user).count())
