"""Recomputing tracks' embeddings on demand: content vectors and, with an active model, the
folded-in collaborative vectors of tracks added since its training. What the daily
``recommendations.embed_tracks`` task and the Track admin's "Recompute embeddings" action run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection

from recommendations.services.content import track_content_refresh
from recommendations.services.track_vectors import track_vectors_fold_in

#: pg_try_advisory_lock key of a whole-catalog run ("embed" in ASCII): two never overlap.
EMBED_ALL_LOCK = 0x656D626564


@dataclass
class EmbeddingRefresh:
    tracks: int = 0  # tracks embedded
    content_written: int = 0  # content vectors new or changed
    folded_in: int = 0  # collaborative vectors of new tracks written
    seconds: float = 0.0
    skipped: bool = False  # another whole-catalog run holds the lock

    def describe(self) -> str:
        if self.skipped:
            return "skipped: another run is recomputing every track's embeddings"
        return (
            f"{self.tracks} tracks embedded: {self.content_written} content vectors new or "
            f"changed, {self.folded_in} collaborative vectors folded in ({self.seconds:.1f} s)"
        )


def track_embeddings_refresh(
    *,
    track_ids: Iterable[int] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> EmbeddingRefresh:
    """Recompute the embeddings of these tracks (every track when None).

    Safe to run twice (both steps are upserts that write only what changed). A whole-catalog
    run takes a session advisory lock (``pg_try_advisory_lock``): while one holds it, another
    is skipped and says so, never waits."""
    started = time.perf_counter()
    ids = None if track_ids is None else list(track_ids)
    if ids is not None:
        return _refresh(ids, on_progress, started)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [EMBED_ALL_LOCK])
        if not cursor.fetchone()[0]:
            return EmbeddingRefresh(skipped=True)
        try:
            return _refresh(None, on_progress, started)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [EMBED_ALL_LOCK])


def _refresh(
    ids: list[int] | None, on_progress: Callable[[int], None] | None, started: float
) -> EmbeddingRefresh:
    content = track_content_refresh(track_ids=ids, on_progress=on_progress)
    if ids is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM catalog_track")
            ids = [int(row[0]) for row in cursor.fetchall()]
    folded = track_vectors_fold_in(track_ids=ids)
    return EmbeddingRefresh(
        tracks=content.tracks,
        content_written=content.written,
        folded_in=folded,
        seconds=time.perf_counter() - started,
    )
