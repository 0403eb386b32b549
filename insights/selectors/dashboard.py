"""Everything the staff dashboard (``/staff/insights/``) shows, computed at once and cached.

:func:`staff_dashboard` runs the selectors of ``platform`` and ``health`` (14 SQL queries, two
Redis reads; ``tests/insights/test_staff_page.py`` holds the count) and keeps the result under
one cache key for ``RECOMMENDER["dashboard"]["cache_seconds"]``: a reload, or several staff
members, cost one computation per interval. With Redis down the cache answers nothing (the
cache backend ignores its errors) and the figures are computed on each request, never an
error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from insights.selectors.health import (
    LatencyFigures,
    ModelVersionRow,
    RunningExperiment,
    ServedFigures,
    list_cache,
    model_versions,
    route_latencies,
    running_experiments,
    served_rates,
)
from insights.selectors.platform import (
    ActiveListeners,
    Cohort,
    DayActivity,
    ImportFigures,
    Period,
    PopularOverTime,
    active_listeners,
    activity_per_day,
    import_figures,
    listener_cohorts,
    popular_genres_over_time,
    popular_tracks_over_time,
)
from recommendations.selectors.cache import CacheFigures

#: the one cache key of the dashboard's figures (v: bump when StaffDashboard changes shape)
CACHE_KEY = "insights:staff-dashboard:v2"

#: defaults of RECOMMENDER["dashboard"] (musicrec/settings.py says what each means)
DEFAULTS: dict[str, Any] = {
    "cache_seconds": 300,
    "top_n": 5,
    "popularity_days": 90,
    "activity_days": 30,
    "cohort_weeks": 10,
    "served_days": 7,
}
#: model versions listed, routes in the latency table, hours of latency
MODEL_VERSIONS = 8
LATENCY_ROUTES = 12
LATENCY_HOURS = 24


def dashboard_options() -> dict[str, Any]:
    return {**DEFAULTS, **settings.RECOMMENDER.get("dashboard", {})}


@dataclass(frozen=True)
class StaffDashboard:
    computed_at: dt.datetime
    options: dict[str, Any]
    active: ActiveListeners
    activity: list[DayActivity]
    popular_tracks: PopularOverTime
    popular_genres: PopularOverTime
    imports: ImportFigures
    cohorts: list[Cohort]
    model_versions: list[ModelVersionRow]
    list_cache: CacheFigures
    latency: LatencyFigures
    served: ServedFigures
    experiments: list[RunningExperiment]


def staff_dashboard_compute(*, now: dt.datetime) -> StaffDashboard:
    """Every figure as of ``now`` (no cache)."""
    options = dashboard_options()
    today = now.astimezone(dt.UTC).date()
    served_since = now - dt.timedelta(days=int(options["served_days"]))
    popularity_days = int(options["popularity_days"])
    period: Period = "day" if popularity_days <= 31 else "week"
    return StaffDashboard(
        computed_at=now,
        options=options,
        active=active_listeners(now=now),
        activity=activity_per_day(days=int(options["activity_days"]), today=today),
        popular_tracks=popular_tracks_over_time(
            days=popularity_days, top=int(options["top_n"]), period=period, now=now
        ),
        popular_genres=popular_genres_over_time(
            days=popularity_days, top=int(options["top_n"]), period=period, now=now
        ),
        imports=import_figures(days=int(options["activity_days"]), today=today),
        cohorts=listener_cohorts(weeks=int(options["cohort_weeks"]), today=today),
        model_versions=model_versions(limit=MODEL_VERSIONS),
        list_cache=list_cache(),
        latency=route_latencies(hours=LATENCY_HOURS, limit=LATENCY_ROUTES),
        served=served_rates(since=served_since),
        experiments=running_experiments(now=now),
    )


def staff_dashboard() -> StaffDashboard:
    """The dashboard's figures: from the cache when computed less than
    ``RECOMMENDER["dashboard"]["cache_seconds"]`` ago, else computed now and kept."""
    cached = cache.get(CACHE_KEY)
    if isinstance(cached, StaffDashboard):
        return cached
    figures = staff_dashboard_compute(now=timezone.now())
    cache.set(CACHE_KEY, figures, timeout=int(dashboard_options()["cache_seconds"]))
    return figures
