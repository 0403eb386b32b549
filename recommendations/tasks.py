"""Recommender background work. Thin: call a service."""

from __future__ import annotations

from celery import shared_task

from musicrec.queue import RETRY_POLICY
from recommendations.services.popularity import refresh_popularity as popularity_views_refresh


@shared_task(name="recommendations.refresh_popularity", **RETRY_POLICY)
def refresh_popularity() -> dict[str, object]:
    """Refresh the ``popular_tracks`` and ``demographic_popularity`` views (CONCURRENTLY: readers
    are never blocked) and bump the popularity generation; return the summary.

    Scheduled every ``RECOMMENDER["POPULARITY_REFRESH_MINUTES"]`` (CELERY_BEAT_SCHEDULE). Cost:
    see docs/recommendations.md (seconds at 100k tracks and 1M interactions). Safe to run twice;
    a run that finds another one in progress is skipped at once (advisory lock), never queued
    behind it.
    """
    return popularity_views_refresh().as_dict()
