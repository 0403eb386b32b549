"""Pruning served lists (``recommendations.Impression``): kept as long as the interactions that
answer them (``RECOMMENDER["impressions"]["retention_days"]``), deleted daily in batches by
``recommendations.prune_impressions``. Recording one is ``services.lists.impression_record``."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from musicrec.retention import rows_delete_before
from recommendations.models import Impression

# Impressions deleted per statement, each its own short transaction (as the interactions'
# pruning): a few tens of ms per batch, short locks, a small WAL burst.
PRUNE_BATCH_SIZE = 5_000


def impression_retention_days() -> int:
    days: int = settings.RECOMMENDER.get("impressions", {}).get(
        "retention_days", settings.INTERACTION_RETENTION_DAYS
    )
    return days


def impressions_prune(
    *, retention_days: int | None = None, batch_size: int = PRUNE_BATCH_SIZE
) -> int:
    """Delete impressions served more than ``retention_days`` (default: the setting) ago, in
    batches of ``batch_size``; return how many were deleted. Interactions that carry their id
    keep it (a plain field, no foreign key).

    Safe to run twice or concurrently: the cut-off is fixed at the start and ``SKIP LOCKED``
    lets two runs share the work."""
    days = impression_retention_days() if retention_days is None else retention_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    return rows_delete_before(
        model=Impression, column="served_at", cutoff=cutoff, batch_size=batch_size
    )
