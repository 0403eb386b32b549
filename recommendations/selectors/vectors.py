"""Nearest-neighbour reads of the recommender's vectors in pgvector.

Every HNSW query runs in a transaction of its own that first sets, for that transaction only,
``hnsw.ef_search`` (``RECOMMENDER["vectors"]["hnsw_ef_search"]``; pgvector's default of 40
silently caps a ``LIMIT 50`` at 40 rows) and ``hnsw.iterative_scan = relaxed_order``
(pgvector 0.8: when filters — the model version, ``exclude`` — drop candidates, the scan goes on
until the ``LIMIT`` is filled). Relaxed order may return rows slightly out of order, so the
rows are sorted by distance here. Each HNSW query has an exact-scan twin (``*_exact``: the same
query with index scans off) to measure recall against (tests/recommendations/test_vectors.py,
``scripts/bench_vectors.py``).

Distances are pgvector's cosine distance ``1 - cos``: 0 for the same direction, 2 for opposite.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO, NamedTuple, cast

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from pgvector.django import CosineDistance

from recommendations.artifacts import ModelArtifact
from recommendations.models import (
    ListenerVector,
    ModelStatus,
    ModelVersion,
    TrackContent,
    TrackVector,
)


class Neighbour(NamedTuple):
    """A track (or listener) id and its cosine distance to the query vector."""

    id: int
    distance: float


def active_model_version_id() -> int | None:
    """The id of the active model version, or None before the first training."""
    found: int | None = (
        ModelVersion.objects.filter(status=ModelStatus.ACTIVE).values_list("pk", flat=True).first()
    )
    return found


# The artifact of the active version, loaded once per process per version id: with its metadata
# factors only in a process that folded a new track in (a worker, an admin save); a web process
# that only serves keeps EASE's sparse weights and the Gram matrices (~15 MB at catalog scale).
_artifact_cache: tuple[int, ModelArtifact] | None = None

#: Bytes of the artifact read per query: the column is read in slices, so a process never
#: holds its text (hex) form whole (~2x the bytes) beside the arrays it is being parsed into.
ARTIFACT_READ_SLICE = 8 * 1024 * 1024


def active_model(*, metadata_factors: bool = False) -> tuple[int, ModelArtifact] | None:
    """The active model version's id and its artifact (cached per process per version id),
    or None before the first training (or when the active version has no artifact).
    ``metadata_factors``: also read the metadata rows' factors (folding new tracks in needs
    them; scoring and listener fold-in do not)."""
    global _artifact_cache
    version_id = active_model_version_id()
    if version_id is None:
        return None
    cached = _artifact_cache
    if (
        cached is not None
        and cached[0] == version_id
        and (not metadata_factors or cached[1].als is None or cached[1].als.has_metadata_factors)
    ):
        return cached
    buffer = _artifact_buffer(version_id)
    if buffer is None:
        return None
    with buffer:
        # an mmap reads and seeks like a binary file
        artifact = ModelArtifact.from_bytes(
            cast(BinaryIO, buffer), metadata_factors=metadata_factors
        )
        loaded = (version_id, artifact)
    _artifact_cache = loaded
    return loaded


class _Memory(mmap.mmap):
    """Anonymous memory that reads like a file (``zipfile`` asks whether it can seek; ``mmap``
    says so only from Python 3.13)."""

    def seekable(self) -> bool:
        return True


def _artifact_buffer(version_id: int) -> _Memory | None:
    """The stored artifact of ``version_id`` (None when it has none), copied slice by slice
    into anonymous memory (a file-like ``mmap`` that ``np.load`` reads member by member, and
    that goes back to the system whole when closed): the process never holds the artifact's
    text form, nor a second copy of its bytes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT octet_length(artifact) FROM recommendations_modelversion WHERE id = %s",
            [version_id],
        )
        row = cursor.fetchone()
        if row is None or not row[0]:
            return None
        buffer = _Memory(-1, int(row[0]))
        for start in range(0, int(row[0]), ARTIFACT_READ_SLICE):
            # substring() of bytea counts from 1
            cursor.execute(
                "SELECT substring(artifact FROM %s FOR %s)"
                " FROM recommendations_modelversion WHERE id = %s",
                [start + 1, ARTIFACT_READ_SLICE, version_id],
            )
            buffer.write(cursor.fetchone()[0])
    buffer.seek(0)
    return buffer


def _ef_search(k: int) -> int:
    configured = int(settings.RECOMMENDER.get("vectors", {}).get("hnsw_ef_search", 100))
    return max(configured, k)


@contextmanager
def _search(*, k: int, exact: bool) -> Any:
    """A transaction with the search settings of one query (``SET LOCAL``: they end with it).
    Inside a caller's transaction the block is only a savepoint, and ``SET LOCAL`` would outlive
    it until that transaction ends (an exact query would turn index scans off for every later
    query of a test): the settings are put back at the end of the block then."""
    nested = connection.in_atomic_block
    names = ["enable_indexscan"] if exact else ["hnsw.ef_search", "hnsw.iterative_scan"]
    with transaction.atomic(), connection.cursor() as cursor:
        if exact:
            # no index scan at all: the planner sorts every candidate by its true distance
            cursor.execute("SET LOCAL enable_indexscan = off")
        else:
            cursor.execute(f"SET LOCAL hnsw.ef_search = {_ef_search(k)}")
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        yield
        if nested:
            for name in names:
                cursor.execute(f"SET LOCAL {name} TO DEFAULT")


def _vector(vector: npt.ArrayLike, dimensions: int) -> npt.NDArray[np.float32]:
    values = np.asarray(vector, dtype=np.float32).ravel()
    if len(values) > dimensions:
        raise ValueError(f"a vector of at most {dimensions} dimensions is needed")
    if len(values) < dimensions:  # a model narrower than the column: zeros, as stored
        values = np.concatenate([values, np.zeros(dimensions - len(values), dtype=np.float32)])
    return values


def _nearest(
    queryset: QuerySet[Any], *, id_field: str, vector: npt.ArrayLike, k: int, exact: bool
) -> list[Neighbour]:
    if k <= 0:
        return []
    dimensions = queryset.model._meta.get_field("vector").dimensions
    query = _vector(vector, dimensions)
    if not np.any(query):  # a zero vector has no direction: every distance is undefined
        return []
    with _search(k=k, exact=exact):
        rows = list(
            queryset.annotate(distance=CosineDistance("vector", query))
            .order_by("distance")
            .values_list(id_field, "distance")[:k]
        )
    return sorted((Neighbour(int(i), float(d)) for i, d in rows), key=lambda n: (n.distance, n.id))


def _tracks(model_version_id: int, exclude: Iterable[int]) -> QuerySet[TrackVector]:
    queryset = TrackVector.objects.filter(model_version_id=model_version_id)
    excluded = list(exclude)
    if excluded:
        queryset = queryset.exclude(track_id__in=excluded)
    return queryset


def nearest_tracks(
    *,
    vector: npt.ArrayLike,
    k: int,
    model_version_id: int,
    exclude: Iterable[int] = (),
    exact: bool = False,
) -> list[Neighbour]:
    """The ``k`` tracks of a model version whose collaborative vectors are closest (cosine) to
    ``vector`` (a listener's, or a track's), nearest first, none of ``exclude``. HNSW unless
    ``exact``; fewer than ``k`` only when the version has fewer tracks."""
    return _nearest(
        _tracks(model_version_id, exclude), id_field="track_id", vector=vector, k=k, exact=exact
    )


def nearest_tracks_exact(
    *, vector: npt.ArrayLike, k: int, model_version_id: int, exclude: Iterable[int] = ()
) -> list[Neighbour]:
    """:func:`nearest_tracks` by an exact scan (for recall measurements)."""
    return nearest_tracks(
        vector=vector, k=k, model_version_id=model_version_id, exclude=exclude, exact=True
    )


def nearest_listeners(
    *,
    vector: npt.ArrayLike,
    k: int,
    model_version_id: int,
    exclude: Iterable[int] = (),
    exact: bool = False,
) -> list[Neighbour]:
    """The ``k`` listeners of a model version whose vectors are closest to ``vector``
    ("listeners like you"), nearest first, none of ``exclude`` (user ids)."""
    queryset = ListenerVector.objects.filter(model_version_id=model_version_id)
    excluded = list(exclude)
    if excluded:
        queryset = queryset.exclude(user_id__in=excluded)
    return _nearest(queryset, id_field="user_id", vector=vector, k=k, exact=exact)


def nearest_listeners_exact(
    *, vector: npt.ArrayLike, k: int, model_version_id: int, exclude: Iterable[int] = ()
) -> list[Neighbour]:
    """:func:`nearest_listeners` by an exact scan."""
    return nearest_listeners(
        vector=vector, k=k, model_version_id=model_version_id, exclude=exclude, exact=True
    )


def nearest_tracks_by_content(
    *, vector: npt.ArrayLike, k: int, exclude: Iterable[int] = (), exact: bool = False
) -> list[Neighbour]:
    """The ``k`` tracks whose content vectors are closest to ``vector`` (a track's content
    vector, or a profile in the same space)."""
    queryset = TrackContent.objects.all()
    excluded = list(exclude)
    if excluded:
        queryset = queryset.exclude(track_id__in=excluded)
    return _nearest(queryset, id_field="track_id", vector=vector, k=k, exact=exact)


def track_content_vector(*, track_id: int) -> npt.NDArray[np.float32] | None:
    """A track's stored content vector, or None when it has none (yet)."""
    return _vectors_of(TrackContent, "track_id", "track_id = %s", [track_id]).get(track_id)


def similar_tracks_by_content(
    *, track_id: int, k: int, exclude: Iterable[int] = (), exact: bool = False
) -> list[Neighbour]:
    """The ``k`` tracks that sound most like this one (content vectors, cosine), the track
    itself left out; empty when the track has no content vector."""
    vector = track_content_vector(track_id=track_id)
    if vector is None:
        return []
    return nearest_tracks_by_content(vector=vector, k=k, exclude=[track_id, *exclude], exact=exact)


def similar_tracks_by_content_exact(
    *, track_id: int, k: int, exclude: Iterable[int] = ()
) -> list[Neighbour]:
    """:func:`similar_tracks_by_content` by an exact scan."""
    return similar_tracks_by_content(track_id=track_id, k=k, exclude=exclude, exact=True)


def _vectors_of(
    model: type[Any], id_column: str, condition: str, params: Sequence[Any]
) -> dict[int, npt.NDArray[np.float32]]:
    # the vector as real[] comes back as a list of floats (no text parsing, no adapter)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {id_column}, vector::real[] FROM {model._meta.db_table} WHERE {condition}",
            list(params),
        )
        return {int(i): np.asarray(v, dtype=np.float32) for i, v in cursor.fetchall()}


def track_vectors(
    *, track_ids: Sequence[int], model_version_id: int
) -> dict[int, npt.NDArray[np.float32]]:
    """The collaborative vectors of these tracks in a model version (a track without one is
    absent), by track id."""
    if not track_ids:
        return {}
    return _vectors_of(
        TrackVector,
        "track_id",
        "model_version_id = %s AND track_id = ANY(%s)",
        [model_version_id, list(track_ids)],
    )


def listener_vector(*, user_id: int, model_version_id: int) -> npt.NDArray[np.float32] | None:
    """A listener's collaborative vector in a model version, or None."""
    return _vectors_of(
        ListenerVector,
        "user_id",
        "model_version_id = %s AND user_id = %s",
        [model_version_id, user_id],
    ).get(user_id)
