"""Telling higher layers that tracks were created or edited (``musicrec.registry.tracks_changed``).

The catalog cannot import the recommender, which keeps a content vector (and, with a trained
model, a folded-in collaborative vector) per track; it registers a hook instead. The hooks run
inside the transaction that saved the tracks, so readers see a track and what is derived from
it together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from musicrec import registry

logger = logging.getLogger(__name__)


def tracks_changed_notify(*, track_ids: Iterable[int]) -> None:
    """Call every ``tracks_changed`` hook with these track ids, in the caller's transaction.

    Each hook runs in a savepoint: one that fails is rolled back alone and logged, and the
    catalog's write goes on (a curator's edit never fails because of derived data; the daily
    ``recommendations.embed_tracks`` catches up)."""
    ids = sorted({int(track_id) for track_id in track_ids})
    if not ids:
        return
    for name, hook in registry.tracks_changed.items():
        try:
            with transaction.atomic():
                hook(ids)
        except Exception:
            logger.exception("tracks_changed hook %s failed for %d tracks", name, len(ids))
