"""The collaborative models on small matrices with hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recommendations.engine import matrix, models
from recommendations.engine.models import AlsModel, EaseModel, ItemKnnModel, PopularityModel


def csr(rows: list[list[float]]) -> sp.csr_matrix:
    return sp.csr_matrix(np.array(rows, dtype=np.float32))


def test_ease_two_tracks_closed_form():
    # given XᵀX = [[3, 2], [2, 3]] and λ = 1: with a zero diagonal, B_01 = 2 / (3 + 1)
    train = csr([[1, 1], [1, 0], [0, 1], [1, 1]])

    # when
    model = EaseModel(l2=1.0).fit(train)

    # then
    assert model.weights_ == pytest.approx(np.array([[0.0, 0.5], [0.5, 0.0]]))
    assert model.score(csr([[1, 0]])).tolist() == [[0.0, 0.5]]


def test_ease_weights_satisfy_the_optimality_conditions():
    # given a random binary matrix and λ = 2
    rng = np.random.default_rng(3)
    train = sp.csr_matrix((rng.random((30, 8)) < 0.4).astype(np.float32))
    gram = (train.T @ train).toarray().astype(np.float64)

    # when
    weights = EaseModel(l2=2.0).fit(train).weights_

    # then: zero diagonal, and off the diagonal the gradient of ||X - XB||² + λ||B||² vanishes:
    # ((G + λI) B - G)_ij = 0 for i ≠ j
    assert np.diag(weights) == pytest.approx(np.zeros(8))
    residual = (gram + 2.0 * np.eye(8)) @ weights - gram
    residual[np.diag_indices(8)] = 0.0
    assert np.abs(residual).max() < 1e-9


def test_ease_models_only_the_most_played_tracks():
    # given track counts 3, 1, 2, 0 (rows with a positive cell) and room for two tracks
    train = csr([[1, 1, 1, 0], [1, 0, 1, 0], [1, 0, 0, 0]])

    # when
    model = EaseModel(l2=1.0, max_tracks=2).fit(train)
    scores = model.score(csr([[1, 0, 0, 0]]))

    # then tracks 0 and 2 are modelled; 1 and 3 have no score
    assert model.tracks_.tolist() == [0, 2]
    assert np.isneginf(scores[0, [1, 3]]).all()
    assert np.isfinite(scores[0, [0, 2]]).all()


def test_ease_sparse_neighbours_keep_each_tracks_strongest_weights():
    # given
    rng = np.random.default_rng(5)
    train = sp.csr_matrix((rng.random((40, 6)) < 0.5).astype(np.float32))
    dense = EaseModel(l2=1.0).fit(train).weights_

    # when
    sparse = EaseModel(l2=1.0, neighbours=2).fit(train).weights_

    # then each row keeps its two largest |weights|, unchanged
    assert sp.issparse(sparse)
    assert (np.diff(sparse.indptr) == 2).all()
    for row in range(6):
        strongest = set(np.argsort(-np.abs(dense[row]))[:2].tolist())
        assert set(sparse[row].indices.tolist()) == strongest
        assert sparse[row].data == pytest.approx(dense[row, sparse[row].indices])
    # and it scores with the kept weights only; a fitted dense model sparsifies the same way
    listener = csr([[1, 0, 2, 0, 0, 0]])
    scores = EaseModel(l2=1.0, neighbours=2).fit(train).score(listener)
    assert scores[0] == pytest.approx(sparse[0].toarray()[0] + 2 * sparse[2].toarray()[0])
    copied = EaseModel(l2=1.0).fit(train).sparse(2)
    assert copied.weights_.toarray() == pytest.approx(sparse.toarray())
    assert copied.score(listener) == pytest.approx(scores)


def test_ease_contributions_name_the_listened_track_behind_a_score():
    # given a fitted model and a listener with track 0 (cell 1) and track 1 (cell 2)
    rng = np.random.default_rng(7)
    train = sp.csr_matrix((rng.random((30, 4)) < 0.5).astype(np.float32))
    model = EaseModel(l2=1.0).fit(train)
    row = csr([[1, 2, 0, 0]])

    # when
    sources, parts = model.contributions(row, np.array([2, 3]))

    # then x_ui * B_ij per source, summing to the score
    weights = model.weights_
    assert sources.tolist() == [0, 1]
    assert parts[0].tolist() == pytest.approx([weights[0, 2], 2 * weights[1, 2]])
    assert parts.sum(axis=1) == pytest.approx(model.score(row)[0, [2, 3]], rel=1e-5)


def test_ease_contributions_leave_tracks_outside_the_model_out():
    # given track 3 is never played, so outside the model
    train = csr([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 0]])
    model = EaseModel(l2=1.0).fit(train)

    # when the listener has tracks 0 and 3, and the targets are 1 and 3
    sources, parts = model.contributions(csr([[1, 0, 0, 1]]), [1, 3])

    # then only track 0 is a source; target 3 gets nothing
    assert sources.tolist() == [0]
    assert parts == pytest.approx(np.array([[model.weights_[0, 1]], [0.0]]))


def _communities(seed: int = 0) -> sp.csr_matrix:
    """40 listeners: the first 20 play from tracks 0–4, the others from tracks 5–9."""
    rng = np.random.default_rng(seed)
    cells = np.zeros((40, 10), dtype=np.float32)
    for listener in range(40):
        side = 0 if listener < 20 else 5
        cells[listener, side + rng.choice(5, size=3, replace=False)] = 1.0
    return sp.csr_matrix(cells)


def test_als_recommends_within_the_listeners_community():
    # given
    model = AlsModel(factors=2, regularization=1.0, alpha=10.0, iterations=15)
    model.fit(_communities())

    # when a new listener has played tracks 0 and 1
    scores = model.score(csr([[1, 1, 0, 0, 0, 0, 0, 0, 0, 0]]))[0]

    # then the rest of that community outranks the other one
    assert scores[2:5].min() > scores[5:].max()
    assert model.user_factors_.shape == (40, 2)
    assert model.item_factors_.shape == (10, 2)


def test_als_rebuilt_from_stored_vectors_folds_in_the_same():
    # given a trained model, and one rebuilt from its vectors as a web process would
    trained = AlsModel(factors=2, regularization=1.0, alpha=10.0, iterations=5).fit(_communities())
    rebuilt = AlsModel(
        regularization=1.0,
        alpha=10.0,
        user_factors_=trained.user_factors_.copy(),
        item_factors_=trained.item_factors_.copy(),
    )
    rows = csr([[1, 0, 1, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2, 0, 0, 0, 0]])

    # when / then (twice: the second call uses the kept Gram matrix)
    for _ in range(2):
        assert rebuilt.score(rows) == pytest.approx(trained.score(rows), rel=1e-5)
    assert rebuilt.user_vectors(rows) == pytest.approx(
        models.als_fold_in(trained.item_factors_, rows, 1.0, 10.0), rel=1e-5
    )


def test_als_fold_in_matches_implicits_recalculate_user():
    # given an implicit model trained directly, and rows with positive and negative cells
    from implicit.cpu.als import AlternatingLeastSquares

    with threadpool_limits(1, "blas"):
        reference = AlternatingLeastSquares(
            factors=4, regularization=0.5, alpha=3.0, iterations=5, random_state=1
        )
        reference.fit(_communities(), show_progress=False)
        rows = csr([[2, 1, 0, 0, 0, 0, 0, -0.5, 0, 0], [0] * 10])
        expected = reference.recalculate_user(np.arange(2), rows)

    # when
    vectors = models.als_fold_in(reference.item_factors, rows, 0.5, 3.0)

    # then the same half-step; an empty row folds in to zero
    assert vectors == pytest.approx(expected, rel=1e-3, abs=1e-5)
    assert vectors[1].tolist() == [0.0] * 4


def test_als_folds_in_a_new_track_from_its_artist_row():
    # given artist 0 with tracks 0–4, artist 1 with tracks 5–9, as metadata rows of weight 2
    artists = matrix.MetadataKind(
        name="artist", track=np.arange(10), group=np.repeat([0, 1], 5), n_groups=2, weight=2.0
    )
    training = matrix.stack_training_matrix(_communities(), [artists])
    model = AlsModel(factors=2, regularization=1.0, alpha=10.0, iterations=15).fit(training.matrix)
    new_by_artist_1 = matrix.MetadataKind(
        name="artist", track=[0], group=[1], n_groups=2, weight=2.0
    )

    # when
    vector = model.fold_in_tracks(matrix.new_track_columns(training, 1, [new_by_artist_1]))[0]

    # then it lies with artist 1's tracks
    unit = model.item_factors_ / np.linalg.norm(model.item_factors_, axis=1, keepdims=True)
    cosine = unit @ (vector / np.linalg.norm(vector))
    assert cosine[5:].min() > cosine[:5].max()


def test_itemknn_cosine_between_track_columns():
    # given columns [1,1,0], [1,1,1], [0,0,1]: cos(0,1) = 2/√6, cos(1,2) = 1/√3, cos(0,2) = 0
    train = csr([[1, 1, 0], [1, 1, 0], [0, 1, 1]])

    # when
    model = ItemKnnModel(neighbours=2).fit(train)

    # then
    expected = np.array(
        [
            [0, 2 / math.sqrt(6), 0],
            [2 / math.sqrt(6), 0, 1 / math.sqrt(3)],
            [0, 1 / math.sqrt(3), 0],
        ]
    )
    assert model.similarity_.toarray() == pytest.approx(expected, rel=1e-6)
    assert model.score(csr([[1, 0, 0]]))[0] == pytest.approx([0, 2 / math.sqrt(6), 0])


def test_itemknn_keeps_the_top_neighbours_per_track():
    train = csr([[1, 1, 0], [1, 1, 0], [0, 1, 1]])

    similarity = ItemKnnModel(neighbours=1).fit(train).similarity_

    # track 1's single neighbour is track 0 (2/√6 > 1/√3)
    assert similarity[1].indices.tolist() == [0]


def test_popularity_counts_listeners_and_decays_with_time():
    # given
    train = csr([[1, 0, 2], [1, 0, 0], [-1, 0, 1]])

    # when / then: positive cells per track
    assert PopularityModel().fit(train).score(csr([[0, 0, 0]])).tolist() == [[2, 0, 2]]
    # an event a half-life old counts half; negative weights count 0
    trending = models.decayed_popularity(
        n_tracks=3,
        track=[0, 0, 1, 2],
        age_days=[0, 7, 14, 0],
        weight=[1, 1, 2, -0.5],
        half_life_days=7.0,
    )
    assert trending.tolist() == pytest.approx([1.5, 0.5, 0.0])


def test_zscore_over_the_top_candidates():
    # given one row; pool of 3 then 2
    scores = np.array([[1.0, 2.0, 3.0, -np.inf]])

    # when / then: mean 2, std √(2/3); then mean 2.5, std 0.5
    z = models.zscore_top(scores, 3)[0]
    assert z[:3] == pytest.approx([-math.sqrt(1.5), 0.0, math.sqrt(1.5)])
    assert np.isneginf(z[3])
    assert models.zscore_top(scores, 2)[0].tolist() == [-np.inf, -1.0, 1.0, -np.inf]


def test_blend_gives_a_track_missing_from_one_model_that_models_lowest_z():
    # given A's top two: tracks 2, 1 (z 1, -1); B's: tracks 0, 1 (z 1, -1)
    a = np.array([[1.0, 2.0, 3.0, -np.inf]])
    b = np.array([[3.0, 2.0, 1.0, 0.0]])

    # when
    blended = models.blend_zscores([a, b], [1.0, 1.0], pool=2)[0]

    # then track 0: -1 + 1; track 1: -1 - 1; track 2: 1 - 1; track 3 in neither top
    assert blended.tolist() == [0.0, -2.0, 0.0, -np.inf]


def test_top_n_excludes_training_tracks_and_pads_with_minus_one():
    # given
    scores = np.array([[3.0, 1.0, 2.0, -np.inf]])

    # when
    top = models.top_n(scores, 4, exclude=csr([[1, 0, 0, 0]]))

    # then
    assert top.tolist() == [[2, 1, -1, -1]]
