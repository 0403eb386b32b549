"""Keeping the web processes' serving state current (see ``recommendations.selectors.serving``)."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction

from recommendations.selectors.serving import CATALOG_GENERATION_KEY

logger = logging.getLogger(__name__)


def catalog_generation_bump() -> None:
    """Make every web process reload the catalog on its next request (after the saving
    transaction commits, so the reload sees the change). A cache failure is logged: the
    tracks are saved, and a model or popularity change reloads the catalog later."""

    def bump() -> None:
        try:
            try:
                cache.incr(CATALOG_GENERATION_KEY)
            except ValueError:  # never bumped (or evicted): start the count
                cache.add(CATALOG_GENERATION_KEY, 1, timeout=None)
        except Exception:
            logger.warning("could not bump the catalog generation", exc_info=True)

    transaction.on_commit(bump)


def tracks_changed(track_ids: list[int]) -> None:
    """``registry.tracks_changed`` hook: the serving catalog must be reloaded."""
    if track_ids:
        catalog_generation_bump()
