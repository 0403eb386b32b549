"""Collaborative vectors for tracks added after the active model was trained.

Training stacks one row per artist, album and genre under the listeners, so a track nobody has
played still has a column: its metadata rows. A track created after the snapshot gets its
vector from that column alone, solved against the trained row factors (one ALS half-step:
:meth:`recommendations.artifacts.AlsArtifact.track_vectors`, with the artifact's
``metadata_factors`` and the Gram matrix of all row factors), exactly what training would have
given it had nobody played it. It can then be a nearest-neighbour candidate at once.

Tracks that were in the training snapshot keep their trained vector (it also holds what
listeners did with them); an edit of their credits or genres reaches it with the next training.
An artist, album or genre first seen after the snapshot has no row and adds nothing; a track
with no known group at all gets no vector.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from django.db import connection

from recommendations.models import COLLABORATIVE_DIMENSIONS, TrackVector
from recommendations.selectors.vectors import active_model
from recommendations.services.vector_writes import vectors_upsert

#: Tracks whose memberships are read and folded in at a time.
BATCH_SIZE = 5_000

_MEMBERSHIPS_SQL = """
    SELECT t.id, t.album_id,
           coalesce((SELECT array_agg(ta.artist_id ORDER BY ta.position, ta.artist_id)
                     FROM catalog_trackartist ta WHERE ta.track_id = t.id), '{}'),
           coalesce((SELECT array_agg(tg.genre_id ORDER BY tg.genre_id)
                     FROM catalog_track_genres tg WHERE tg.track_id = t.id), '{}')
    FROM catalog_track t
    WHERE t.id = ANY(%s)
    ORDER BY t.id
"""


def track_vectors_fold_in(*, track_ids: Iterable[int]) -> int:
    """Fold in the collaborative vectors of those of ``track_ids`` that the active version was
    not trained on, and store them under that version; return how many were written (new or
    changed). No active model (or one without ALS): nothing, quietly."""
    active = active_model(metadata_factors=True)
    if active is None:
        return 0
    version_id, artifact = active
    als = artifact.als
    if als is None:
        return 0
    wanted = np.unique(np.fromiter((int(i) for i in track_ids), dtype=np.int64))
    trained = artifact.track_ids
    at = np.minimum(np.searchsorted(trained, wanted), max(len(trained) - 1, 0))
    new = wanted[trained[at] != wanted] if len(trained) else wanted
    all_ids: list[np.ndarray] = []
    all_vectors: list[np.ndarray] = []
    for start in range(0, len(new), BATCH_SIZE):
        batch = new[start : start + BATCH_SIZE].tolist()
        with connection.cursor() as cursor:
            cursor.execute(_MEMBERSHIPS_SQL, [batch])
            rows = cursor.fetchall()
        if not rows:
            continue
        vectors = als.track_vectors(
            artists=[list(row[2]) for row in rows],
            albums=[row[1] for row in rows],
            genres=[list(row[3]) for row in rows],
        )
        has = np.any(vectors != 0, axis=1)
        all_ids.append(np.array([row[0] for row in rows], dtype=np.int64)[has])
        all_vectors.append(vectors[has])
    if not all_ids:
        return 0
    ids = np.concatenate(all_ids)
    # Rows are inserted into the active version's own HNSW index one by one, never by a
    # drop-and-rebuild: dropping an index locks the whole table, so every reader of the live
    # model would wait for the build. An insert blocks no reader; at ~3 ms a row it is fine
    # for what the hooks bring, and a large import leaves its tracks to embed_tracks
    # (hooks.tracks_changed_fold_in).
    written = vectors_upsert(
        table=TrackVector._meta.db_table,
        key_columns=["model_version_id", "track_id"],
        keys=[np.full(len(ids), version_id), ids],
        vectors=np.vstack(all_vectors),
        dimensions=COLLABORATIVE_DIMENSIONS,
        where="track_id IN (SELECT id FROM catalog_track)",
    )
    return written
