"""A small but real collaborative model in the test database: demo listeners seeded on the demo
catalog, ALS fitted through the engine's one training path, its artifact, track and listener
vectors stored under an active ModelVersion (what the training service does, in miniature)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from django.db import connection

from musicrec.demo import demo_listeners_seed
from recommendations.artifacts import ModelArtifact
from recommendations.engine.training import TrainingParams, train
from recommendations.models import (
    COLLABORATIVE_DIMENSIONS,
    ListenerVector,
    ModelStatus,
    ModelVersion,
    TrackVector,
)
from recommendations.selectors.catalog import engine_catalog
from recommendations.selectors.training import listener_rows
from recommendations.services.vector_indexes import version_indexes_build
from recommendations.services.vector_writes import vectors_upsert

PARAMS = TrainingParams(
    als_factors=32, als_iterations=8, als_regularization=10.0, ease_weight=0.0, pool=100
)


@dataclass(frozen=True)
class SmallModel:
    version: ModelVersion
    artifact: ModelArtifact
    track_ids: np.ndarray
    item_factors: np.ndarray
    user_ids: np.ndarray
    user_factors: np.ndarray


def small_model(*, listeners: int = 120, status: str = ModelStatus.ACTIVE) -> SmallModel:
    demo_listeners_seed(count=listeners)
    loaded = engine_catalog()
    user_ids, rows = listener_rows(engine_catalog=loaded)
    trained = train(rows, loaded.memberships, PARAMS)
    assert trained.als is not None
    artifact = ModelArtifact.from_trained(
        trained,
        track_ids=loaded.track_ids,
        group_ids={
            "artist": loaded.artist_ids,
            "album": loaded.album_ids,
            "genre": loaded.genre_ids,
        },
    )
    version = ModelVersion.objects.create(
        status=status, artifact=artifact.to_bytes(), listeners=len(user_ids)
    )
    items = trained.als.item_factors_
    has = np.any(items != 0, axis=1)
    vectors_upsert(
        table=TrackVector._meta.db_table,
        key_columns=["model_version_id", "track_id"],
        keys=[np.full(int(has.sum()), version.pk), loaded.track_ids[has]],
        vectors=items[has],
        dimensions=COLLABORATIVE_DIMENSIONS,
    )
    users = trained.als.user_factors_[: len(user_ids)]
    vectors_upsert(
        table=ListenerVector._meta.db_table,
        key_columns=["model_version_id", "user_id"],
        keys=[np.full(len(user_ids), version.pk), user_ids],
        vectors=users,
        dimensions=COLLABORATIVE_DIMENSIONS,
        timestamp_column="updated_at",
    )
    version_indexes_build(version_id=version.pk)  # as training does, before anyone reads it
    return SmallModel(
        version=version,
        artifact=artifact,
        track_ids=loaded.track_ids,
        item_factors=items,
        user_ids=user_ids,
        user_factors=users,
    )


def recall(found: list, exact: list) -> float:
    """Share of the exact top k that the approximate search found, counting a tie at the k-th
    exact distance as found (equal vectors make the exact top k itself arbitrary at its edge)."""
    if not exact:
        return 1.0
    edge = exact[-1].distance + 1e-6
    exact_ids = {n.id for n in exact}
    hits = sum(1 for n in found if n.id in exact_ids or n.distance <= edge)
    return min(hits, len(exact)) / len(exact)


@contextmanager
def through_the_hnsw_index() -> Iterator[list[str]]:
    """Nearest-neighbour statements sent in the block are planned with sorts priced out
    (``SET LOCAL enable_sort = off`` in their own transaction), so they go through the version's
    HNSW index as they do at catalog scale: on the demo catalog's 3k vectors the planner would
    rightly read and sort them all, and a recall test would measure nothing. Yields the plans
    (``EXPLAIN``) of those statements."""
    plans: list[str] = []

    def force(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if "<=>" in sql and sql.lstrip().upper().startswith("SELECT"):
            cursor = context["cursor"]
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(force):
        yield plans
    with connection.cursor() as cursor:  # the test's transaction outlives the query's savepoint
        cursor.execute("SET LOCAL enable_sort TO DEFAULT")
