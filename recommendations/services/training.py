"""Training the collaborative models on the site's data and swapping them in.

:func:`train_embeddings` is the one entry point (the nightly task, the admin's "train now", the
``train_embeddings`` command and ``make run``). One run:

1. takes a PostgreSQL advisory lock (``pg_try_advisory_lock``): a run that finds it held is
   **skipped** at once, never waits, never overlaps;
2. reads the catalog and every listener's rows in one REPEATABLE READ transaction (a consistent
   snapshot; ``snapshot_at`` is its start);
3. fits EASE and ALS with the engine's one training path (``engine.training.train``) and, when
   enabled, measures a quick holdout (``RECOMMENDER["figures"]``);
4. writes a ``ModelVersion(status=training)``'s track and listener vectors with COPY (no HNSW
   index to maintain), and its artifact (:mod:`recommendations.artifacts`), then builds the
   version's own partial HNSW indexes (:mod:`.vector_indexes`, ``CREATE INDEX CONCURRENTLY``);
5. in ONE short transaction retires the active version and activates the new one: a reader that
   resolves the active version and reads its vectors in one statement sees the old model or
   the new one, never a mix;
6. folds in again, with the new model, the listeners whose data changed after ``snapshot_at``,
   and the tracks created after it;
7. drops the HNSW indexes and deletes the vectors and artifacts of retired and failed versions
   (their rows stay: the admin's history).

A failure before the swap marks the version ``failed`` with the error, leaves the active model
as it was and re-raises (Celery retries). A failure after the swap (steps 6–7) is logged and
does not undo the swap; the next run cleans up.
"""

from __future__ import annotations

import datetime as dt
import logging
import struct
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from musicrec.queue import enqueue_on_commit
from recommendations.artifacts import ModelArtifact, params_json
from recommendations.engine.evaluation import evaluate, split_per_listener
from recommendations.engine.models import BlendModel, Model
from recommendations.engine.training import Memberships, Trained, TrainingParams, train
from recommendations.models import (
    COLLABORATIVE_DIMENSIONS,
    ListenerVector,
    ModelVersion,
    TrackVector,
)
from recommendations.selectors.catalog import EngineCatalog, engine_catalog
from recommendations.selectors.params import recommender_params
from recommendations.selectors.training import (
    ListenerEvents,
    listener_events,
    listener_rows,
    listeners_changed_since,
    tracks_created_since,
)
from recommendations.services.track_vectors import track_vectors_fold_in
from recommendations.services.vector_indexes import version_indexes_build, version_indexes_drop

logger = logging.getLogger(__name__)

#: The advisory lock of a training run (one 64-bit key for the whole database; "musicrec
#: training" in ASCII, so it is recognisable in ``pg_locks``).
TRAINING_LOCK_KEY = 0x6D72_7472_6169_6E

#: Bytes per write of a COPY stream (90k track vectors are ~49 MB).
COPY_CHUNK = 8 * 1024 * 1024

#: A change is stamped by the writer's clock before it commits, so one stamped just before the
#: snapshot may still be missing from it: listeners changed this long before it are folded in
#: again too (a few extra fold-ins cost milliseconds).
REFRESH_MARGIN = dt.timedelta(seconds=60)

#: The phases of a run, in order: the command's progress bar has one step per phase.
PHASES = ("read", "fit", "vectors", "figures", "index", "swap", "refresh", "cleanup")

Progress = Callable[[str], None]

DEFAULT_FIGURES = {
    "enabled": True,
    "holdout": 0.2,
    "min_listeners": 20,
    "k": 10,
    "seed": 0,
    "blend_max_tracks": 20_000,
}


@dataclass(frozen=True)
class TrainingOutcome:
    """What a run did. ``skipped``: another run held the lock (nothing was done)."""

    skipped: bool
    version_id: int | None = None
    listeners: int = 0
    tracks: int = 0
    cells: int = 0
    track_vectors: int = 0
    listener_vectors: int = 0
    refreshed_listeners: int = 0
    new_tracks: int = 0  # tracks created after the snapshot, folded in after the swap
    seconds: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds.values()))


def _figures_settings() -> dict[str, Any]:
    return {**DEFAULT_FIGURES, **settings.RECOMMENDER.get("figures", {})}


@contextmanager
def training_lock() -> Iterator[bool]:
    """Hold the training advisory lock (session level, on this thread's connection) for the
    block; yields False at once when another session holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [TRAINING_LOCK_KEY])
        row = cursor.fetchone()
    acquired = bool(row and row[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [TRAINING_LOCK_KEY])
            except Exception:  # a broken connection has released it already
                logger.exception("could not release the training lock")


@dataclass
class _Snapshot:
    at: Any
    catalog: EngineCatalog
    events: ListenerEvents
    positive: sp.csr_matrix
    signed: sp.csr_matrix


def _read_snapshot() -> _Snapshot:
    """The catalog and every listener's rows, read in one consistent snapshot."""
    outer = connection.in_atomic_block
    with transaction.atomic():
        if not outer:  # inside a caller's transaction (tests), its isolation holds
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with connection.cursor() as cursor:
            # the first query takes the snapshot: its clock is the snapshot's moment
            cursor.execute("SELECT clock_timestamp()")
            row = cursor.fetchone()
        snapshot_at = row[0] if row else timezone.now()
        catalog = engine_catalog()
        events = listener_events(engine_catalog=catalog)
    return _Snapshot(
        at=snapshot_at,
        catalog=catalog,
        events=events,
        positive=events.matrix(keep_negative=False),
        signed=events.matrix(keep_negative=True),
    )


def fit(
    *,
    positive: sp.csr_matrix,
    signed: sp.csr_matrix,
    memberships: Mapping[str, Memberships],
    params: TrainingParams,
) -> Trained:
    """EASE on the positive cells, ALS with the negative ones too (``engine.matrix``: a
    Gram matrix of mixed signs means nothing; ALS reads a negative cell as a confident 0),
    both through ``engine.training.train``. One call when there is no negative cell or only
    one model is on."""
    both = params.ease_weight > 0 and params.als_weight > 0
    if both and signed.nnz != positive.nnz:
        ease_part = train(positive, memberships, params.replace(als_weight=0.0))
        als_part = train(signed, memberships, params.replace(ease_weight=0.0))
        return Trained(
            params=params,
            training=als_part.training,
            ease=ease_part.ease,
            als=als_part.als,
            seconds={**ease_part.seconds, **als_part.seconds},
        )
    return train(signed if params.als_weight > 0 else positive, memberships, params)


def _blend(trained: Trained) -> Model | None:
    parts = [
        (model, weight)
        for model, weight in (
            (trained.ease, trained.params.ease_weight),
            (trained.als, trained.params.als_weight),
        )
        if model is not None and weight > 0
    ]
    if not parts:
        return None
    return BlendModel(
        models=[m for m, _ in parts], weights=[w for _, w in parts], pool=trained.params.pool
    )


def holdout_figures(
    *,
    signed: sp.csr_matrix,
    memberships: Mapping[str, Memberships],
    params: TrainingParams,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """A quick check of the collaborative model on the site's own data: each listener's
    positive cells split ``holdout`` / rest (fixed seed), the models fitted again on the rest
    (same parameters, metadata rows included) and NDCG@k / Recall@k of the blend measured on
    the held-out cells. ``{"skipped": reason}`` when there are too few listeners to say
    anything. Turn it off with ``RECOMMENDER["figures"]["enabled"]``.

    The served model has seen every cell, so the figure needs a second fit that has not. On a
    catalog of more than ``blend_max_tracks`` tracks only EASE is fitted again (with the served
    parameters): ALS's cost grows with tracks + metadata rows (157 s of ALS at 90k tracks,
    where EASE over its most-played tracks takes seconds), so refitting it would double the
    training for a figure. ``"model"`` says which model the figures are of, and why."""
    if not options.get("enabled", True):
        return {"skipped": "turned off (RECOMMENDER['figures']['enabled'])"}
    model_name = "blend of EASE and ALS"
    limit = options.get("blend_max_tracks")
    if limit is not None and signed.shape[1] > int(limit) and params.als_weight > 0:
        if params.ease_weight <= 0:
            return {
                "skipped": f"{signed.shape[1]} tracks > blend_max_tracks {limit}: an ALS "
                "refit would double the training (the offline evaluation measures it)"
            }
        params = params.replace(als_weight=0.0)
        model_name = (
            f"EASE only ({signed.shape[1]} tracks > blend_max_tracks {limit}: "
            "an ALS refit would double the training)"
        )
    share = float(options["holdout"])
    k = int(options["k"])
    split = split_per_listener(signed, share, int(options["seed"]))
    evaluated = len(split.evaluated)
    if evaluated < int(options["min_listeners"]):
        return {
            "skipped": f"{evaluated} listeners with two or more positive cells; "
            f"the holdout needs {options['min_listeners']}"
        }
    positive = split.train.copy()
    positive.data = np.where(positive.data > 0, positive.data, 0.0).astype(np.float32)
    positive.eliminate_zeros()
    trained = fit(positive=positive, signed=split.train, memberships=memberships, params=params)
    model = _blend(trained)
    if model is None:
        return {"skipped": "no collaborative model was trained"}
    result = evaluate(model, split, k, fit=False)
    return {
        f"ndcg@{k}": round(result.ndcg, 4),
        f"recall@{k}": round(result.recall, 4),
        f"coverage@{k}": round(result.coverage, 4),
        "listeners": result.listeners,
        "holdout": share,
        "model": model_name,
    }


#: PostgreSQL's timestamp epoch (binary COPY sends microseconds since it).
_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

#: The binary COPY stream's header (signature, flags, header extension length) and trailer.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)


def copy_payload(
    *,
    version_id: int,
    owner_ids: npt.NDArray[np.int64],
    vectors: npt.NDArray[np.float32],
    stamp: dt.datetime | None = None,
) -> bytes:
    """The whole binary COPY stream of rows ``(version_id, owner_id, vector[, stamp])``, built
    by numpy in one go: each row is a packed big-endian record (field count; then per field its
    length and value; a pgvector value is dimensions, 0, float32s). Writing 90k rows one
    ``write_row`` at a time cost ~12 s of Python at catalog scale."""
    count, dimensions = vectors.shape
    fields: list[tuple[Any, ...]] = [
        ("fields", ">i2"),
        ("version_length", ">i4"),
        ("version", ">i8"),
        ("owner_length", ">i4"),
        ("owner", ">i8"),
        ("vector_length", ">i4"),
        ("dimensions", ">i2"),
        ("unused", ">i2"),
        ("vector", ">f4", (dimensions,)),
    ]
    if stamp is not None:
        fields += [("stamp_length", ">i4"), ("stamp", ">i8")]
    rows = np.zeros(count, dtype=np.dtype(fields))
    rows["fields"] = 3 if stamp is None else 4
    rows["version_length"] = rows["owner_length"] = 8
    rows["version"] = version_id
    rows["owner"] = owner_ids
    rows["vector_length"] = 4 + 4 * dimensions
    rows["dimensions"] = dimensions
    rows["vector"] = vectors
    if stamp is not None:
        rows["stamp_length"] = 8
        rows["stamp"] = (stamp - _PG_EPOCH) // dt.timedelta(microseconds=1)
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def _copy_vectors(
    *,
    table: str,
    owner_column: str,
    version_id: int,
    owner_ids: npt.NDArray[np.int64],
    vectors: npt.NDArray[np.float32],
    extra: tuple[str, dt.datetime] | None = None,
) -> int:
    """COPY (binary) the non-zero ``vectors`` of ``owner_ids`` under ``version_id``; how many.
    ``extra``: a timestamp column and its value for every row."""
    keep = np.flatnonzero(np.any(vectors != 0, axis=1))
    columns = ["model_version_id", owner_column, "vector"] + ([extra[0]] if extra else [])
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT BINARY)"
    payload = copy_payload(
        version_id=version_id,
        owner_ids=owner_ids[keep],
        vectors=np.asarray(vectors[keep], dtype=np.float32),
        stamp=extra[1] if extra else None,
    )
    view = memoryview(payload)
    with transaction.atomic(), connection.cursor() as wrapper, wrapper.cursor.copy(sql) as copy:
        for start in range(0, len(view), COPY_CHUNK):
            copy.write(view[start : start + COPY_CHUNK])
    return len(keep)


@contextmanager
def _indexes_built_beside(*, version_id: int | None) -> Iterator[None]:
    """Build ``version_id``'s HNSW indexes (:func:`version_indexes_build`) while the block runs:
    in a thread with a connection of its own (``CREATE INDEX CONCURRENTLY`` works in
    PostgreSQL's processes while this one computes), joined at the end of the block, whose
    exit re-raises what the build raised. Inside a caller's transaction (tests) another
    connection would not see the uncommitted rows: the indexes are built first, in it.
    ``None``: nothing to build."""
    if version_id is None:
        yield
        return
    if connection.in_atomic_block:
        version_indexes_build(version_id=version_id)
        yield
        return

    def build() -> None:
        try:
            version_indexes_build(version_id=version_id)
        finally:
            connections.close_all()  # this thread's connection only

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hnsw-build") as pool:
        building = pool.submit(build)
        try:
            yield
        finally:
            error = building.exception()  # waits for the build, success or not
        if error is not None:
            raise error


def _swap(version: ModelVersion) -> None:
    """Retire the active version and activate ``version``, in one short transaction."""
    now = timezone.now()
    with transaction.atomic():
        ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exclude(
            pk=version.pk
        ).update(status=ModelVersion.Status.RETIRED)
        version.status = ModelVersion.Status.ACTIVE
        version.activated_at = now
        version.save(update_fields=["status", "activated_at"])


def _refresh_changed(
    *,
    version: ModelVersion,
    previous_id: int | None,
    snapshot: _Snapshot,
    trained: Trained,
) -> int:
    """Fold in again, with the new model, the listeners whose data changed after the
    snapshot (new events, opinions, history entries; or a vector the fold-in on change
    rewrote in the previous version after it); how many."""
    if trained.als is None:
        return 0
    changed = set(listeners_changed_since(since=snapshot.at - REFRESH_MARGIN))
    if previous_id is not None:
        changed.update(
            ListenerVector.objects.filter(
                model_version_id=previous_id, updated_at__gt=snapshot.at
            ).values_list("user_id", flat=True)
        )
    if not changed:
        return 0
    ids, rows = listener_rows(user_ids=sorted(changed), engine_catalog=snapshot.catalog)
    vectors = trained.als.user_vectors(rows)
    now = timezone.now()
    nonzero = np.any(vectors != 0, axis=1)
    with transaction.atomic():
        ListenerVector.objects.filter(
            model_version=version, user_id__in=[int(u) for u in ids[~nonzero]]
        ).delete()
        ListenerVector.objects.bulk_create(
            [
                ListenerVector(
                    model_version=version, user_id=int(u), vector=vectors[i], updated_at=now
                )
                for i, u in enumerate(ids)
                if nonzero[i]
            ],
            update_conflicts=True,
            unique_fields=["model_version", "user"],
            update_fields=["vector", "updated_at"],
        )
    return len(ids)


def _fold_in_new_tracks(*, snapshot: _Snapshot) -> int:
    """Tracks created after the snapshot got their vector (if any) in the version that was
    active then: fold them into the new one from their metadata rows; how many were written.
    The margin is harmless: tracks the new model was trained on are left as they are."""
    created = tracks_created_since(since=snapshot.at - REFRESH_MARGIN)
    if not created:
        return 0
    return track_vectors_fold_in(track_ids=created)


def model_versions_clean_up() -> int:
    """Drop the HNSW indexes of retired and failed versions, delete their vectors and the
    artifacts of retired ones (the rows stay, with their figures); how many vectors were
    deleted."""
    gone = ModelVersion.objects.filter(
        status__in=[ModelVersion.Status.RETIRED, ModelVersion.Status.FAILED]
    )
    # the index first: deleting rows under it would only leave work for VACUUM
    version_indexes_drop(version_ids=gone.values_list("pk", flat=True))
    deleted, _ = TrackVector.objects.filter(model_version__in=gone).delete()
    listeners, _ = ListenerVector.objects.filter(model_version__in=gone).delete()
    gone.filter(artifact__isnull=False).update(artifact=None)
    return deleted + listeners


def _mark_interrupted() -> None:
    """Versions left ``training`` by a run that died (no run holds the lock: we do)."""
    ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).update(
        status=ModelVersion.Status.FAILED,
        error="interrupted: the run that trained it stopped before it finished",
        finished_at=timezone.now(),
    )


def train_embeddings(*, progress: Progress | None = None) -> TrainingOutcome:
    """Train the collaborative models on a snapshot of the site's data and swap them in.

    Takes the training advisory lock (``TRAINING_LOCK_KEY``) without waiting: a run while
    another holds it returns ``TrainingOutcome(skipped=True)`` and does nothing. Safe to run
    twice. Raises what failed before the swap (the new version is then ``failed``)."""
    with training_lock() as acquired:
        if not acquired:
            return TrainingOutcome(skipped=True)
        return _train_locked(progress or (lambda phase: None))


def _train_locked(progress: Progress) -> TrainingOutcome:
    _mark_interrupted()
    params = recommender_params()[0]
    version = ModelVersion.objects.create(
        status=ModelVersion.Status.TRAINING, parameters=params_json(params)
    )
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    started = clock

    def phase_done(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 3)
        clock = now
        progress(name)

    try:
        if params.als_weight > 0 and params.als_factors != COLLABORATIVE_DIMENSIONS:
            raise ValueError(
                f"als_factors is {params.als_factors}, the stored vectors have "
                f"{COLLABORATIVE_DIMENSIONS} dimensions (a different width is a migration)"
            )
        snapshot = _read_snapshot()
        catalog = snapshot.catalog
        version.snapshot_at = snapshot.at
        version.listeners = len(snapshot.events.user_ids)
        version.tracks = catalog.n_tracks
        version.cells = int(snapshot.signed.nnz)
        version.save(update_fields=["snapshot_at", "listeners", "tracks", "cells"])
        phase_done("read")

        trained = fit(
            positive=snapshot.positive,
            signed=snapshot.signed,
            memberships=catalog.memberships,
            params=params,
        )
        phase_done("fit")

        track_vectors = listener_vectors = 0
        if trained.als is not None:
            track_vectors = _copy_vectors(
                table=TrackVector._meta.db_table,
                owner_column="track_id",
                version_id=version.pk,
                owner_ids=catalog.track_ids,
                vectors=trained.als.item_factors_,
            )
            listener_vectors = _copy_vectors(
                table=ListenerVector._meta.db_table,
                owner_column="user_id",
                version_id=version.pk,
                owner_ids=snapshot.events.user_ids,
                vectors=trained.als.user_factors_[: trained.n_listeners],
                extra=("updated_at", snapshot.at),
            )
        artifact = ModelArtifact.from_trained(
            trained,
            track_ids=catalog.track_ids,
            group_ids={
                "artist": catalog.artist_ids,
                "album": catalog.album_ids,
                "genre": catalog.genre_ids,
            },
        )
        version.artifact = artifact.to_bytes()
        version.save(update_fields=["artifact"])
        phase_done("vectors")

        # the version's own HNSW indexes, built once over its finished rows (no table-wide
        # index was maintained row by row during the COPY), before anyone can read it; the
        # build runs in PostgreSQL while the holdout runs here, so they overlap
        with _indexes_built_beside(version_id=version.pk if trained.als is not None else None):
            figures: dict[str, Any] = {
                "holdout": holdout_figures(
                    signed=snapshot.signed,
                    memberships=catalog.memberships,
                    params=params,
                    options=_figures_settings(),
                ),
                "fit_seconds": {name: round(s, 3) for name, s in trained.seconds.items()},
            }
            phase_done("figures")
        phase_done("index")  # the wait for the build after the holdout was done
        version.figures = figures
        version.finished_at = timezone.now()
        version.save(update_fields=["figures", "finished_at"])

        previous = (
            ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
            .values_list("pk", flat=True)
            .first()
        )
        _swap(version)
        phase_done("swap")
    except Exception as exc:
        _fail(version, exc)
        raise

    warnings: list[str] = []
    refreshed = new_tracks = 0
    try:
        refreshed = _refresh_changed(
            version=version, previous_id=previous, snapshot=snapshot, trained=trained
        )
    except Exception as exc:
        logger.exception("model %s: folding in the listeners changed since the snapshot", version)
        warnings.append(f"refresh of changed listeners failed: {exc}")
    try:
        new_tracks = _fold_in_new_tracks(snapshot=snapshot)
    except Exception as exc:
        logger.exception("model %s: folding in the tracks created since the snapshot", version)
        warnings.append(f"fold-in of new tracks failed: {exc}")
    phase_done("refresh")
    try:
        model_versions_clean_up()
    except Exception as exc:
        logger.exception("model %s: deleting the vectors of retired versions", version)
        warnings.append(f"clean-up of retired versions failed: {exc}")
    phase_done("cleanup")
    # every connected listener's open pages get a list from the new model (in the worker)
    enqueue_on_commit("recommendations.live_fan_out", "training")

    total = round(time.perf_counter() - started, 3)
    figures["phase_seconds"] = dict(seconds)
    ModelVersion.objects.filter(pk=version.pk).update(training_seconds=total, figures=figures)
    # the recently active listeners' next lists, computed by a worker (the cache is keyed by
    # the model version: every cached list is stale now)
    enqueue_on_commit("recommendations.precompute_lists")
    return TrainingOutcome(
        skipped=False,
        version_id=version.pk,
        listeners=version.listeners,
        tracks=version.tracks,
        cells=version.cells,
        track_vectors=track_vectors,
        listener_vectors=listener_vectors,
        refreshed_listeners=refreshed,
        new_tracks=new_tracks,
        seconds=seconds,
        figures=figures,
        warnings=tuple(warnings),
    )


def _fail(version: ModelVersion, exc: BaseException) -> None:
    """Record the failure on the version and drop what it wrote; the active one is untouched."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    try:
        version_indexes_drop(version_ids=[version.pk])
    except Exception:  # the next clean-up drops it (the version is failed by then)
        logger.exception("model %s failed; could not drop its HNSW indexes", version)
    try:
        with transaction.atomic():
            TrackVector.objects.filter(model_version=version).delete()
            ListenerVector.objects.filter(model_version=version).delete()
            ModelVersion.objects.filter(pk=version.pk).update(
                status=ModelVersion.Status.FAILED,
                error=text[:10_000],
                finished_at=timezone.now(),
                artifact=None,
            )
    except Exception:
        logger.exception("model %s failed (%s) and could not be marked failed", version, text)
