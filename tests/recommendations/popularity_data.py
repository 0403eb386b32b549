"""What the popularity tests share: events at chosen ages through the history services, and
the materialized views read back as plain dicts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.utils import timezone

from accounts.models import User
from catalog.models import Track
from history.models import HistoryEntry
from history.services.entries import history_entry_add
from history.services.interactions import interaction_record
from recommendations.selectors.popularity import popularity_state
from tests.accounts.factories import UserFactory


def listener(**demographics: Any) -> User:
    """A listener with the given age, country, gender, occupation (each optional)."""
    return UserFactory(**demographics)


TREND_HALF_LIFE_DAYS = 14
TASTE_HALF_LIFE_DAYS = 30


def event(
    user: User, track: Track, kind: str = "play", *, days_ago: float = 0, **extra: Any
) -> dt.datetime:
    """One event of ``kind`` on ``track``, ``days_ago`` days ago (the service that records
    them: a like or dislike also becomes the listener's opinion, at that time); returns when."""
    at = timezone.now() - dt.timedelta(days=days_ago)
    interaction_record(user=user, track_id=track.pk, kind=kind, occurred_at=at, **extra)
    return at


def history_add(user: User, track: Track, *, days_ago: float = 0) -> dt.datetime:
    at = timezone.now() - dt.timedelta(days=days_ago)
    history_entry_add(user=user, track_id=track.pk)
    HistoryEntry.objects.filter(user=user, track=track).update(added_at=at)
    return at


def decayed(at: dt.datetime, half_life_days: float = TREND_HALF_LIFE_DAYS) -> float:
    """What one full-weight event at ``at`` counts in the views of the last refresh (decayed
    to their reference, ``scored_at``)."""
    age = (popularity_state().scored_at - at).total_seconds() / 86_400
    return 0.5 ** (age / half_life_days)


def _rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def popular(genre_id: int = 0) -> dict[int, dict[str, Any]]:
    """``popular_tracks`` rows of one genre (0: overall), by track id."""
    rows = _rows("SELECT * FROM popular_tracks WHERE genre_id = %s", [genre_id])
    return {row["track_id"]: row for row in rows}


def popular_pairs() -> set[tuple[int, int]]:
    """Every (genre_id, track_id) of ``popular_tracks``."""
    return {(r["genre_id"], r["track_id"]) for r in _rows("SELECT * FROM popular_tracks", [])}


def cohorts() -> list[dict[str, Any]]:
    """Every row of ``demographic_popularity``."""
    return _rows(
        "SELECT * FROM demographic_popularity"
        " ORDER BY level DESC, age_band, country, gender, occupation, score DESC, track_id",
        [],
    )
