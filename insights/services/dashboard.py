"""Computing and storing the staff dashboard's heavy figures, outside any request.

:func:`dashboard_refresh` is the work of the Celery task ``insights.refresh_dashboard``
(``insights/tasks.py``; beat runs it every ``RECOMMENDER["dashboard"]["refresh_minutes"]``):
it takes the lock (``cache.add``: Redis ``SET NX`` with ``lock_seconds`` as its timeout, so a
worker that dies holding it blocks nothing for longer), computes the figures with
``insights.selectors.dashboard.dashboard_figures_compute`` and stores them for
``keep_seconds``. Two workers, a beat run and a "Refresh now", never compute at once: the second
finds the lock and returns at once.

:func:`dashboard_refresh_request` is what a page view (nothing stored yet) and the "Refresh now"
button call: it enqueues the task once (a ``requested`` marker, ``cache.add`` again, kept until
the task ends or ``requested_seconds`` pass), so a burst of views or clicks sends one task; with
the broker down the enqueue is logged (``musicrec.queue.enqueue``) and the page still answers.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from insights.selectors.dashboard import (
    FIGURES_KEY,
    LOCK_KEY,
    REQUESTED_KEY,
    dashboard_figures_compute,
    dashboard_options,
)
from musicrec.queue import enqueue

logger = logging.getLogger(__name__)

#: the task's registered name (insights/tasks.py, CELERY_BEAT_SCHEDULE)
TASK_NAME = "insights.refresh_dashboard"


class DashboardStoreUnavailable(RuntimeError):
    """Redis did not answer: the figures could be neither locked nor stored (the task is
    retried with the project's backoff)."""


@dataclass(frozen=True)
class RefreshOutcome:
    """``computed`` False: another computation held the lock (skipped, nothing done)."""

    computed: bool
    computed_at: dt.datetime | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "computed": self.computed,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "seconds": round(self.seconds, 2),
        }


def dashboard_refresh(*, now: dt.datetime | None = None) -> RefreshOutcome:
    """Compute the heavy figures as of ``now`` (default: now) and store them with their
    ``computed_at``, unless another computation holds the lock."""
    options = dashboard_options()
    token = uuid.uuid4().hex
    acquired = cache.add(LOCK_KEY, token, timeout=int(options["lock_seconds"]))
    if acquired is None:  # django-redis ignores Redis' errors and answers None
        raise DashboardStoreUnavailable("Redis did not answer: the dashboard cannot be stored")
    if not acquired:
        logger.info("dashboard: a computation is already running; skipped")
        return RefreshOutcome(computed=False, computed_at=None, seconds=0.0)
    started = time.perf_counter()
    try:
        figures = dashboard_figures_compute(now=now or timezone.now())
        cache.set(FIGURES_KEY, figures, timeout=int(options["keep_seconds"]))
    finally:
        # release the lock only if it is still ours (it may have timed out and been taken)
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)
        cache.delete(REQUESTED_KEY)
    seconds = time.perf_counter() - started
    logger.info("dashboard: figures computed in %.1f s", seconds)
    return RefreshOutcome(computed=True, computed_at=figures.computed_at, seconds=seconds)


class RefreshRequest(enum.StrEnum):
    ENQUEUED = "enqueued"  # the task was sent
    PENDING = "pending"  # a computation is running or already enqueued: nothing sent
    NOT_QUEUED = "not_queued"  # the broker did not answer (logged)
    UNAVAILABLE = "unavailable"  # Redis (the cache) did not answer: nothing sent


def dashboard_refresh_request() -> RefreshRequest:
    """Enqueue ``insights.refresh_dashboard`` unless a computation is running or enqueued."""
    options = dashboard_options()
    if cache.get(LOCK_KEY) is not None:
        return RefreshRequest.PENDING
    added = cache.add(REQUESTED_KEY, timezone.now(), timeout=int(options["requested_seconds"]))
    if added is None:
        return RefreshRequest.UNAVAILABLE
    if not added:
        return RefreshRequest.PENDING
    if not enqueue(TASK_NAME):
        return RefreshRequest.NOT_QUEUED
    return RefreshRequest.ENQUEUED
