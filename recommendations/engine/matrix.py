"""The listener × track training matrix: confidence weights per event, and metadata rows.

Index spaces (the Django side maps ids to them; every array here is in them):

- tracks ``0 .. n_tracks - 1`` (columns);
- listeners ``0 .. n_listeners - 1`` (the first rows);
- each metadata kind (artist, album, genre) its own ``0 .. n_groups - 1``.

**Confidence per event** (:class:`ConfidenceWeights`): each event adds its weight to its
(listener, track) cell; a cell is the sum, then capped. Positive cells say "this listener wants
this track, this much"; a cell that sums to zero or less says "not this one". EASE and ItemKNN
read only positive cells (a Gram matrix of mixed signs has no "co-listened" meaning), so
negative cells are dropped by default; ALS (implicit) reads a negative cell as "preference 0
with confidence ``alpha * |value|``", so :func:`interaction_matrix` keeps them on request
(``keep_negative=True``).

**Metadata rows** (:func:`metadata_rows`, :func:`stack_training_matrix`): every artist, album
and genre becomes one extra row under the listeners, with its weight at each of its tracks: a
row acts like a listener who played the whole artist (album, genre) that much. Co-occurrence
models then see tracks of one artist or album as related even when few listeners played them,
and a track nobody has played still has a column (its metadata rows), which is how ALS folds in
a new track (:func:`new_track_columns`). On mpd_subset this lifted EASE's NDCG@10 from 0.205 to
0.243 with weights artist 2, album 2.5, genre ≤ 1 (issue #11, "What is known"); matched to the
catalog here, artist 2 / album 2.5 / genre 0.5 were the best of the grid on validation
(docs/evaluation.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: The interaction kinds of the event log (history.models spells them the same way).
EVENT_KINDS = ("play", "skip", "like", "dislike", "add_to_playlist")


@dataclass(frozen=True)
class ConfidenceWeights:
    """How much one event says about a listener's taste, in "full plays".

    The seed figures come from issue #11 (like 2.0, play 1.0, skip -0.5); the others are seeds
    of the same scale, to be tuned on the validation split like the rest (not tuned yet).

    - ``history`` (2.0): a track in the 50-slot history. The listener picked it to describe
      their taste, as strong as a like (issue #11: "history entry and like strong").
    - ``like`` (2.0): issue #11 seed.
    - ``add_to_playlist`` (1.5): seed; a deliberate keep, between a play and a like.
    - ``play`` (1.0): a full play (issue #11 seed). A partial play counts
      ``play * listened_share`` (share clipped to 0..1); an unknown share counts as a full play
      (imports rarely say how much was heard).
    - ``skip`` (-0.5): issue #11 seed.
    - ``dislike`` (-2.0): seed; the mirror of a like.
    - ``cap`` (4.0): seed; the most a cell can sum to, either sign (two likes' worth), so a
      track replayed 200 times does not outweigh everything else the listener played.
    """

    history: float = 2.0
    like: float = 2.0
    add_to_playlist: float = 1.5
    play: float = 1.0
    skip: float = -0.5
    dislike: float = -2.0
    cap: float = 4.0

    def of_kind(self, kind: str) -> float:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {EVENT_KINDS}")
        return float(getattr(self, kind))


def event_weights(
    kinds: Sequence[str] | npt.NDArray[np.str_],
    listened_share: npt.ArrayLike | None = None,
    weights: ConfidenceWeights | None = None,
) -> FloatArray:
    """The confidence of each event: its kind's weight, and for a play the listened share
    (``NaN`` or ``None`` = unknown = a full play)."""
    weights = weights or ConfidenceWeights()
    kinds = np.asarray(kinds, dtype=str)
    table = {kind: weights.of_kind(kind) for kind in EVENT_KINDS}
    unknown = set(np.unique(kinds)) - set(table)
    if unknown:
        raise ValueError(f"unknown event kinds {sorted(unknown)}; expected one of {EVENT_KINDS}")
    values = np.array([table[kind] for kind in kinds], dtype=np.float64)
    if listened_share is not None:
        share = np.asarray(listened_share, dtype=np.float64)
        if share.shape != values.shape:
            raise ValueError("listened_share needs one value per event")
        partial = (kinds == "play") & ~np.isnan(share)
        values[partial] *= np.clip(share[partial], 0.0, 1.0)
    return values


def interaction_matrix(
    *,
    n_listeners: int,
    n_tracks: int,
    event_listener: npt.ArrayLike = (),
    event_track: npt.ArrayLike = (),
    event_kind: Sequence[str] | npt.NDArray[np.str_] = (),
    listened_share: npt.ArrayLike | None = None,
    history_listener: npt.ArrayLike = (),
    history_track: npt.ArrayLike = (),
    weights: ConfidenceWeights | None = None,
    keep_negative: bool = False,
) -> sp.csr_matrix:
    """The listener × track confidence matrix (float32 CSR) of an event log and histories.

    Every event and history entry adds its weight (:func:`event_weights`,
    ``weights.history``) to its cell; each cell is then clipped to ``[-cap, cap]``. Cells of
    zero are dropped, and so are negative ones unless ``keep_negative`` (for ALS only: see the
    module docstring). Event arrays are parallel (one value per event); so are the history
    arrays (one per entry)."""
    weights = weights or ConfidenceWeights()
    event_listener = np.asarray(event_listener, dtype=np.int64)
    event_track = np.asarray(event_track, dtype=np.int64)
    history_listener = np.asarray(history_listener, dtype=np.int64)
    history_track = np.asarray(history_track, dtype=np.int64)
    if not len(event_listener) == len(event_track) == len(event_kind):
        raise ValueError("event_listener, event_track and event_kind need one value per event")
    if len(history_listener) != len(history_track):
        raise ValueError("history_listener and history_track need one value per entry")
    values = np.concatenate(
        [
            event_weights(event_kind, listened_share, weights) if len(event_kind) else np.zeros(0),
            np.full(len(history_track), weights.history),
        ]
    )
    rows = np.concatenate([event_listener, history_listener])
    columns = np.concatenate([event_track, history_track])
    # COO → CSR sums duplicates: one cell per (listener, track).
    summed = sp.coo_matrix((values, (rows, columns)), shape=(n_listeners, n_tracks)).tocsr()
    summed.sum_duplicates()
    summed.data = np.clip(summed.data, -weights.cap, weights.cap)
    keep = summed.data > 0 if not keep_negative else summed.data != 0
    summed.data = np.where(keep, summed.data, 0.0)
    summed.eliminate_zeros()
    return summed.astype(np.float32)


@dataclass(frozen=True)
class MetadataKind:
    """One kind of metadata row: which group (artist, album, genre) each track belongs to.

    ``track`` and ``group`` are parallel: the pair ``(track[i], group[i])`` says track
    ``track[i]`` is in group ``group[i]`` (a track may be in several: co-credited artists, many
    genres). ``weight`` is the value of the group's row at each of its tracks, relative to one
    listener's full play (issue #11: artist ~2, album ~2.5, genre ≤ 1; seeds, see
    docs/evaluation.md once tuned)."""

    name: str
    track: IntArray
    group: IntArray
    n_groups: int
    weight: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "track", np.asarray(self.track, dtype=np.int64))
        object.__setattr__(self, "group", np.asarray(self.group, dtype=np.int64))
        if len(self.track) != len(self.group):
            raise ValueError(f"{self.name}: track and group need one value per pair")
        if len(self.group) and (self.group.min() < 0 or self.group.max() >= self.n_groups):
            raise ValueError(f"{self.name}: a group index is outside 0..{self.n_groups - 1}")


def metadata_rows(n_tracks: int, kind: MetadataKind) -> sp.csr_matrix:
    """The ``kind.n_groups × n_tracks`` rows of one metadata kind: ``kind.weight`` at every
    (group, track) pair (a pair listed twice still counts once)."""
    incidence = sp.coo_matrix(
        (np.ones(len(kind.track)), (kind.group, kind.track)), shape=(kind.n_groups, n_tracks)
    ).tocsr()
    incidence.sum_duplicates()
    incidence.data = np.full(len(incidence.data), kind.weight)
    return incidence.astype(np.float32)


@dataclass(frozen=True)
class TrainingMatrix:
    """The stacked training matrix and where each block of rows lies.

    ``matrix`` rows: the listeners first (``0 .. n_listeners - 1``), then one block per
    metadata kind in the order given; ``blocks[name] = (start, stop)``, so artist ``a`` is row
    ``blocks["artist"][0] + a``; ``weights[name]`` is the value of that block's cells. Columns
    are tracks."""

    matrix: sp.csr_matrix
    n_listeners: int
    blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_tracks(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def listeners(self) -> sp.csr_matrix:
        """The listener rows alone."""
        return self.matrix[: self.n_listeners]


def stack_training_matrix(
    listeners: sp.spmatrix, kinds: Sequence[MetadataKind] = ()
) -> TrainingMatrix:
    """Stack the metadata rows of ``kinds`` (in order) under the listener rows. A kind with
    weight 0 is left out entirely."""
    listeners = sp.csr_matrix(listeners, dtype=np.float32)
    n_listeners, n_tracks = listeners.shape
    parts = [listeners]
    blocks = {"listeners": (0, n_listeners)}
    weights: dict[str, float] = {}
    start = n_listeners
    for kind in kinds:
        if kind.name in blocks:
            raise ValueError(f"metadata kind {kind.name!r} given twice")
        if kind.weight == 0:
            continue
        parts.append(metadata_rows(n_tracks, kind))
        blocks[kind.name] = (start, start + kind.n_groups)
        weights[kind.name] = kind.weight
        start += kind.n_groups
    matrix = sp.vstack(parts, format="csr").astype(np.float32)
    return TrainingMatrix(matrix=matrix, n_listeners=n_listeners, blocks=blocks, weights=weights)


def new_track_columns(
    training: TrainingMatrix, n_new: int, kinds: Sequence[MetadataKind]
) -> sp.csr_matrix:
    """The columns that ``n_new`` tracks added after training would have had in
    ``training.matrix``, from their metadata alone: an ``n_new × training.n_rows`` CSR matrix
    (items × "users", the shape :meth:`AlsModel.fold_in_tracks` reads).

    ``kinds`` give the new tracks' memberships: ``track`` indexes the new tracks
    ``0 .. n_new - 1``, ``group`` the groups of the training blocks of the same name (an
    artist first seen after training has no row and is left out). The weights are the
    training ones (``kind.weight`` is not read), so a new track looks exactly as it would have
    in training had nobody played it."""
    parts = []
    for kind in kinds:
        if kind.name not in training.blocks or kind.name == "listeners":
            continue
        start, stop = training.blocks[kind.name]
        known = kind.group < stop - start
        trained_kind = MetadataKind(
            name=kind.name,
            track=kind.track[known],
            group=kind.group[known] + start,
            n_groups=training.n_rows,
            weight=training.weights[kind.name],
        )
        parts.append(metadata_rows(n_new, trained_kind).T.tocsr())
    if not parts:
        return sp.csr_matrix((n_new, training.n_rows), dtype=np.float32)
    combined = parts[0]
    for part in parts[1:]:
        combined = combined + part
    return sp.csr_matrix(combined, dtype=np.float32)
