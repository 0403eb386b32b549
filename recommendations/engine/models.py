"""Collaborative models over a listener × track matrix (:mod:`.matrix`).

Every model has the same small interface:

- ``fit(matrix)``: learn from a CSR training matrix (rows: listeners, then metadata rows if any;
  columns: tracks). Returns the model.
- ``score(user_rows)``: a dense ``len(rows) × n_tracks`` array of scores for the given listener
  rows (CSR, in the training matrix's track columns). A listener need not be in the training
  matrix: every model folds a row in from its cells alone. Higher is better; ``-inf`` marks a
  track the model has no score for (EASE outside its most-played tracks). Scores are on each
  model's own scale: compare them within a row, or z-score them (:func:`zscore_top`).
Explanations read :meth:`EaseModel.contributions` and the ALS track vectors (the listened
track closest to a recommendation).

The defaults are issue #11's figures for mpd_subset ("What is known"); the site's values come from
``TrainingParams`` / ``RECOMMENDER``, tuned on validation by ``manage.py evaluate_recommender``
(docs/evaluation.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Self

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.floating]

#: Above this many tracks EASE's Gram matrix is inverted in float32 (half the memory: 8.5k
#: tracks take 290 MB instead of 580 MB); below it in float64.
EASE_FLOAT64_MAX_TRACKS = 4096


class Model(Protocol):
    def fit(self, matrix: sp.csr_matrix) -> Self: ...

    def score(self, user_rows: sp.csr_matrix) -> FloatArray: ...


def _csr(rows: sp.spmatrix | npt.ArrayLike) -> sp.csr_matrix:
    return sp.csr_matrix(rows, dtype=np.float32)


def _column_counts(matrix: sp.csr_matrix) -> IntArray:
    """How many rows have a positive cell in each column."""
    positive = _csr(matrix)
    positive.data = (positive.data > 0).astype(np.float32)
    return np.asarray(positive.sum(axis=0)).ravel().astype(np.int64)


def _keep_top_per_row(block: FloatArray, k: int) -> sp.csr_matrix:
    """The ``k`` largest absolute values of each row of a dense block, as CSR; the rest 0."""
    n_rows, n_columns = block.shape
    if k >= n_columns:
        return sp.csr_matrix(block)
    top = np.argpartition(-np.abs(block), k - 1, axis=1)[:, :k]
    rows = np.repeat(np.arange(n_rows), k)
    values = block[rows, top.ravel()]
    kept = sp.csr_matrix((values, (rows, top.ravel())), shape=block.shape)
    kept.eliminate_zeros()
    return kept


@dataclass
class EaseModel:
    """EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): the item-item
    weight matrix ``B = argmin ||X - XB||² + λ||B||²`` with a zero diagonal, in closed form:
    ``P = (XᵀX + λI)⁻¹``, ``B_ij = -P_ij / P_jj``. A listener's scores are ``x_u B``.

    - ``l2`` (λ, 100): the issue's tuned range on mpd_subset is 100–150.
    - ``max_tracks`` (8,500): the Gram matrix is dense, tracks² (8.5k: 290 MB in float32;
      90k would be 32 GB), so only the most-played ``max_tracks`` columns (most rows with a
      positive cell, ties by index) are modelled; the rest score ``-inf`` and are left to ALS.
      ``None``: every column with a positive cell.
    - ``neighbours`` (None): keep only each track's ``neighbours`` largest weights (by absolute
      value) in a sparse ``B``, for storage and fast scoring; ``None`` keeps ``B`` dense.

    After ``fit``: ``tracks_`` (the modelled columns, ascending), ``weights_`` (``B`` over them,
    dense array or CSR), ``n_tracks_``.
    """

    l2: float = 100.0
    max_tracks: int | None = 8_500
    neighbours: int | None = None
    tracks_: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    weights_: FloatArray | sp.csr_matrix = field(default_factory=lambda: np.zeros((0, 0)))
    n_tracks_: int = 0

    def fit(self, matrix: sp.csr_matrix, count_rows: int | None = None) -> Self:
        """``count_rows``: rank the columns by the positive cells of the first ``count_rows``
        rows only (the listeners of a matrix with metadata rows stacked under them), so that
        the modelled columns are the most *played* and a track nobody played is left to ALS
        (metadata rows would otherwise count every credited track as played)."""
        matrix = _csr(matrix)
        counts = _column_counts(matrix if count_rows is None else matrix[:count_rows])
        played = np.flatnonzero(counts > 0)
        if self.max_tracks is not None and len(played) > self.max_tracks:
            # stable sort: among equal counts the lower index wins, so fits are reproducible
            order = np.argsort(-counts[played], kind="stable")[: self.max_tracks]
            played = np.sort(played[order])
        self.tracks_ = played.astype(np.int64)
        self.n_tracks_ = int(matrix.shape[1])
        dtype = np.float64 if len(played) <= EASE_FLOAT64_MAX_TRACKS else np.float32
        columns = matrix[:, played].astype(dtype)
        gram: FloatArray = (columns.T @ columns).toarray().astype(dtype, copy=False)
        gram[np.diag_indices_from(gram)] += self.l2
        precision = _inverse_spd(gram)
        weights = precision / -np.diag(precision)[None, :]
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = (
            weights if self.neighbours is None else _keep_top_per_row(weights, self.neighbours)
        )
        return self

    def score(self, user_rows: sp.csr_matrix) -> FloatArray:
        rows = _csr(user_rows)
        scores = np.full((rows.shape[0], self.n_tracks_), -np.inf, dtype=np.float32)
        if len(self.tracks_):
            product = rows[:, self.tracks_] @ self.weights_
            scores[:, self.tracks_] = product.toarray() if sp.issparse(product) else product
        return scores

    def sparse(self, neighbours: int) -> EaseModel:
        """A copy keeping only each track's ``neighbours`` largest weights (by absolute value),
        as ``EaseModel(neighbours=…).fit`` would give, without fitting again: what a web
        process holds (8.5k tracks × 200 neighbours: 1.7M weights instead of 72M). On
        mpd_subset top 200 cost 1 % of NDCG@10 (docs/evaluation.md)."""
        weights: Any = self.weights_
        dense = weights.toarray() if sp.issparse(weights) else np.asarray(weights)
        return EaseModel(
            l2=self.l2,
            max_tracks=self.max_tracks,
            neighbours=neighbours,
            tracks_=self.tracks_,
            weights_=_keep_top_per_row(dense, neighbours),
            n_tracks_=self.n_tracks_,
        )

    def contributions(
        self, user_row: sp.csr_matrix, targets: npt.ArrayLike
    ) -> tuple[IntArray, FloatArray]:
        """How much each of one listener's tracks adds to each target's score: ``(sources,
        parts)``, the listener's tracks inside the model and a ``len(targets) × len(sources)``
        array of ``x_ui * B_ij`` (a row of 0 for a target outside the model). The largest
        part names the "because" track of an explanation."""
        row = _csr(user_row)
        targets = np.asarray(targets, dtype=np.int64)
        source_positions, source_inside = self._positions(row.indices)
        sources = row.indices[source_inside].astype(np.int64)
        values = row.data[source_inside].astype(np.float64)
        target_positions, target_inside = self._positions(targets)
        parts = np.zeros((len(targets), len(sources)))
        if len(sources) and target_inside.any():
            weights: Any = self.weights_  # dense array or CSR: both slice the same way
            block = weights[source_positions[source_inside]][:, target_positions[target_inside]]
            block = block.toarray() if sp.issparse(block) else np.asarray(block)
            parts[target_inside] = (block * values[:, None]).T
        return sources, parts

    def _positions(self, tracks: npt.ArrayLike) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Each track's position in ``tracks_`` and whether it is there at all."""
        tracks = np.asarray(tracks, dtype=np.int64)
        if not len(self.tracks_):
            return np.zeros(len(tracks), dtype=np.int64), np.zeros(len(tracks), dtype=bool)
        positions = np.minimum(np.searchsorted(self.tracks_, tracks), len(self.tracks_) - 1)
        return positions.astype(np.int64), self.tracks_[positions] == tracks


def _inverse_spd(matrix: FloatArray) -> FloatArray:
    """The inverse of a symmetric positive definite matrix by Cholesky (LAPACK potrf/potri:
    about half the work of a general inverse). Overwrites ``matrix``."""
    potrf, potri = scipy.linalg.get_lapack_funcs(("potrf", "potri"), (matrix,))
    factor, info = potrf(matrix, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky factorisation failed (info={info})")
    inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"inverse from the Cholesky factor failed (info={info})")
    upper = np.triu(inverse)
    return np.asarray(upper + np.triu(inverse, 1).T)


@dataclass
class AlsModel:
    """Implicit-feedback matrix factorisation (Hu, Koren, Volinsky 2008), trained with the
    ``implicit`` library's CPU ALS (conjugate gradient). As in ``implicit``, a positive cell
    ``r`` is "preference 1 with confidence ``alpha * r``", a negative cell "preference 0 with
    confidence ``alpha * |r|``" (see :mod:`.matrix`), an empty cell preference 0, confidence 1.

    - ``factors`` (256), ``regularization`` (100), ``alpha`` (40), ``iterations`` (30): the
      issue's strongly regularised setting, the only one that beat EASE on mpd_subset (0.208).
    - ``random_state`` (0): fixed, so a retraining on the same data gives the same vectors.
    - ``threads`` (0 = implicit's default, every core): OpenMP threads of implicit; numpy's
      BLAS is held at 1 thread around training (they fight otherwise: SETUP-NOTES.md).

    After ``fit``: ``user_factors_`` (one row per training-matrix row: listeners, then metadata
    rows) and ``item_factors_`` (one per track), float32: what pgvector stores. Fold-in needs
    nothing else (:func:`als_fold_in`), so a web process can rebuild the model from stored
    vectors with ``AlsModel(regularization=…, alpha=…, user_factors_=…, item_factors_=…)``.
    """

    factors: int = 256
    regularization: float = 100.0
    alpha: float = 40.0
    iterations: int = 30
    random_state: int = 0
    threads: int = 0
    user_factors_: FloatArray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    item_factors_: FloatArray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    # FᵀF of each side, computed on first fold-in (0.3 s for 90k × 256) and kept: the factors
    # are set once, by fit or at construction
    _grams: dict[str, FloatArray] = field(default_factory=dict, init=False, repr=False)

    def _gram(self, side: str) -> FloatArray:
        if side not in self._grams:
            factors = np.asarray(getattr(self, f"{side}_factors_"), dtype=np.float64)
            self._grams[side] = factors.T @ factors
        return self._grams[side]

    def fit(self, matrix: sp.csr_matrix) -> Self:
        # imported here: only training needs the library (a web process folds in with numpy)
        from implicit.cpu.als import AlternatingLeastSquares

        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.random_state,
                num_threads=self.threads,
            )
            model.fit(_csr(matrix), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)
        self._grams.clear()
        return self

    def user_vectors(self, user_rows: sp.csr_matrix) -> FloatArray:
        """Listener vectors folded in from their rows against the fixed track factors (one ALS
        half-step, what implicit's ``recalculate_user`` computes). An empty row gives the zero
        vector."""
        return als_fold_in(
            self.item_factors_, user_rows, self.regularization, self.alpha, self._gram("item")
        )

    def score(self, user_rows: sp.csr_matrix) -> FloatArray:
        return np.asarray(self.user_vectors(user_rows) @ self.item_factors_.T)

    def fold_in_tracks(self, columns: sp.csr_matrix) -> FloatArray:
        """Vectors for tracks added after training, from their columns in the training matrix
        (:func:`.matrix.new_track_columns`: their metadata rows, and any training listener who
        played them), solved against the fixed row factors (implicit's ``recalculate_item``).
        Not stored in the model; pgvector keeps them."""
        return als_fold_in(
            self.user_factors_, columns, self.regularization, self.alpha, self._gram("user")
        )


def als_fold_in(
    fixed: FloatArray,
    rows: sp.csr_matrix,
    regularization: float,
    alpha: float,
    gram: FloatArray | None = None,
) -> FloatArray:
    """One ALS half-step for new rows against fixed factors: for each row ``u`` of ``rows``
    (cells over the fixed side's indices), ``x_u = (FᵀF + Fᵀ(C_u - I)F + λI)⁻¹ FᵀC_u p_u`` with
    ``C_u = alpha * |cell|`` on its cells (1 elsewhere) and ``p_u = 1`` on positive cells. Pure
    numpy, the same equations as ``implicit``'s least-squares solver. ``gram``: ``FᵀF`` when
    the caller keeps it (the costly part with many fixed rows)."""
    rows = _csr(rows)
    n_factors = fixed.shape[1]
    if gram is None:
        wide = np.asarray(fixed, dtype=np.float64)
        gram = wide.T @ wide
    base = gram + regularization * np.eye(n_factors)
    result = np.zeros((rows.shape[0], n_factors), dtype=np.float32)
    for u in range(rows.shape[0]):
        start, stop = rows.indptr[u], rows.indptr[u + 1]
        if start == stop:
            continue
        factors = np.asarray(fixed[rows.indices[start:stop]], dtype=np.float64)
        confidence = alpha * rows.data[start:stop].astype(np.float64)
        magnitude = np.abs(confidence)
        system = base + (factors * (magnitude - 1.0)[:, None]).T @ factors
        target = (factors * np.where(confidence > 0, confidence, 0.0)[:, None]).sum(axis=0)
        result[u] = np.linalg.solve(system, target)
    return result


@dataclass
class ItemKnnModel:
    """Item-based nearest neighbours with cosine similarity between track columns: a
    listener's score for track ``j`` is ``sum_i x_ui * sim(i, j)`` over ``i``'s top
    ``neighbours`` (100, a seed; the issue's ItemKNN baseline reached 0.194 on mpd_subset).
    ``similarity_`` is the sparse track × track matrix after ``fit`` (row ``i``: ``i``'s
    neighbours, diagonal 0)."""

    neighbours: int = 100
    similarity_: sp.csr_matrix = field(default_factory=lambda: sp.csr_matrix((0, 0)), repr=False)

    def fit(self, matrix: sp.csr_matrix) -> Self:
        columns = sp.csc_matrix(matrix, dtype=np.float32)
        columns.data = np.maximum(columns.data, 0.0)  # similarity of what listeners want
        norms = np.sqrt(np.asarray(columns.multiply(columns).sum(axis=0)).ravel())
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        unit = sp.csc_matrix(columns @ sp.diags(inverse)).astype(np.float32)
        n_tracks = unit.shape[1]
        # row blocks of about 2^25 similarities (128 MB in float32) at a time
        block = max(1, 2**25 // max(n_tracks, 1))
        parts = []
        for start in range(0, n_tracks, block):
            stop = min(start + block, n_tracks)
            dense = np.asarray((unit[:, start:stop].T @ unit).toarray())
            dense[np.arange(stop - start), np.arange(start, stop)] = 0.0
            parts.append(_keep_top_per_row(dense, self.neighbours))
        self.similarity_ = (
            sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, 0), dtype=np.float32)
        )
        return self

    def score(self, user_rows: sp.csr_matrix) -> FloatArray:
        return np.asarray((_csr(user_rows) @ self.similarity_).toarray())


@dataclass
class PopularityModel:
    """Everyone gets the same scores: how many listeners have a positive cell for the track
    (``fit``), or time-decayed event weights (:func:`decayed_popularity`, set ``counts_``
    directly). The evaluation baseline and the popularity predictor's source."""

    counts_: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)

    def fit(self, matrix: sp.csr_matrix) -> Self:
        self.counts_ = _column_counts(matrix).astype(np.float64)
        return self

    def score(self, user_rows: sp.csr_matrix) -> FloatArray:
        return np.tile(self.counts_, (user_rows.shape[0], 1))


def decayed_popularity(
    *,
    n_tracks: int,
    track: npt.ArrayLike,
    age_days: npt.ArrayLike,
    weight: npt.ArrayLike | None = None,
    half_life_days: float = 7.0,
) -> FloatArray:
    """Trending: the sum over events of ``weight * 2^(-age_days / half_life_days)`` per track.

    ``track``, ``age_days`` (how long ago, ≥ 0) and ``weight`` are parallel, one per event
    (plays and likes; ``weight`` defaults to 1 per event, or pass :func:`.matrix.event_weights`
    with negative ones clipped to 0). ``half_life_days`` (7): a seed: an event a week old counts
    half, so the list follows the last weeks."""
    track = np.asarray(track, dtype=np.int64)
    age = np.maximum(np.asarray(age_days, dtype=np.float64), 0.0)
    weights = np.ones(len(track)) if weight is None else np.asarray(weight, dtype=np.float64)
    decayed = np.maximum(weights, 0.0) * np.exp2(-age / half_life_days)
    return np.bincount(track, weights=decayed, minlength=n_tracks).astype(np.float64)


@dataclass
class BlendModel:
    """Two or more models blended on per-listener z-scores over their top candidates
    (:func:`zscore_top`), weighted by ``weights`` (same order as ``models``; the issue's best
    mpd_subset result, 0.248, blends metadata-EASE and metadata-ALS this way, weights tuned on
    validation). A track outside one model's top ``pool`` gets that model's lowest z in the
    row (it is at most as good as the model's weakest candidate); outside every model's top it
    scores ``-inf``."""

    models: list[Model]
    weights: list[float]
    pool: int = 200

    def fit(self, matrix: sp.csr_matrix) -> Self:
        for model in self.models:
            model.fit(matrix)
        return self

    def score(self, user_rows: sp.csr_matrix) -> FloatArray:
        return blend_zscores([m.score(user_rows) for m in self.models], self.weights, self.pool)


def zscore_top(scores: FloatArray, pool: int) -> FloatArray:
    """Per row: the z-score (mean 0, standard deviation 1) of the ``pool`` best finite scores,
    ``-inf`` for every other track. A row whose pool has no spread gets z 0 throughout."""
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    n_rows, n_tracks = scores.shape
    result = np.full(scores.shape, -np.inf)
    if n_tracks == 0:
        return result
    pool = min(pool, n_tracks)
    top = np.argpartition(-scores, pool - 1, axis=1)[:, :pool]
    for row in range(n_rows):
        columns = top[row][np.isfinite(scores[row, top[row]])]
        if len(columns) == 0:
            continue
        values = scores[row, columns]
        spread = values.std()
        result[row, columns] = (values - values.mean()) / spread if spread > 0 else 0.0
    return result


def blend_zscores(per_model: list[FloatArray], weights: list[float], pool: int) -> FloatArray:
    """The weighted sum of per-model z-scores (:class:`BlendModel`)."""
    if len(per_model) != len(weights) or not per_model:
        raise ValueError("one weight per model, and at least one model")
    zscores = [zscore_top(scores, pool) for scores in per_model]
    in_any = np.zeros(zscores[0].shape, dtype=bool)
    blended = np.zeros(zscores[0].shape)
    for z, weight in zip(zscores, weights, strict=True):
        finite = np.isfinite(z)
        in_any |= finite
        floor = np.where(finite, z, np.inf).min(axis=1, keepdims=True)
        floor = np.where(np.isfinite(floor), floor, 0.0)
        blended += weight * np.where(finite, z, floor)
    return np.where(in_any, blended, -np.inf)


def top_n(scores: FloatArray, n: int, exclude: sp.csr_matrix | None = None) -> IntArray:
    """The ``n`` best columns per row, best first (``-inf`` never; fewer when a row has fewer
    finite scores: padded with -1). ``exclude``: a CSR of the same shape whose non-zero cells
    are left out (the listener's training tracks)."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None:
        excluded = sp.csr_matrix(exclude)
        rows = np.repeat(np.arange(excluded.shape[0]), np.diff(excluded.indptr))
        scores[rows, excluded.indices] = -np.inf
    n = min(n, scores.shape[1])
    top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    ordered = np.take_along_axis(
        top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable"), axis=1
    )
    finite = np.isfinite(np.take_along_axis(scores, ordered, axis=1))
    return np.where(finite, ordered, -1).astype(np.int64)
