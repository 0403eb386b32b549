"""The recommender's deployment figures for ``/metrics`` (registered in
``RecommendationsConfig.ready``)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from recommendations.selectors.cache import cache_figures
from recommendations.selectors.popularity import popularity_state


def popularity_figures() -> Iterator[GaugeMetricFamily]:
    """The popularity views' freshness (seconds since the scores were computed: alert when it
    grows well past the refresh interval, e.g. beat or the workers are down), the last
    refresh's duration and the views' rows. One primary-key read."""
    state = popularity_state()
    yield GaugeMetricFamily(
        "musicrec_popularity_age_seconds",
        "Seconds since the popularity views were last refreshed.",
        value=max((timezone.now() - state.refreshed_at).total_seconds(), 0.0),
    )
    yield GaugeMetricFamily(
        "musicrec_popularity_refresh_seconds",
        "How long the last refresh of the popularity views took.",
        value=state.seconds,
    )
    rows = GaugeMetricFamily(
        "musicrec_popularity_view_rows",
        "Rows of the popularity materialized views at their last refresh.",
        labels=["view"],
    )
    rows.add_metric(["popular_tracks"], state.popular_tracks_rows)
    rows.add_metric(["demographic_popularity"], state.demographic_popularity_rows)
    yield rows


def list_cache_figures() -> Iterator[CounterMetricFamily]:
    """Requests of a recommendation list answered from the cache and computed (Redis counters
    shared by every process; nothing when Redis does not answer). One Redis read."""
    figures = cache_figures()
    if not figures.available:
        return
    yield CounterMetricFamily(
        "musicrec_recommendation_cache_hits",
        "Recommendation lists served from the cache.",
        value=figures.hits,
    )
    yield CounterMetricFamily(
        "musicrec_recommendation_cache_misses",
        "Recommendation lists computed (not in the cache).",
        value=figures.misses,
    )
