"""Reads of listening history."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from catalog.models import TrackArtist
from history.models import HISTORY_LIMIT, HistoryEntry


def history_list(*, user: User) -> QuerySet[HistoryEntry]:
    """The listener's entries, newest first, with what a list shows."""
    return (
        HistoryEntry.objects.filter(user=user)
        .select_related("track", "track__album", "track__album__primary_artist")
        .prefetch_related(
            Prefetch(
                "track__track_artists",
                queryset=TrackArtist.objects.select_related("artist").order_by("position"),
            ),
            "track__genres",
        )
        .order_by("-added_at", "-id")
    )


def history_counts(count: int) -> dict[str, int]:
    """``{"count", "limit", "remaining"}`` for a history of ``count`` entries."""
    return {"count": count, "limit": HISTORY_LIMIT, "remaining": HISTORY_LIMIT - count}


def history_summary(*, user: User) -> dict[str, int]:
    return history_counts(HistoryEntry.objects.filter(user=user).count())
