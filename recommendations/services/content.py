"""Content vectors of tracks (``TrackContent``), kept fresh by the services that save tracks.

A track's stored vector is its audio features standardised with the whole catalog's statistics,
weighted, beside its genres' fixed directions (:func:`recommendations.engine.content.
stored_content_vectors`). The catalog calls :func:`track_content_refresh` through the
``tracks_changed`` registry inside the transaction that saved the tracks, so a reader never
sees a new track without its vector; the daily ``recommendations.embed_tracks`` task embeds the
whole catalog again, which also follows the drift of the statistics as the catalog grows.

Cost (2 cores, 90k tracks): one aggregate for the statistics (~30 ms), a read and numpy per
batch of :data:`BATCH_SIZE` tracks, then one binary COPY and one upsert that writes only the
vectors that changed (docs/benchmarks.md for the figures).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from recommendations.engine.content import (
    CONTENT_DIMENSIONS,
    FeatureStatistics,
    stored_content_vectors,
)
from recommendations.engine.data import AUDIO_FEATURES
from recommendations.models import TrackContent
from recommendations.services.vector_writes import vectors_upsert

#: Tracks embedded per read/COPY/upsert round (about 2 MB of vectors; a few hundred ms).
BATCH_SIZE = 5_000

# The statistics of the last aggregate in this process: (monotonic time, statistics).
_statistics_cache: tuple[float, FeatureStatistics] | None = None


@dataclass
class ContentRefresh:
    tracks: int = 0  # tracks embedded
    written: int = 0  # vectors that were new or changed
    seconds: float = 0.0


def _rebuild_from() -> int:
    return int(settings.RECOMMENDER.get("vectors", {}).get("index_rebuild_from", 10_000))


def _cache_seconds() -> float:
    return float(settings.RECOMMENDER.get("vectors", {}).get("content_statistics_cache_s", 300))


def catalog_feature_statistics(*, fresh: bool = False) -> FeatureStatistics:
    """The catalog's :class:`FeatureStatistics`, by one aggregate over ``catalog_track``.

    Kept for ``RECOMMENDER["vectors"]["content_statistics_cache_s"]`` seconds in this process
    unless ``fresh``: one track more or less moves them by nothing that matters, and an admin
    save then costs no scan. A bulk refresh asks for fresh ones (and renews the cache)."""
    global _statistics_cache
    now = time.monotonic()
    if not fresh and _statistics_cache and now - _statistics_cache[0] < _cache_seconds():
        return _statistics_cache[1]
    parts = ", ".join(f"avg({name}), stddev_pop({name}), count({name})" for name in AUDIO_FEATURES)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), {parts} FROM catalog_track")
        row = cursor.fetchone()
    total = int(row[0])
    mean = np.zeros(len(AUDIO_FEATURES))
    std = np.zeros(len(AUDIO_FEATURES))
    for i in range(len(AUDIO_FEATURES)):
        average, spread, known = row[1 + 3 * i : 4 + 3 * i]
        if known:
            mean[i] = float(average)
            # the spread once unknown values are filled with the mean (see FeatureStatistics)
            std[i] = float(spread or 0.0) * np.sqrt(int(known) / total)
    statistics = FeatureStatistics(mean=mean, std=std)
    _statistics_cache = (now, statistics)
    return statistics


def _track_rows(track_ids: list[int]) -> tuple[list[int], np.ndarray, list[list[str]]]:
    columns = ", ".join(f"t.{name}" for name in AUDIO_FEATURES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT t.id, {columns},
                   coalesce(array_agg(g.slug ORDER BY g.slug)
                            FILTER (WHERE g.slug IS NOT NULL), '{{}}')
            FROM catalog_track t
            LEFT JOIN catalog_track_genres tg ON tg.track_id = t.id
            LEFT JOIN catalog_genre g ON g.id = tg.genre_id
            WHERE t.id = ANY(%s)
            GROUP BY t.id
            ORDER BY t.id
            """,
            [track_ids],
        )
        rows = cursor.fetchall()
    ids = [int(row[0]) for row in rows]
    features = np.array(
        [[np.nan if v is None else float(v) for v in row[1:-1]] for row in rows], dtype=np.float64
    ).reshape(len(rows), len(AUDIO_FEATURES))
    slugs = [list(row[-1]) for row in rows]
    return ids, features, slugs


def _batches(track_ids: Iterable[int] | None) -> Iterable[list[int]]:
    if track_ids is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM catalog_track ORDER BY id")
            ids = [int(row[0]) for row in cursor.fetchall()]
    else:
        ids = sorted({int(i) for i in track_ids})
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def track_content_refresh(
    *,
    track_ids: Iterable[int] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ContentRefresh:
    """Compute and store the content vectors of these tracks (all tracks when None), in batches
    of :data:`BATCH_SIZE`; return how many were embedded and written. Ids of tracks that do not
    exist are ignored. ``on_progress(n)`` after each batch with the tracks done in it.

    Runs in the caller's transaction when there is one (the catalog's save or import: readers
    see the tracks and their vectors together), else in its own. From
    ``RECOMMENDER["vectors"]["index_rebuild_from"]`` changed vectors on, the HNSW index is
    rebuilt rather than inserted into (``vector_writes``): readers of content neighbours then
    wait for the transaction."""
    started = time.perf_counter()
    wanted = None if track_ids is None else list(track_ids)
    result = ContentRefresh()
    if wanted is not None and not wanted:
        return result
    statistics = catalog_feature_statistics(fresh=wanted is None or len(wanted) >= BATCH_SIZE)
    # computed batch by batch, written at once: one COPY, one upsert, and for a bulk change
    # one index rebuild instead of an HNSW insertion per row
    all_ids: list[np.ndarray] = []
    all_vectors: list[np.ndarray] = []
    with transaction.atomic():
        for batch in _batches(wanted):
            ids, features, slugs = _track_rows(batch)
            if ids:
                all_ids.append(np.asarray(ids, dtype=np.int64))
                all_vectors.append(stored_content_vectors(features, slugs, statistics))
            result.tracks += len(ids)
            if on_progress is not None:
                on_progress(len(batch))
        if all_ids:
            result.written = vectors_upsert(
                table=TrackContent._meta.db_table,
                key_columns=["track_id"],
                keys=[np.concatenate(all_ids)],
                vectors=np.vstack(all_vectors),
                dimensions=CONTENT_DIMENSIONS,
                timestamp_column="updated_at",
                where="track_id IN (SELECT id FROM catalog_track)",
                rebuild_index_from=_rebuild_from(),
            )
    result.seconds = time.perf_counter() - started
    return result
