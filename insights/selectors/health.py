"""The recommender's health for the staff dashboard: model versions with their offline figures,
the list cache's hit rate, latency percentiles of the whole deployment, the served lists' rates
by source and position, and the experiments running."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from musicrec.metrics import histogram_quantile, latency_buckets
from recommendations.models import Experiment, ModelVersion
from recommendations.selectors.cache import CacheFigures, cache_figures
from recommendations.selectors.outcomes import ImpressionFilter, Totals, outcome_totals_by

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- model versions

#: the offline figures a training stores under ``figures["holdout"]`` whose name starts so
OFFLINE_PREFIXES = ("ndcg@", "recall@", "coverage@")


@dataclass(frozen=True)
class ModelVersionRow:
    """One training: its state and times, what it learned from, how long it took, and the
    offline figures its holdout measured (``offline``: ``{"ndcg@10": 0.31, …}``; empty when
    the holdout was skipped, ``note`` then says why, else which model was measured)."""

    id: int
    status: str
    created_at: dt.datetime
    activated_at: dt.datetime | None
    training_seconds: float | None
    listeners: int
    tracks: int
    cells: int
    offline: dict[str, float]
    note: str
    error: str


def _offline(figures: Any) -> tuple[dict[str, float], str]:
    holdout = figures.get("holdout") if isinstance(figures, dict) else None
    if not isinstance(holdout, dict):
        return {}, ""
    offline = {
        name: float(value)
        for name, value in holdout.items()
        if name.startswith(OFFLINE_PREFIXES) and isinstance(value, int | float)
    }
    note = holdout.get("skipped") or holdout.get("model") or ""
    return offline, str(note)


def model_versions(*, limit: int) -> list[ModelVersionRow]:
    """The ``limit`` latest trainings, newest first. One query (not the artifact)."""
    rows = ModelVersion.objects.order_by("-created_at", "-id").values(
        "id",
        "status",
        "created_at",
        "activated_at",
        "training_seconds",
        "listeners",
        "tracks",
        "cells",
        "figures",
        "error",
    )[:limit]
    result = []
    for row in rows:
        offline, note = _offline(row["figures"])
        result.append(
            ModelVersionRow(
                id=row["id"],
                status=row["status"],
                created_at=row["created_at"],
                activated_at=row["activated_at"],
                training_seconds=row["training_seconds"],
                listeners=row["listeners"],
                tracks=row["tracks"],
                cells=row["cells"],
                offline=offline,
                note=note,
                error=row["error"].strip().splitlines()[-1][:200] if row["error"].strip() else "",
            )
        )
    return result


def list_cache() -> CacheFigures:
    """The list cache's hits and misses (one Redis read)."""
    return cache_figures()


# --------------------------------------------------------------------------- latency

#: the recommendation routes, shown first: the list API, the home page and its list fragment
RECOMMENDATION_ROUTES = (
    "GET /api/v1/recommendations/",
    "GET /recommendations/list/",
    "GET /",
)


@dataclass(frozen=True)
class RouteLatency:
    """One ``"<method> <route>"``: its ``requests`` and estimated percentiles (seconds)."""

    series: str
    requests: int
    p50: float | None
    p95: float | None
    p99: float | None
    recommendation: bool


@dataclass(frozen=True)
class LatencyFigures:
    """Percentiles per route over the last ``hours`` hours, of every web process (from Redis:
    ``musicrec.metrics``); ``available`` False when Redis did not answer."""

    hours: int
    available: bool
    routes: list[RouteLatency]


def route_latencies(*, hours: int, limit: int) -> LatencyFigures:
    """The recommendation routes first (those with requests), then the other routes with the
    most requests, ``limit`` in all. One pipelined Redis read."""
    try:
        buckets = latency_buckets(hours=hours)
    except Exception:
        logger.warning("dashboard: latency counts unavailable (Redis)", exc_info=True)
        return LatencyFigures(hours=hours, available=False, routes=[])
    rows = [
        RouteLatency(
            series=series,
            requests=sum(counts),
            p50=histogram_quantile(0.5, counts),
            p95=histogram_quantile(0.95, counts),
            p99=histogram_quantile(0.99, counts),
            recommendation=series in RECOMMENDATION_ROUTES,
        )
        for series, counts in buckets.items()
        if sum(counts)
    ]
    rows.sort(
        key=lambda row: (
            RECOMMENDATION_ROUTES.index(row.series) if row.recommendation else 99,
            -row.requests,
            row.series,
        )
    )
    return LatencyFigures(hours=hours, available=True, routes=rows[:limit])


# --------------------------------------------------------------------------- served lists


@dataclass(frozen=True)
class ServedRates:
    """Served tracks of one group (a source, or a position range): how many, in how many
    lists, and the shares clicked (played or liked), liked and skipped (None when none was
    served)."""

    group: str
    served: int
    impressions: int
    clicked: int
    liked: int
    skipped: int

    def _share(self, count: int) -> float | None:
        return count / self.served if self.served else None

    @property
    def click_rate(self) -> float | None:
        return self._share(self.clicked)

    @property
    def like_rate(self) -> float | None:
        return self._share(self.liked)

    @property
    def skip_rate(self) -> float | None:
        return self._share(self.skipped)


def _rates(group: str, totals: list[Totals]) -> ServedRates:
    return ServedRates(
        group=group,
        served=sum(t.served for t in totals),
        # lists with a track in the group: exact for one position or source; for a range of
        # positions, the largest of its positions' counts (a lower bound: a list is counted
        # once however many of its tracks the range holds)
        impressions=max((t.impressions for t in totals), default=0),
        clicked=sum(t.clicked for t in totals),
        liked=sum(t.liked for t in totals),
        skipped=sum(t.skipped for t in totals),
    )


#: positions shown one by one; beyond, in ranges (lists are 10 on the home page, up to 100 by
#: the API)
SINGLE_POSITIONS = 10
POSITION_RANGES = ((11, 20), (21, 50), (51, None))


@dataclass(frozen=True)
class ServedFigures:
    """Rates of the tracks served since ``since``: ``by_source`` (a track counts for every
    source that proposed it; most served first) and ``by_position`` (1 … 10, then 11–20,
    21–50, 51+; top first, positions never served left out)."""

    since: dt.datetime
    by_source: list[ServedRates]
    by_position: list[ServedRates]


def _by_position(totals: list[Totals]) -> list[ServedRates]:
    groups: list[tuple[str, list[Totals]]] = [
        (str(n), [t for t in totals if t.group == n]) for n in range(1, SINGLE_POSITIONS + 1)
    ]
    for low, high in POSITION_RANGES:
        label = f"{low}–{high}" if high else f"{low}+"
        members = [t for t in totals if t.group >= low and (high is None or t.group <= high)]
        groups.append((label, members))
    return [_rates(label, members) for label, members in groups if members]


def served_rates(*, since: dt.datetime) -> ServedFigures:
    """One query (``recommendations.selectors.outcomes.outcome_totals_by``: the attribution
    computed once, grouped by source and by position)."""
    totals = outcome_totals_by(ImpressionFilter(since=since), groups=("source", "position"))
    by_source = sorted(
        (_rates(str(t.group), [t]) for t in totals["source"]),
        key=lambda row: (-row.served, row.group),
    )
    return ServedFigures(
        since=since, by_source=by_source, by_position=_by_position(totals["position"])
    )


# --------------------------------------------------------------------------- experiments


@dataclass(frozen=True)
class RunningExperiment:
    id: int
    name: str
    mode: str
    share: float
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    variants: int


def running_experiments(*, now: dt.datetime) -> list[RunningExperiment]:
    """Experiments running at ``now`` (started, not ended, not stopped: as
    ``Experiment.is_running``), the earliest started first. One query."""
    rows = (
        Experiment.objects.filter(stopped_at__isnull=True, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .annotate(variant_count=Count("variants"))
        .order_by("starts_at", "id")
    )
    return [
        RunningExperiment(
            id=row.pk,
            name=row.name,
            mode=row.get_mode_display(),
            share=row.share,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            variants=row.variant_count,
        )
        for row in rows
    ]
