"""A listener's collaborative vector, folded in again after every change to their taste data.

Training learns the track vectors; a listener's vector is then one ALS half-step away from
their confidence row (:func:`recommendations.engine.models.als_fold_in`): with the track
vectors fixed it is the exact solution training itself would take for them. So every history
change, play, skip, like and dislike (``musicrec.registry.taste_changed``, on commit) re-solves
the listener's vector against the active version, and the next request sees a like without a
retrain.

Cost: the listener's row (three indexed reads), the vectors of THOSE tracks from pgvector (not
the whole catalog), one k × k solve with the training's Gram matrix from the artifact; a few
milliseconds for a listener with a full history.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from django.db import connection

from recommendations.engine.data import AUDIO_FEATURES, Catalog
from recommendations.models import COLLABORATIVE_DIMENSIONS, ListenerVector
from recommendations.selectors.catalog import EngineCatalog
from recommendations.selectors.training import listener_rows
from recommendations.selectors.vectors import active_model, track_vectors
from recommendations.services.vector_writes import vectors_upsert

_LISTENER_TRACKS_SQL = """
    SELECT track_id FROM history_interaction WHERE user_id = %(user)s
    UNION SELECT track_id FROM history_opinion WHERE user_id = %(user)s
    UNION SELECT track_id FROM history_historyentry WHERE user_id = %(user)s
    ORDER BY 1
"""


def _tracks_catalog(track_ids: list[int]) -> EngineCatalog:
    """An engine catalog of just these tracks (ascending ids): the column space of one
    listener's row. Only the id map is read by ``listener_rows``; the per-track arrays are
    empty placeholders of the right length."""
    n = len(track_ids)
    empty = np.zeros(0, dtype=np.int64)
    return EngineCatalog(
        track_ids=np.asarray(track_ids, dtype=np.int64),
        artist_ids=empty,
        genre_ids=empty,
        album_ids=empty,
        catalog=Catalog(
            artist=np.full(n, -1),
            genres=sp.csr_matrix((n, 0)),
            features=np.full((n, len(AUDIO_FEATURES)), np.nan),
            play_count=np.zeros(n, dtype=np.int64),
        ),
        popularity=np.zeros(n),
        genre_slugs=[],
        memberships={},
    )


def listener_vector_refresh(*, user_id: int) -> bool:
    """Fold the listener's vector in again against the active model version and store it;
    return whether a vector was written. No active model (or one without ALS): nothing, quietly.
    A listener with nothing left (history cleared, no feedback) loses their vector: an empty
    row has no direction, and serving then treats them as new."""
    active = active_model()
    if active is None:
        return False
    version_id, artifact = active
    als = artifact.als
    if als is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_LISTENER_TRACKS_SQL, {"user": user_id})
        track_ids = [int(row[0]) for row in cursor.fetchall()]
    # only the tracks the version has vectors for (trained, or folded in since) can count
    vectors = track_vectors(track_ids=track_ids, model_version_id=version_id)
    known = [track_id for track_id in track_ids if track_id in vectors]
    vector = None
    if known:
        _, row = listener_rows(user_ids=[user_id], engine_catalog=_tracks_catalog(known))
        if row.nnz:
            factors = np.vstack([vectors[track_id][: als.factors] for track_id in known])
            vector = als.listener_vectors(row, factors)[0]
    if vector is None or not np.any(vector):
        ListenerVector.objects.filter(model_version_id=version_id, user_id=user_id).delete()
        return False
    vectors_upsert(
        table=ListenerVector._meta.db_table,
        key_columns=["model_version_id", "user_id"],
        keys=[[version_id], [user_id]],
        vectors=vector[None, :],
        dimensions=COLLABORATIVE_DIMENSIONS,
        timestamp_column="updated_at",
    )
    return True
