"""History background work. Thin: call a service."""

from __future__ import annotations

from celery import shared_task

from history.interactions import interactions_prune


@shared_task(
    name="history.prune_interactions",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def prune_interactions() -> int:
    """Delete interaction events recorded more than ``INTERACTION_RETENTION_DAYS`` ago, in
    batches of ``history.interactions.PRUNE_BATCH_SIZE``; return how many. Opinions are kept.
    Safe to run twice (a retry after a partial run continues where it stopped)."""
    return interactions_prune()


# The listen-import task lives beside the import code; importing it here registers it with the
# worker (Celery autodiscovers only each app's tasks module).
from history.import_tasks import process_listen_import  # noqa: E402,F401
