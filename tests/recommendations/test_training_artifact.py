"""The serving artifact: what a training stores besides the vectors, and that it reads back."""

from __future__ import annotations

import io

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.artifacts import ArtifactError, ModelArtifact
from recommendations.engine.models import als_fold_in
from recommendations.engine.training import Memberships, TrainingParams, train

LISTENERS = sp.csr_matrix(
    np.array(
        [
            [1, 1, 0, 0, 0, 0],
            [1, 1, 1, 0, 0, 0],
            [0, 1, 1, 0, 0, -0.5],
            [0, 0, 0, 1, 1, 0],
            [0, 0, 0, 1, 1, 1],
            [0, 0, 0, 0, 1, 1],
        ],
        dtype=np.float32,
    )
)
MEMBERSHIPS = {
    "artist": Memberships(np.arange(6), np.array([0, 0, 0, 1, 1, 1]), 2),
    "album": Memberships(np.arange(6), np.array([0, 0, 1, 2, 2, 3]), 4),
}
PARAMS = TrainingParams(
    als_factors=4, als_iterations=5, als_regularization=0.1, pool=6, ease_neighbours=3
)
TRACK_IDS = np.array([11, 12, 13, 14, 15, 16])
GROUP_IDS = {"artist": np.array([101, 102]), "album": np.array([201, 202, 203, 204])}


def _trained():
    return train(LISTENERS, MEMBERSHIPS, PARAMS)


def test_an_artifact_reads_back_as_it_was_written():
    trained = _trained()
    artifact = ModelArtifact.from_trained(trained, track_ids=TRACK_IDS, group_ids=GROUP_IDS)

    loaded = ModelArtifact.from_bytes(artifact.to_bytes())

    assert loaded.track_ids.tolist() == TRACK_IDS.tolist()
    assert loaded.training_params() == PARAMS
    assert loaded.ease is not None and trained.ease is not None
    assert loaded.ease.tracks.tolist() == trained.ease.tracks_.tolist()
    dense = sp.csr_matrix(trained.ease.weights_).toarray()
    np.testing.assert_allclose(loaded.ease.weights.toarray(), dense, rtol=1e-6)
    assert loaded.als is not None and trained.als is not None
    rows = trained.als.user_factors_.astype(np.float64)
    np.testing.assert_allclose(loaded.als.row_gram, rows.T @ rows, rtol=1e-6)
    np.testing.assert_allclose(loaded.als.metadata_factors, trained.als.user_factors_[6:])
    assert loaded.als.metadata_blocks == {"artist": (0, 2), "album": (2, 6)}
    assert loaded.als.metadata_weights == {"artist": 2.0, "album": 2.5}
    assert loaded.als.group_ids["album"].tolist() == [201, 202, 203, 204]
    assert loaded.als.group_ids["genre"].tolist() == []
    assert (loaded.als.regularization, loaded.als.alpha, loaded.als.factors) == (0.1, 40.0, 4)


def test_the_loaded_models_score_like_the_trained_ones():
    trained = _trained()
    loaded = ModelArtifact.from_bytes(
        ModelArtifact.from_trained(trained, track_ids=TRACK_IDS, group_ids=GROUP_IDS).to_bytes()
    )
    listener = sp.csr_matrix(np.array([[1, 0, 1, 0, 0, 0]], dtype=np.float32))

    ease = loaded.ease.model(loaded.n_tracks)
    als = loaded.als_model(trained.als.item_factors_)

    np.testing.assert_allclose(ease.score(listener), trained.ease.score(listener), rtol=1e-5)
    np.testing.assert_allclose(als.score(listener), trained.als.score(listener), rtol=1e-4)


def test_a_new_track_folds_in_from_its_metadata_as_from_its_training_column():
    trained = _trained()
    artifact = ModelArtifact.from_trained(trained, track_ids=TRACK_IDS, group_ids=GROUP_IDS)

    # a new track by artist 102 on album 204, plus an unknown artist that is ignored
    vectors = artifact.als.track_vectors(
        artists=[[102, 999], []], albums=[204, None], genres=[[], []]
    )

    column = np.zeros((1, trained.training.n_rows), dtype=np.float32)
    column[0, 6 + 1] = 2.0  # artist row 1
    column[0, 6 + 2 + 3] = 2.5  # album row 3
    expected = als_fold_in(trained.als.user_factors_, sp.csr_matrix(column), 0.1, 40.0)
    np.testing.assert_allclose(vectors[0], expected[0], rtol=1e-4, atol=1e-6)
    assert not vectors[1].any()


def test_without_ease_or_als_their_arrays_are_absent():
    trained = train(LISTENERS, MEMBERSHIPS, PARAMS.replace(ease_weight=0.0, als_weight=0.0))

    loaded = ModelArtifact.from_bytes(
        ModelArtifact.from_trained(trained, track_ids=TRACK_IDS, group_ids=GROUP_IDS).to_bytes()
    )

    assert loaded.ease is None and loaded.als is None
    assert loaded.als_model(np.zeros((6, 4))) is None


def test_bytes_that_are_not_an_artifact_are_refused():
    with pytest.raises(ArtifactError):
        ModelArtifact.from_bytes(b"not an npz")


def test_read_without_metadata_factors_it_scores_but_refuses_to_fold_tracks_in():
    trained = _trained()
    data = ModelArtifact.from_trained(trained, track_ids=TRACK_IDS, group_ids=GROUP_IDS).to_bytes()

    light = ModelArtifact.from_bytes(data, metadata_factors=False)
    full = ModelArtifact.from_bytes(io.BytesIO(data))  # a binary file reads the same

    assert light.als is not None and full.als is not None
    assert light.als.metadata_factors.shape == (0, PARAMS.als_factors)
    assert not light.als.has_metadata_factors and full.als.has_metadata_factors
    np.testing.assert_allclose(light.als.item_gram, full.als.item_gram)
    assert light.ease is not None and full.ease is not None
    assert light.ease.weights.nnz == full.ease.weights.nnz
    with pytest.raises(ArtifactError, match="without its metadata factors"):
        light.als.track_vectors(artists=[[101]], albums=[None], genres=[[]])
    assert full.als.track_vectors(artists=[[101]], albums=[None], genres=[[]]).shape == (
        1,
        PARAMS.als_factors,
    )
