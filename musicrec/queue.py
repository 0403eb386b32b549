"""Enqueueing Celery tasks safely.

A request that succeeded must never become a 500 because the broker (Redis) is down: tasks are
sent after the transaction commits (so a worker never sees rows that were rolled back) and a
failure to reach the broker is logged, not raised. The scheduled runs catch up later.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any, **kwargs: Any) -> bool:
    """Send ``task`` now; return whether the broker accepted it."""
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    except Exception:  # broker unreachable, timeouts, …: degrade, never fail the caller
        logger.exception("could not enqueue %s; it will run on its next schedule", task.name)
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Send ``task`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))
