"""Offline metrics on hand-computed cases (plain arrays, no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommendations.engine import metrics


def test_recall_counts_hits_in_the_top_k_over_min_k_and_relevant():
    # given three held-out tracks, one of them among the first three recommended
    recommended = [3, 1, 4, 5]
    relevant = [1, 5, 9]

    # when / then: 1 hit of min(3, 3); then 2 hits of min(4, 3)
    assert metrics.recall_at_k(recommended, relevant, 3) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(recommended, relevant, 4) == pytest.approx(2 / 3)


def test_recall_is_one_for_a_perfect_list_shorter_than_the_held_out_set():
    # given five held-out tracks and a list of two of them
    # when
    recall = metrics.recall_at_k([7, 8], [7, 8, 9, 10, 11], 2)

    # then the normalisation by min(k, |relevant|) gives 1
    assert recall == 1.0


def test_recall_and_ndcg_are_zero_without_held_out_tracks():
    assert metrics.recall_at_k([1, 2], [], 2) == 0.0
    assert metrics.ndcg_at_k([1, 2], [], 2) == 0.0


def test_ndcg_discounts_hits_by_rank():
    # given hits at ranks 2 and 4 (1-based) of a four-track list, two relevant tracks
    recommended = [3, 1, 4, 5]
    relevant = [1, 5]

    # when
    ndcg = metrics.ndcg_at_k(recommended, relevant, 4)

    # then DCG = 1/log2(3) + 1/log2(5), ideal = 1/log2(2) + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg == pytest.approx(expected)
    assert ndcg == pytest.approx(0.6509, abs=1e-4)


def test_ndcg_of_a_list_shorter_than_k():
    # given one hit at the top of a one-track list, with k = 10 and one relevant track
    # when / then it is perfect
    assert metrics.ndcg_at_k([2], [2], 10) == pytest.approx(1.0)


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be"):
        metrics.ndcg_at_k([1], [1], 0)


def test_coverage_is_the_share_of_the_catalog_recommended():
    # given two lists touching tracks 0, 1 and 2 of a ten-track catalog
    # when / then
    assert metrics.coverage([[0, 1], [1, 2]], 10) == pytest.approx(0.3)


def test_novelty_is_the_mean_self_information_by_popularity():
    # given 10 listeners: track 0 played by all, 1 by half, 2 by none (counted as one)
    track_listeners = [10, 5, 0]

    # when
    value = metrics.novelty([[0, 1], [2]], track_listeners, 10)

    # then mean of -log2(1), -log2(0.5), -log2(0.1)
    assert value == pytest.approx((0 + 1 + math.log2(10)) / 3)
    assert value == pytest.approx(1.4406, abs=1e-4)


def test_intra_list_diversity_is_one_minus_the_mean_pairwise_cosine():
    # given orthogonal tracks 0 and 1, and track 2 at 45 degrees to both
    features = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])

    # when / then
    assert metrics.intra_list_diversity([[0, 1]], features) == pytest.approx(1.0)
    assert metrics.intra_list_diversity([[0, 2]], features) == pytest.approx(1 - math.sqrt(0.5))
    # three pairs: cos 0, 1/sqrt 2, 1/sqrt 2
    assert metrics.intra_list_diversity([[0, 1, 2]], features) == pytest.approx(
        1 - 2 * math.sqrt(0.5) / 3
    )
    # the mean over lists; a one-track list has no pairs and is left out
    assert metrics.intra_list_diversity([[0, 1], [0, 2], [1]], features) == pytest.approx(
        (1.0 + 1 - math.sqrt(0.5)) / 2
    )


def test_intra_list_diversity_treats_a_zero_vector_as_similar_to_nothing():
    features = np.array([[0.0, 0.0], [1.0, 0.0]])

    assert metrics.intra_list_diversity([[0, 1]], features) == pytest.approx(1.0)


def test_gini_of_recommendation_counts():
    # given: equal counts; one track taking every slot; counts 1, 2, 3
    # when / then
    assert metrics.gini([[0, 1, 2]], 3) == pytest.approx(0.0)
    assert metrics.gini([[0], [0], [0]], 3) == pytest.approx(2 / 3)
    # sorted x = 1, 2, 3: ((-2)*1 + 0*2 + 2*3) / (3 * 6)
    assert metrics.gini([[0, 1, 2], [1, 2], [2]], 3) == pytest.approx(4 / 18)


def test_gini_counts_never_recommended_tracks():
    # given two tracks of a four-track catalog recommended once each
    # when: sorted x = 0, 0, 1, 1: (-3*0 - 1*0 + 1*1 + 3*1) / (4 * 2)
    # then
    assert metrics.gini([[0, 1]], 4) == pytest.approx(0.5)
