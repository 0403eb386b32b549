"""Offline evaluation: a per-listener split and a model evaluated over it with :mod:`.metrics`.

The protocol (the one issue #11's figures use): each listener's positive cells are split at
random, 20 % held out; the model trains on the rest (plus metadata rows, when given) and ranks
every track the listener has not trained on; a held-out track in the top ``k`` is a hit.
Parameters are tuned on a validation split carved from the training part the same way
(:func:`train_validation_test`), never on the test split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from . import metrics
from .models import Model, top_n

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Split:
    """``train``: the listener × track matrix with the held-out cells removed; ``held_out[u]``:
    listener ``u``'s held-out tracks (empty for a listener with fewer than two positive
    cells, who is trained on but not evaluated)."""

    train: sp.csr_matrix
    held_out: list[IntArray]

    @property
    def evaluated(self) -> IntArray:
        """The listeners with something held out."""
        return np.flatnonzero([len(items) > 0 for items in self.held_out]).astype(np.int64)


def split_per_listener(matrix: sp.spmatrix, share: float = 0.2, seed: int = 0) -> Split:
    """Hold out ``round(share * cells)`` (at least 1) of each listener's positive cells, chosen
    at random with ``seed`` (the same seed, the same split). Negative cells stay in training."""
    if not 0 < share < 1:
        raise ValueError("share must be between 0 and 1")
    rows = sp.csr_matrix(matrix, dtype=np.float32, copy=True)  # never touch the caller's
    rows.sort_indices()
    rng = np.random.default_rng(seed)
    keep = np.ones(rows.nnz, dtype=bool)
    held_out: list[IntArray] = []
    for u in range(rows.shape[0]):
        start, stop = rows.indptr[u], rows.indptr[u + 1]
        positive = start + np.flatnonzero(rows.data[start:stop] > 0)
        if len(positive) < 2:
            held_out.append(np.zeros(0, dtype=np.int64))
            continue
        count = max(1, round(share * len(positive)))
        chosen = np.sort(rng.choice(positive, size=count, replace=False))
        keep[chosen] = False
        held_out.append(rows.indices[chosen].astype(np.int64))
    train = sp.csr_matrix(
        (rows.data * keep, rows.indices.copy(), rows.indptr.copy()),
        shape=rows.shape,
        dtype=np.float32,
    )
    train.eliminate_zeros()
    return Split(train=train, held_out=held_out)


def train_validation_test(
    matrix: sp.spmatrix, share: float = 0.2, seed: int = 0
) -> tuple[Split, Split]:
    """``(validation, test)``: the test split of ``matrix``, and a validation split carved the
    same way from the test split's training part (seed ``seed + 1``). Tune on ``validation``
    (train on ``validation.train``, score on ``validation.held_out``); report on ``test``."""
    test = split_per_listener(matrix, share, seed)
    validation = split_per_listener(test.train, share, seed + 1)
    return validation, test


@dataclass(frozen=True)
class Evaluation:
    """Means over the evaluated listeners (recall, NDCG) and figures over all their lists."""

    k: int
    listeners: int
    recall: float
    ndcg: float
    coverage: float
    novelty: float
    diversity: float | None
    gini: float
    fit_seconds: float
    score_seconds: float


def evaluate(
    model: Model,
    split: Split,
    k: int = 10,
    *,
    extra_rows: sp.spmatrix | None = None,
    features: npt.ArrayLike | None = None,
    batch: int = 512,
    fit: bool = True,
) -> Evaluation:
    """Fit ``model`` on ``split.train`` (with ``extra_rows``, e.g. metadata rows, stacked
    under it; ``fit=False`` when it is fitted already), rank for every evaluated listener the
    tracks they did not train on, and measure the top ``k``. ``features`` (a row per track:
    standardised audio features, genre one-hots) gives intra-list diversity; without it
    ``diversity`` is None. Listeners are scored ``batch`` at a time (a dense batch × tracks
    array)."""
    train = split.train
    started = time.perf_counter()
    if fit:
        fitted = train if extra_rows is None else sp.vstack([train, extra_rows], format="csr")
        model.fit(sp.csr_matrix(fitted, dtype=np.float32))
    fitted_at = time.perf_counter()
    users = split.evaluated
    lists: list[IntArray] = []
    for start in range(0, len(users), batch):
        chunk = users[start : start + batch]
        rows = train[chunk]
        top = top_n(model.score(rows), k, exclude=rows)
        lists.extend(row[row >= 0] for row in top)
    scored_at = time.perf_counter()
    n_tracks = int(train.shape[1])
    positive = train.copy()
    positive.data = (positive.data > 0).astype(np.float32)
    track_listeners = np.asarray(positive.sum(axis=0)).ravel()
    held = [split.held_out[u] for u in users]
    return Evaluation(
        k=k,
        listeners=len(users),
        recall=float(
            np.mean([metrics.recall_at_k(r, h, k) for r, h in zip(lists, held, strict=True)])
        )
        if len(users)
        else 0.0,
        ndcg=float(np.mean([metrics.ndcg_at_k(r, h, k) for r, h in zip(lists, held, strict=True)]))
        if len(users)
        else 0.0,
        coverage=metrics.coverage(lists, n_tracks),
        novelty=metrics.novelty(lists, track_listeners, int(train.shape[0])),
        diversity=None if features is None else metrics.intra_list_diversity(lists, features),
        gini=metrics.gini(lists, n_tracks),
        fit_seconds=fitted_at - started,
        score_seconds=scored_at - fitted_at,
    )
