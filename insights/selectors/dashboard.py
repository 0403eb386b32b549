"""Everything the staff dashboard (``/staff/insights/``) shows, in two parts.

- The heavy figures (:class:`DashboardFigures`: activity, popularity, cohorts, imports, served
  lists; 12 grouped SQL queries over bounded windows, ~10 s at 10k listeners and 1M
  interactions) are never computed in a request: the Celery task ``insights.refresh_dashboard``
  (``insights.services.dashboard.dashboard_refresh``, every
  ``RECOMMENDER["dashboard"]["refresh_minutes"]``) computes them with
  :func:`dashboard_figures_compute` and stores them under :data:`FIGURES_KEY` with their
  ``computed_at``; the page reads them with :func:`stored_dashboard_figures`.
- The cheap ones (:class:`HealthFigures`: model versions, list cache, latency, running
  experiments; two queries and two Redis reads, milliseconds) are read on every page view by
  :func:`health_figures`, so they are always fresh.

:func:`staff_dashboard_compute` computes both at once (``scripts/bench_dashboard.py``, tests).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

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

#: the stored heavy figures (v: bump when DashboardFigures changes shape: an old worker's
#: pickle is then never read by a new page)
FIGURES_KEY = "insights:staff-dashboard:v3"
#: held by the computation running now (``cache.add``: SET NX with a timeout)
LOCK_KEY = "insights:staff-dashboard:lock"
#: set when a page view or "Refresh now" enqueued the task, until the task ends (or times out):
#: a burst of page views or clicks enqueues one task
REQUESTED_KEY = "insights:staff-dashboard:requested"
_PROBE_KEY = "insights:staff-dashboard:probe"

#: defaults of RECOMMENDER["dashboard"] (musicrec/settings.py says what each means)
DEFAULTS: dict[str, Any] = {
    "refresh_minutes": 5,
    "keep_seconds": 24 * 3600,
    "lock_seconds": 600,
    "requested_seconds": 120,
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
class DashboardFigures:
    """The heavy figures, as computed by the task at ``computed_at``."""

    computed_at: dt.datetime
    options: dict[str, Any]
    active: ActiveListeners
    activity: list[DayActivity]
    popular_tracks: PopularOverTime
    popular_genres: PopularOverTime
    imports: ImportFigures
    cohorts: list[Cohort]
    served: ServedFigures


@dataclass(frozen=True)
class HealthFigures:
    """The cheap figures, read on each page view."""

    model_versions: list[ModelVersionRow]
    list_cache: CacheFigures
    latency: LatencyFigures
    experiments: list[RunningExperiment]


@dataclass(frozen=True)
class StaffDashboard:
    """Both parts, computed together (the benchmark and the tests)."""

    figures: DashboardFigures
    health: HealthFigures


@dataclass(frozen=True)
class StoredFigures:
    """What the page finds: the figures (None when nothing is stored), whether Redis answered,
    and whether a computation is running or enqueued."""

    figures: DashboardFigures | None
    available: bool
    pending: bool


def dashboard_figures_compute(*, now: dt.datetime) -> DashboardFigures:
    """The heavy figures as of ``now`` (no cache): the Celery task's work."""
    options = dashboard_options()
    today = now.astimezone(dt.UTC).date()
    served_since = now - dt.timedelta(days=int(options["served_days"]))
    popularity_days = int(options["popularity_days"])
    period: Period = "day" if popularity_days <= 31 else "week"
    return DashboardFigures(
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
        served=served_rates(since=served_since),
    )


def health_figures(*, now: dt.datetime) -> HealthFigures:
    """The cheap figures as of ``now``: two queries and two Redis reads."""
    return HealthFigures(
        model_versions=model_versions(limit=MODEL_VERSIONS),
        list_cache=list_cache(),
        latency=route_latencies(hours=LATENCY_HOURS, limit=LATENCY_ROUTES),
        experiments=running_experiments(now=now),
    )


def staff_dashboard_compute(*, now: dt.datetime) -> StaffDashboard:
    """Every figure as of ``now`` (no cache)."""
    return StaffDashboard(
        figures=dashboard_figures_compute(now=now), health=health_figures(now=now)
    )


def stored_dashboard_figures() -> StoredFigures:
    """The figures the task stored last (one Redis read; with nothing stored, one more to
    tell an empty Redis from one that does not answer, and one for the pending markers).
    Never raises: the cache backend ignores Redis' errors."""
    values = cache.get_many([FIGURES_KEY, LOCK_KEY, REQUESTED_KEY])
    figures = values.get(FIGURES_KEY)
    pending = LOCK_KEY in values or REQUESTED_KEY in values
    if isinstance(figures, DashboardFigures):
        return StoredFigures(figures=figures, available=True, pending=pending)
    # nothing stored, or Redis down (django-redis then answers {}): a probe tells which
    available = cache.add(_PROBE_KEY, 1, timeout=1) is not None
    return StoredFigures(figures=None, available=available, pending=pending)
