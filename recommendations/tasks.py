"""Celery tasks of the recommender: thin wrappers around services (registered by name, see
``musicrec.queue``)."""

from __future__ import annotations

from celery import shared_task

from musicrec.queue import RETRY_POLICY
from recommendations.services.embeddings import track_embeddings_refresh

# --------------------------------------------------------------------------- embeddings


@shared_task(name="recommendations.embed_tracks", **RETRY_POLICY)
def embed_tracks(track_ids: list[int] | None = None) -> str:
    """Recompute the content vectors (and fold in the collaborative vectors of tracks newer
    than the active model) of these tracks, or of every track (daily, and after a large
    import). Safe to run twice; two whole-catalog runs never overlap (the second is skipped).
    About 10 s for 90k tracks on two cores, in batches of 5,000 (one short transaction each)."""
    return track_embeddings_refresh(track_ids=track_ids).describe()
