"""Offline evaluation metrics over plain arrays (SPEC §6 "Offline evaluation").

Two kinds:

- per list, then averaged over listeners by the caller: :func:`recall_at_k`, :func:`ndcg_at_k`;
- over all the lists served to a population: :func:`coverage`, :func:`novelty`,
  :func:`intra_list_diversity`, :func:`gini`.

A "list" is a 1-d array of track indices, best first. Relevance is binary: a track is relevant
when it is in the listener's held-out set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def _hits(recommended: ArrayLike, relevant: ArrayLike, k: int) -> npt.NDArray[np.bool_]:
    if k < 1:
        raise ValueError("k must be at least 1")
    top = np.asarray(recommended, dtype=np.int64)[:k]
    return np.isin(top, np.asarray(relevant, dtype=np.int64))


def recall_at_k(recommended: ArrayLike, relevant: ArrayLike, k: int) -> float:
    """Share of the relevant tracks found in the first ``k`` recommended, normalised by
    ``min(k, len(relevant))`` so that a perfect list scores 1 even when the listener has more
    than ``k`` held-out tracks (the normalisation of Liang et al. 2018, "Variational
    Autoencoders for Collaborative Filtering"). A listener with nothing held out scores 0; the
    evaluation leaves such listeners out."""
    relevant_count = len(np.unique(np.asarray(relevant)))
    if relevant_count == 0:
        return 0.0
    return float(_hits(recommended, relevant, k).sum() / min(k, relevant_count))


def ndcg_at_k(recommended: ArrayLike, relevant: ArrayLike, k: int) -> float:
    """Normalised discounted cumulative gain with binary relevance: a hit at rank ``r`` (0-based)
    gains ``1 / log2(r + 2)``; the ideal list puts ``min(k, len(relevant))`` hits first."""
    relevant_count = len(np.unique(np.asarray(relevant)))
    if relevant_count == 0:
        return 0.0
    hits = _hits(recommended, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float(discounts[: len(hits)][hits].sum())
    ideal = float(discounts[: min(k, relevant_count)].sum())
    return dcg / ideal


def coverage(lists: Sequence[ArrayLike], n_tracks: int) -> float:
    """Catalog coverage: the share of the ``n_tracks`` catalog tracks that appear in at least one
    list."""
    if n_tracks < 1:
        raise ValueError("n_tracks must be at least 1")
    seen = _concatenate(lists)
    return len(np.unique(seen)) / n_tracks


def novelty(lists: Sequence[ArrayLike], track_listeners: ArrayLike, n_listeners: int) -> float:
    """Mean self-information of the recommended tracks, in bits: ``-log2(p)`` where ``p`` is the
    share of the ``n_listeners`` training listeners who interacted with the track
    (``track_listeners[t]`` of them). Higher is less obvious. A track nobody interacted with
    counts as one listener's (its information is bounded at ``log2(n_listeners)``, the most a
    single training listener could reveal), so the mean stays finite. Averaged over every
    recommended slot of every list."""
    counts = np.asarray(track_listeners, dtype=np.float64)
    recommended = _concatenate(lists)
    if len(recommended) == 0:
        return 0.0
    shares = np.maximum(counts[recommended], 1.0) / n_listeners
    return float(np.mean(-np.log2(shares)))


def intra_list_diversity(lists: Sequence[ArrayLike], features: npt.ArrayLike) -> float:
    """Mean over lists of ``1 - mean pairwise cosine similarity`` of the listed tracks' feature
    vectors (rows of ``features``: standardised audio features, genre one-hots, or both side by
    side). A zero vector is similar to nothing (cosine 0). Lists of fewer than two tracks have no
    pairs and are left out; with no such list at all the result is 0."""
    matrix = np.asarray(features, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1)
    unit = np.divide(matrix, norms[:, None], out=np.zeros_like(matrix), where=norms[:, None] > 0)
    per_list = []
    for items in lists:
        rows = unit[np.asarray(items, dtype=np.int64)]
        size = len(rows)
        if size < 2:
            continue
        similarity = rows @ rows.T
        pairs_sum = (similarity.sum() - np.trace(similarity)) / 2
        per_list.append(1.0 - pairs_sum / (size * (size - 1) / 2))
    return float(np.mean(per_list)) if per_list else 0.0


def gini(lists: Sequence[ArrayLike], n_tracks: int) -> float:
    """Gini coefficient of how often each of the ``n_tracks`` catalog tracks is recommended
    (tracks never recommended count as 0): 0 when every track is recommended equally often,
    ``(n - 1) / n`` when a single track takes every slot. With ``x`` sorted ascending and ranks
    ``i = 1..n``: ``sum((2i - n - 1) * x_i) / (n * sum(x))``."""
    counts = np.bincount(_concatenate(lists), minlength=n_tracks).astype(np.float64)
    total = counts.sum()
    if total == 0:
        return 0.0
    ordered = np.sort(counts)
    n = len(ordered)
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * ordered).sum() / (n * total))


def _concatenate(lists: Sequence[ArrayLike]) -> IntArray:
    parts = [np.asarray(items, dtype=np.int64).ravel() for items in lists]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
