"""Reads about the list cache (``recommendations.services.cache``): its hit and miss figures (for
``/api/v1/stats/`` and ``/metrics``) and the listeners whose lists are worth precomputing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from history.models import HistoryEntry, Interaction

#: Redis counters of the list cache (``cache.incr``, written by ``services.cache``)
HITS_KEY = "recommendations:lists:hits"
MISSES_KEY = "recommendations:lists:misses"
_PROBE_KEY = "recommendations:lists:probe"


@dataclass(frozen=True)
class CacheFigures:
    """Requests answered from the cache (``hits``) and computed (``misses``) since the counters
    started (Redis keeps them; no expiry), and the share of hits (None before any request).
    ``available`` is False when Redis did not answer (the counts are then 0)."""

    hits: int
    misses: int
    available: bool

    @property
    def requests(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.requests if self.requests else None


def cache_figures() -> CacheFigures:
    """The list cache's hit and miss counts: one Redis read."""
    values = cache.get_many([HITS_KEY, MISSES_KEY])
    available = True
    if not values:
        # nothing counted yet, or Redis down (django-redis then answers None): one more call
        available = cache.add(_PROBE_KEY, 1, timeout=1) is not None
    return CacheFigures(
        hits=int(values.get(HITS_KEY) or 0),
        misses=int(values.get(MISSES_KEY) or 0),
        available=bool(available),
    )


def recently_active_listener_ids(*, days: int, limit: int) -> list[int]:
    """Listeners active in the last ``days`` days (signed in, recorded an event or changed
    their history), most recently active first, at most ``limit``. Three grouped reads of
    indexed recent rows."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    latest: dict[int, dt.datetime] = {}

    def seen(rows: Iterable[tuple[int, dt.datetime | None]]) -> None:
        for user_id, at in rows:
            if at is not None and (user_id not in latest or latest[user_id] < at):
                latest[user_id] = at

    seen(
        User.objects.filter(is_active=True, last_login__gte=cutoff).values_list("pk", "last_login")
    )
    seen(
        Interaction.objects.filter(recorded_at__gte=cutoff)
        .values("user_id")
        .annotate(at=Max("recorded_at"))
        .values_list("user_id", "at")
    )
    seen(
        HistoryEntry.objects.filter(added_at__gte=cutoff)
        .values("user_id")
        .annotate(at=Max("added_at"))
        .values_list("user_id", "at")
    )
    active = set(
        User.objects.filter(pk__in=list(latest), is_active=True).values_list("pk", flat=True)
    )
    ranked = sorted(active, key=lambda user_id: (latest[user_id], user_id), reverse=True)
    return ranked[:limit]
