"""Enqueueing Celery tasks safely, by name, and the one retry policy of the project's tasks.

A request that succeeded must never become a 500 because the broker (Redis) is down: tasks are
sent after the transaction commits (so a worker never sees rows that were rolled back) and a
failure to reach the broker is logged, not raised. The scheduled runs catch up later.

Services enqueue a task by its namespaced name (``"catalog.refresh_search_terms"``), never by
importing the task module: task modules import services, so the other direction would be a cycle,
and a lower layer could not enqueue a task that a higher one defines.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from musicrec.celery import app

logger = logging.getLogger(__name__)

# For tasks whose failures are transient (a database restart, a lock timeout) and that are safe to
# run again: retried with exponential backoff and jitter (about 1 s, 2 s, 4 s … capped at
# 10 minutes), five times, then left to the next scheduled run.
RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


def enqueue(task_name: str, *args: Any, **kwargs: Any) -> bool:
    """Send the task named ``task_name`` now; return whether the broker accepted it."""
    try:
        if app.conf.task_always_eager:  # CELERY_TASK_ALWAYS_EAGER: run here, as apply_async would
            app.loader.import_default_modules()  # the apps' tasks modules (once; cached)
            app.tasks[task_name].apply(args=args, kwargs=kwargs)
        else:
            app.send_task(task_name, args=args, kwargs=kwargs, retry=False)
    except Exception:  # broker unreachable, timeouts, …: degrade, never fail the caller
        logger.exception("could not enqueue %s; it will run on its next schedule", task_name)
        return False
    return True


def enqueue_on_commit(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Send the task named ``task_name`` once the current transaction commits (at once outside
    a transaction)."""
    transaction.on_commit(lambda: enqueue(task_name, *args, **kwargs))
