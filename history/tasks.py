"""History background work. Thin: load by id, call a service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from history.services.imports import listen_import_process, listen_imports_resume
from history.services.interactions import interactions_prune
from musicrec.queue import RETRY_POLICY


@shared_task(name="history.prune_interactions", **RETRY_POLICY)
def prune_interactions() -> int:
    """Delete interaction events recorded more than ``INTERACTION_RETENTION_DAYS`` ago, in
    batches of ``history.services.interactions.PRUNE_BATCH_SIZE``; return how many. Opinions are
    kept. Safe to run twice (a retry after a partial run continues where it stopped)."""
    return interactions_prune()


# Well below LISTEN_IMPORT_STALE_AFTER (30 min): an import is only resumed once no worker can
# still be on it. A 50 MB export takes about a minute.
PROCESS_TIME_LIMIT = 15 * 60


@shared_task(name="history.process_listen_import", time_limit=PROCESS_TIME_LIMIT)
def process_listen_import(import_id: int) -> str:
    """Process one uploaded export (parse, match, store its plays).

    Cost: about one second per 30k listens, mostly parsing (streamed: memory stays bounded);
    the upload size limit and ``LISTEN_IMPORT_MAX_ENTRIES`` bound it.
    Running it twice is safe: the service claims the import with a conditional UPDATE and
    leaves an import that is processing, done or failed alone. Not retried automatically: a
    failure is recorded on the import (status ``failed`` with a message) for the listener to
    see; an import whose worker died (or that ran past ``PROCESS_TIME_LIMIT``) is sent again by
    ``history.resume_listen_imports``, at most ``LISTEN_IMPORT_MAX_ATTEMPTS`` times in all.
    """
    listen_import = listen_import_process(import_id=import_id)
    return listen_import.status if listen_import is not None else "gone"


@shared_task(name="history.resume_listen_imports")
def resume_listen_imports() -> int:
    """Send again imports left pending (task lost) or processing (worker died); how many.

    Scheduled by beat every 10 minutes; safe to run at any time."""
    return len(
        listen_imports_resume(
            pending_after=timedelta(seconds=settings.LISTEN_IMPORT_PENDING_AFTER),
            stale_after=timedelta(seconds=settings.LISTEN_IMPORT_STALE_AFTER),
            max_attempts=settings.LISTEN_IMPORT_MAX_ATTEMPTS,
        )
    )
