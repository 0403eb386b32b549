"""The split and the evaluation loop, on a tiny synthetic dataset."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import evaluation
from recommendations.engine.models import EaseModel, ItemKnnModel, PopularityModel


def _communities(listeners: int = 200, tracks: int = 40, seed: int = 0) -> sp.csr_matrix:
    """Four communities of ten tracks; each listener plays 6 of their community's tracks, and
    one track of another community (noise). Track popularity is skewed within communities."""
    rng = np.random.default_rng(seed)
    cells = np.zeros((listeners, tracks), dtype=np.float32)
    weights = np.linspace(2.0, 1.0, 10)
    for u in range(listeners):
        base = 10 * (u % 4)
        cells[u, base + rng.choice(10, size=6, replace=False, p=weights / weights.sum())] = 1.0
        cells[u, rng.integers(tracks)] = 1.0
    return sp.csr_matrix(cells)


def test_split_holds_out_a_fifth_of_each_listeners_positive_cells():
    # given five listeners with ten positive cells and one negative, one with a single cell
    cells = np.zeros((6, 12), dtype=np.float32)
    cells[:5, :10] = 1.0
    cells[:5, 11] = -0.5
    cells[5, 3] = 1.0

    # when
    split = evaluation.split_per_listener(sp.csr_matrix(cells), 0.2, seed=4)

    # then two held out per full listener, none from the single-cell one; negatives stay
    assert [len(h) for h in split.held_out] == [2, 2, 2, 2, 2, 0]
    assert split.evaluated.tolist() == [0, 1, 2, 3, 4]
    train = split.train.toarray()
    for u in range(5):
        assert (train[u, split.held_out[u]] == 0).all()
        assert (train[u, :10] > 0).sum() == 8
        assert train[u, 11] == -0.5
    assert train[5, 3] == 1.0


def test_split_is_fixed_by_its_seed():
    matrix = _communities()
    before = matrix.toarray()

    first = evaluation.split_per_listener(matrix, seed=1)
    again = evaluation.split_per_listener(matrix, seed=1)
    other = evaluation.split_per_listener(matrix, seed=2)

    assert all((a == b).all() for a, b in zip(first.held_out, again.held_out, strict=True))
    assert any(
        set(a.tolist()) != set(b.tolist())
        for a, b in zip(first.held_out, other.held_out, strict=True)
    )
    # and the caller's matrix is left as it was
    assert (matrix.toarray() == before).all()


def test_validation_is_carved_from_the_training_part():
    # given / when
    validation, test = evaluation.train_validation_test(_communities(), seed=0)

    # then validation's held-out tracks are training tracks of the test split, never test ones
    for u in test.evaluated:
        held = set(validation.held_out[u].tolist())
        assert held <= set(test.train[u].indices.tolist())
        assert not held & set(test.held_out[u].tolist())
    assert validation.train.nnz < test.train.nnz


def test_evaluate_ranks_models_sensibly():
    # given
    validation, _ = evaluation.train_validation_test(_communities(), seed=0)
    features = np.eye(4)[np.arange(40) // 10]  # each community its own "genre"

    # when
    popularity = evaluation.evaluate(PopularityModel(), validation, 5, features=features)
    ease = evaluation.evaluate(EaseModel(l2=10.0), validation, 5, features=features)
    knn = evaluation.evaluate(ItemKnnModel(neighbours=20), validation, 5)

    # then the collaborative models find the community, popularity cannot
    assert ease.ndcg > 2 * popularity.ndcg
    assert knn.ndcg > 2 * popularity.ndcg
    assert ease.listeners == 200
    for result in (popularity, ease):
        assert 0 <= result.recall <= 1 and 0 <= result.ndcg <= 1
        assert 0 < result.coverage <= 1 and 0 <= result.gini < 1
        assert result.novelty > 0
        assert result.diversity is not None
    # popularity serves everyone nearly the same list: less coverage, more concentration
    assert popularity.coverage < ease.coverage
    assert popularity.gini > ease.gini
    assert knn.diversity is None


def test_evaluate_stacks_extra_rows_under_the_training_listeners():
    # given an extra row tying tracks 0 and 39 together strongly
    validation, _ = evaluation.train_validation_test(_communities(), seed=0)
    extra = sp.csr_matrix(([50.0, 50.0], ([0, 0], [0, 39])), shape=(1, 40))
    model = EaseModel(l2=10.0)

    # when
    evaluation.evaluate(model, validation, 5, extra_rows=extra)

    # then the model saw it
    assert model.weights_[0, 39] > 0.1
    with pytest.raises(ValueError, match="share"):
        evaluation.split_per_listener(_communities(), share=1.0)
