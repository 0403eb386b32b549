"""Celery tasks of the insights app: thin wrappers around services (registered by name, see
``musicrec.queue``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from insights.services.dashboard import dashboard_refresh
from musicrec.queue import RETRY_POLICY


@shared_task(name="insights.refresh_dashboard", **RETRY_POLICY)
def refresh_dashboard() -> dict[str, Any]:
    """Compute the staff dashboard's heavy figures and store them
    (``insights.services.dashboard.dashboard_refresh``). Scheduled every
    ``RECOMMENDER["dashboard"]["refresh_minutes"]`` (CELERY_BEAT_SCHEDULE), enqueued by the
    page when nothing is stored and by its "Refresh now". Cost: ~10 s at 10k listeners and 1M
    interactions (docs/insights.md). A run that finds another one computing is skipped at once
    (the lock); with Redis down it is retried with the project's backoff."""
    return dashboard_refresh().as_dict()
