"""The serving artifact of a model version: what a web process needs besides the vectors.

``ModelVersion.artifact`` holds one ``.npz`` (``np.savez``, read with
``allow_pickle=False``: nothing in it can run code). Not compressed: the factors are noise to
zlib (58 MB at catalog scale, 51 MB compressed) and compressing them took 10–19 s of each
training. The track and listener factors are not in
it: they live in pgvector (``TrackVector``, ``ListenerVector``) under the version's id.

Arrays (names are the format; :data:`FORMAT` is bumped when one changes meaning):

- ``track_ids``: the catalog id of each training column, ascending (the engine's track index
  space of the training snapshot; a track added later has no column and no EASE weights).
- EASE, absent when EASE was not trained: ``ease_tracks`` (the modelled columns, indices into
  ``track_ids``) and its sparse weights ``B`` as ``ease_data`` / ``ease_indices`` /
  ``ease_indptr`` (CSR, ``len(ease_tracks)`` square: row and column ``i`` are
  ``ease_tracks[i]``), ``ease_l2``.
- ALS, absent when ALS was not trained: ``als_item_gram`` (FᵀF of the track factors, k × k
  float64: a listener's fold-in, :func:`.engine.models.als_fold_in`), ``als_row_gram`` (FᵀF of
  every row factor, listeners and metadata rows: a new track's fold-in),
  ``metadata_factors`` (the metadata rows' factors, float32), ``metadata_blocks`` (kind →
  (start, stop) within those rows), ``metadata_weights`` (kind → the value of its cells),
  ``artist_ids`` / ``album_ids`` / ``genre_ids`` (group index → catalog id, the snapshot's
  memberships), ``regularization``, ``alpha``, ``factors``.
- ``params``: the :class:`.engine.training.TrainingParams` as JSON (also in
  ``ModelVersion.parameters``).

Pure numpy and scipy, like the engine: the content engineer's fold-in, the serving assembly and
the tests read it without a database.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recommendations.engine.models import AlsModel, EaseModel, als_fold_in
from recommendations.engine.training import Trained, TrainingParams

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.floating[Any]]

#: Version of the array layout; :meth:`ModelArtifact.from_bytes` refuses another.
FORMAT = 1

_EMPTY_IDS: IntArray = np.zeros(0, dtype=np.int64)


class ArtifactError(ValueError):
    """The bytes are not an artifact this code can read."""


@dataclass(frozen=True)
class EaseArtifact:
    """EASE's modelled columns (indices into ``ModelArtifact.track_ids``) and sparse ``B``."""

    tracks: IntArray
    weights: sp.csr_matrix
    l2: float

    def model(self, n_tracks: int) -> EaseModel:
        """The fitted model over ``n_tracks`` columns (the artifact's ``track_ids``)."""
        return EaseModel(
            l2=self.l2,
            max_tracks=len(self.tracks),
            neighbours=int(np.diff(self.weights.indptr).max(initial=0)),
            tracks_=self.tracks,
            weights_=self.weights,
            n_tracks_=n_tracks,
        )


@dataclass(frozen=True)
class AlsArtifact:
    """What ALS fold-ins need besides the stored track vectors."""

    item_gram: npt.NDArray[np.float64]
    row_gram: npt.NDArray[np.float64]
    metadata_factors: npt.NDArray[np.float32]
    metadata_blocks: dict[str, tuple[int, int]]
    metadata_weights: dict[str, float]
    group_ids: dict[str, IntArray]
    regularization: float
    alpha: float
    factors: int
    #: False when read with ``from_bytes(metadata_factors=False)`` (a web process serving)
    has_metadata_factors: bool = True

    def listener_vectors(
        self, rows: sp.csr_matrix, item_factors: FloatArray
    ) -> npt.NDArray[np.float32]:
        """Listener vectors folded in from their rows (columns: the tracks of
        ``item_factors``, in the same order) against the fixed track factors, with the
        training's Gram matrix (exact when ``item_factors`` are the version's own)."""
        return als_fold_in(item_factors, rows, self.regularization, self.alpha, self.item_gram)

    def track_vectors(
        self,
        *,
        artists: Sequence[Iterable[int]],
        albums: Sequence[int | None],
        genres: Sequence[Iterable[int]],
    ) -> npt.NDArray[np.float32]:
        """Vectors of tracks nobody had played at training time, from their metadata alone:
        one track per position of ``artists`` (catalog artist ids), ``albums`` (catalog album
        id or None) and ``genres`` (catalog genre ids). A group unknown to the snapshot (an
        artist first seen after training) is left out; a track with no known group gets the
        zero vector."""
        if not self.has_metadata_factors:
            raise ArtifactError("read without its metadata factors: it cannot fold tracks in")
        n_new = len(artists)
        if len(albums) != n_new or len(genres) != n_new:
            raise ValueError("artists, albums and genres need one entry per track")
        groups: dict[str, list[Iterable[int]]] = {
            "artist": list(artists),
            "album": [[] if album is None else [album] for album in albums],
            "genre": list(genres),
        }
        rows: list[int] = []
        columns: list[int] = []
        values: list[float] = []
        for kind, per_track in groups.items():
            if kind not in self.metadata_blocks:
                continue
            start, _ = self.metadata_blocks[kind]
            known = self.group_ids[kind]
            for track, ids in enumerate(per_track):
                wanted = np.fromiter(ids, dtype=np.int64)
                if not len(wanted) or not len(known):
                    continue
                at = np.minimum(np.searchsorted(known, wanted), len(known) - 1)
                for group in np.unique(at[known[at] == wanted]):
                    rows.append(track)
                    columns.append(start + int(group))
                    values.append(self.metadata_weights[kind])
        n_rows = int(self.metadata_factors.shape[0])
        matrix = sp.csr_matrix((values, (rows, columns)), shape=(n_new, n_rows), dtype=np.float32)
        matrix.sum_duplicates()
        return als_fold_in(
            self.metadata_factors, matrix, self.regularization, self.alpha, self.row_gram
        )


@dataclass(frozen=True)
class ModelArtifact:
    """One version's serving artifact (see the module docstring for the stored arrays)."""

    track_ids: IntArray
    params: dict[str, Any]
    ease: EaseArtifact | None = None
    als: AlsArtifact | None = None
    format: int = field(default=FORMAT)

    @property
    def n_tracks(self) -> int:
        return len(self.track_ids)

    @classmethod
    def from_trained(
        cls,
        trained: Trained,
        *,
        track_ids: npt.ArrayLike,
        group_ids: Mapping[str, npt.ArrayLike],
    ) -> ModelArtifact:
        """The artifact of a training: ``track_ids`` (catalog id per column) and the
        catalog ids of each metadata kind's groups (``artist``, ``album``, ``genre``)."""
        ids = np.asarray(track_ids, dtype=np.int64)
        if len(ids) != trained.n_tracks:
            raise ValueError(f"{len(ids)} track ids for {trained.n_tracks} trained tracks")
        ease = None
        if trained.ease is not None:
            weights = trained.ease.weights_
            ease = EaseArtifact(
                tracks=np.asarray(trained.ease.tracks_, dtype=np.int64),
                weights=sp.csr_matrix(weights, dtype=np.float32),
                l2=float(trained.ease.l2),
            )
        als = None
        if trained.als is not None:
            model = trained.als
            rows = np.asarray(model.user_factors_, dtype=np.float64)
            items = np.asarray(model.item_factors_, dtype=np.float64)
            first = trained.training.n_listeners
            blocks = {
                name: (start - first, stop - first)
                for name, (start, stop) in trained.training.blocks.items()
                if name != "listeners"
            }
            als = AlsArtifact(
                item_gram=items.T @ items,
                row_gram=rows.T @ rows,
                metadata_factors=np.asarray(model.user_factors_[first:], dtype=np.float32),
                metadata_blocks=blocks,
                metadata_weights={k: float(v) for k, v in trained.training.weights.items()},
                group_ids={
                    kind: np.asarray(group_ids.get(kind, _EMPTY_IDS), dtype=np.int64)
                    for kind in ("artist", "album", "genre")
                },
                regularization=float(model.regularization),
                alpha=float(model.alpha),
                factors=int(items.shape[1]) if items.ndim == 2 else int(model.factors),
            )
        return cls(track_ids=ids, params=params_json(trained.params), ease=ease, als=als)

    def to_bytes(self) -> bytes:
        arrays: dict[str, Any] = {
            "format": np.array(self.format, dtype=np.int64),
            "track_ids": self.track_ids,
            "params": np.array(json.dumps(self.params, sort_keys=True)),
        }
        if self.ease is not None:
            weights = self.ease.weights
            arrays.update(
                ease_tracks=self.ease.tracks,
                ease_data=weights.data.astype(np.float32),
                ease_indices=weights.indices.astype(np.int32),
                ease_indptr=weights.indptr.astype(np.int64),
                ease_l2=np.array(self.ease.l2),
            )
        if self.als is not None:
            als = self.als
            arrays.update(
                als_item_gram=als.item_gram,
                als_row_gram=als.row_gram,
                metadata_factors=als.metadata_factors,
                metadata_blocks=np.array(json.dumps(als.metadata_blocks, sort_keys=True)),
                metadata_weights=np.array(json.dumps(als.metadata_weights, sort_keys=True)),
                artist_ids=als.group_ids["artist"],
                album_ids=als.group_ids["album"],
                genre_ids=als.group_ids["genre"],
                regularization=np.array(als.regularization),
                alpha=np.array(als.alpha),
                factors=np.array(als.factors, dtype=np.int64),
            )
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(
        cls, data: bytes | memoryview | BinaryIO, *, metadata_factors: bool = True
    ) -> ModelArtifact:
        """The artifact of :meth:`to_bytes` (its bytes, or a binary file-like object
        positioned at them, such as an ``mmap``).
        ``metadata_factors=False`` leaves the metadata rows' factors unread (three quarters of
        the bytes at catalog scale): what scoring and listener fold-in need, not a new track's
        fold-in (:meth:`AlsArtifact.track_vectors` then refuses)."""
        skipped = set() if metadata_factors else {"metadata_factors"}
        source = io.BytesIO(bytes(data)) if isinstance(data, bytes | memoryview) else data
        try:
            # an npz is a zip: each member is read only when asked for
            with np.load(source, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files if name not in skipped}
        except (OSError, ValueError, EOFError) as exc:
            raise ArtifactError(f"not a model artifact: {exc}") from exc
        version = int(arrays["format"]) if "format" in arrays else None
        if version != FORMAT:
            raise ArtifactError(f"artifact format {version}, this code reads {FORMAT}")
        ease = None
        if "ease_tracks" in arrays:
            tracks = arrays["ease_tracks"].astype(np.int64)
            ease = EaseArtifact(
                tracks=tracks,
                weights=sp.csr_matrix(
                    (arrays["ease_data"], arrays["ease_indices"], arrays["ease_indptr"]),
                    shape=(len(tracks), len(tracks)),
                ),
                l2=float(arrays["ease_l2"]),
            )
        als = None
        if "als_item_gram" in arrays:
            blocks = json.loads(str(arrays["metadata_blocks"]))
            als = AlsArtifact(
                item_gram=arrays["als_item_gram"].astype(np.float64),
                row_gram=arrays["als_row_gram"].astype(np.float64),
                metadata_factors=(
                    arrays["metadata_factors"].astype(np.float32)
                    if metadata_factors
                    else np.zeros((0, int(arrays["factors"])), dtype=np.float32)
                ),
                has_metadata_factors=metadata_factors,
                metadata_blocks={k: (int(a), int(b)) for k, (a, b) in blocks.items()},
                metadata_weights={
                    k: float(v) for k, v in json.loads(str(arrays["metadata_weights"])).items()
                },
                group_ids={
                    kind: arrays[f"{kind}_ids"].astype(np.int64)
                    for kind in ("artist", "album", "genre")
                },
                regularization=float(arrays["regularization"]),
                alpha=float(arrays["alpha"]),
                factors=int(arrays["factors"]),
            )
        return cls(
            track_ids=arrays["track_ids"].astype(np.int64),
            params=json.loads(str(arrays["params"])),
            ease=ease,
            als=als,
            format=version,
        )

    def training_params(self) -> TrainingParams:
        return TrainingParams(**self.params)

    def als_model(self, item_factors: FloatArray) -> AlsModel | None:
        """The ALS model for scoring and listener fold-in, from the version's track vectors
        (``item_factors``: one row per ``track_ids`` entry, zeros where a track has none).
        The row factors are not kept: a new track folds in with
        :meth:`AlsArtifact.track_vectors`."""
        if self.als is None:
            return None
        model = AlsModel(
            factors=self.als.factors,
            regularization=self.als.regularization,
            alpha=self.als.alpha,
            item_factors_=np.asarray(item_factors, dtype=np.float32),
        )
        model._grams["item"] = self.als.item_gram
        return model


def params_json(params: TrainingParams) -> dict[str, Any]:
    """The parameters as JSON-ready values (``TrainingParams(**params_json(p)) == p``)."""
    values = {name: getattr(params, name) for name in params.__dataclass_fields__}
    values["metadata_weights"] = dict(values["metadata_weights"])
    return values
