"""Content vectors: standardised audio features, genres, descriptors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommendations.engine import content
from recommendations.engine.data import AUDIO_FEATURES
from tests.recommendations.engine.helpers import make_catalog


def test_standardised_features_are_z_scores_with_unknowns_at_the_mean():
    # given a column 1, 2, 3, unknown and a constant column
    values = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [np.nan, 5.0]])

    # when
    z = content.standardised_features(values)

    # then mean 2, the unknown filled with it; std of (1, 2, 3, 2) = √(1/2)
    assert z[:, 0] == pytest.approx([-math.sqrt(2), 0.0, math.sqrt(2), 0.0])
    assert z[:, 1].tolist() == [0.0] * 4


def test_content_vectors_weigh_features_and_give_genres_a_fixed_length():
    # given two tracks differing only in energy, the first in two genres, the second in one
    catalog = make_catalog(
        artist=[0, 1], genres=[[0, 1], [1]], features=[{"energy": 0.9}, {"energy": 0.1}]
    )

    # when
    vectors = content.content_vectors(catalog, feature_weights={"energy": 1.5}, genre_weight=2.0)

    # then energy z = ±1 times 1.5; other features weigh 0; genres: length 2
    energy = AUDIO_FEATURES.index("energy")
    assert vectors[:, energy].tolist() == pytest.approx([1.5, -1.5])
    assert np.delete(vectors[:, : len(AUDIO_FEATURES)], energy, axis=1).any() == False  # noqa: E712
    assert vectors[0, len(AUDIO_FEATURES) :].tolist() == pytest.approx([math.sqrt(2)] * 2)
    assert vectors[1, len(AUDIO_FEATURES) :].tolist() == pytest.approx([0.0, 2.0])


def test_describe_names_the_most_distinctive_feature():
    # given standardised rows
    row = np.zeros(len(AUDIO_FEATURES))
    energetic = row.copy()
    energetic[AUDIO_FEATURES.index("energy")] = 1.2
    energetic[AUDIO_FEATURES.index("valence")] = -0.9
    calm = row.copy()
    calm[AUDIO_FEATURES.index("energy")] = -1.0

    # when / then
    assert content.describe(energetic) == "energetic"
    assert content.describe(calm) == "calm"
    assert content.describe(row) is None
