"""The split and the evaluation loop, on a tiny synthetic dataset."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import evaluation
from recommendations.engine.models import EaseModel, ItemKnnModel, PopularityModel
from tests.recommendations.engine.helpers import make_catalog


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


def test_validation_share_sizes_validation_like_production():
    # given listeners of 40 tracks each
    matrix = sp.csr_matrix(np.ones((20, 40), dtype=np.float32))

    # when
    validation, test = evaluation.train_validation_test(matrix, validation_share=0.1)
    default, _ = evaluation.train_validation_test(matrix)

    # then a smaller validation share leaves validation more to train on
    assert test.train.nnz == 20 * 32
    assert validation.train.nnz == 20 * (32 - 3)  # round(0.1 × 32)
    assert default.train.nnz == 20 * (32 - 6)  # round(0.2 × 32): 64 % of the data


def test_measure_reports_audio_and_genre_diversity_separately():
    # given two tracks of one genre with opposite sounds, and a list of both
    catalog = make_catalog(
        artist=[0, 1, 2],
        genres=[[0], [0], [1]],
        features=[{"energy": 0.0}, {"energy": 1.0}, {"energy": 0.5}],
    )
    features = evaluation.diversity_features(catalog)
    train = sp.csr_matrix(np.ones((2, 3)))

    # when
    result = evaluation.measure([np.array([0, 1])], [np.array([1])], train, 2, features=features)

    # then the genres say "the same", the sound says "different"
    assert result.diversity_genres == pytest.approx(0.0)
    assert result.diversity_audio > 1.0  # opposite standardised vectors: cosine below 0
    assert result.recall == pytest.approx(1.0)
    assert result.ndcg == pytest.approx(1.0 / np.log2(3))


def test_cold_start_cuts_listeners_and_excludes_their_other_tracks():
    # given
    split = evaluation.split_per_listener(_communities(), seed=0)

    # when
    cut = evaluation.cold_start(split, 3, seed=0)

    # then each cut row keeps 3 of the listener's training tracks, the rest excluded
    assert cut.rows.shape[0] == len(cut.exclude) == len(cut.held_out) > 0
    for i, u in enumerate(split.evaluated[: cut.rows.shape[0]]):
        known = set(cut.rows[i].indices.tolist())
        assert len(known) == 3
        train = set(split.train[u].indices.tolist())
        assert known | set(cut.exclude[i].tolist()) == train
        assert not known & set(cut.exclude[i].tolist())


def test_cold_item_recall_counts_only_tracks_nobody_trained_on():
    cold = np.array([False, True, True, False])
    lists = [np.array([1, 0]), np.array([3, 0]), np.array([0, 3])]
    held = [np.array([1, 2]), np.array([2, 3]), np.array([0])]

    recall, listeners = evaluation.cold_item_recall(lists, held, cold, 2)

    # listener 0: cold {1, 2}, found 1 → 1/2; listener 1: cold {2}, found none → 0; 2: none
    assert listeners == 2
    assert recall == pytest.approx(0.25)


def test_subset_catalog_renumbers_tracks_and_groups():
    from recommendations.engine.training import Memberships

    catalog = make_catalog(artist=[0, 1, 1, 2], genres=[[0], [1], [1], [0]])
    memberships = {"artist": Memberships(np.arange(4), np.array([0, 1, 1, 2]), 3)}

    sub, kept = evaluation.subset_catalog(catalog, memberships, np.array([1, 3]))

    assert sub.n_tracks == 2
    assert sub.artist.tolist() == [1, 2]
    assert kept["artist"].track.tolist() == [0, 1]
    assert kept["artist"].n_groups == 2
    assert kept["artist"].group.tolist() == [0, 1]


def test_hybrid_lists_take_excluded_tracks_out_and_keep_n():
    def recommender(profile, n):
        tracks = np.arange(n, dtype=np.int64)
        return tracks, np.linspace(1.0, 0.5, n)

    profiles = [evaluation.listener_profile(sp.csr_matrix(np.array([[1.0, 0, 0, 0, 0, 0]])))]
    ranked = evaluation.hybrid_lists(recommender, profiles, 3, exclude=[np.array([0, 2])])

    assert ranked.lists[0].tolist() == [1, 3, 4]
    assert len(ranked.scores[0]) == 3
