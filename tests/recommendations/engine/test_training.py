"""The shared training path: metadata rows, the two models, and the predictors it assembles."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine.data import ListenerProfile
from recommendations.engine.ensemble import recommend
from recommendations.engine.predictors import CohortTable
from recommendations.engine.training import (
    Memberships,
    PredictorParams,
    TrainingParams,
    build_predictors,
    metadata_kinds,
    played_columns,
    train,
)

from .helpers import make_catalog

# 6 tracks: artist 0 made 0-2, artist 1 made 3-5; listeners play within one artist
ARTISTS = [0, 0, 0, 1, 1, 1]
LISTENERS = sp.csr_matrix(
    np.array(
        [
            [1, 1, 0, 0, 0, 0],
            [1, 1, 1, 0, 0, 0],
            [0, 1, 1, 0, 0, 0],
            [0, 0, 0, 1, 1, 0],
            [0, 0, 0, 1, 1, 1],
            [0, 0, 0, 0, 1, 1],
        ],
        dtype=np.float32,
    )
)
SMALL = TrainingParams(als_factors=4, als_iterations=5, als_regularization=0.1, pool=6)


def memberships() -> dict[str, Memberships]:
    return {
        "artist": Memberships(track=np.arange(6), group=np.array(ARTISTS), n_groups=2),
        "album": Memberships(track=np.arange(6), group=np.array([0, 0, 1, 2, 2, 3]), n_groups=4),
    }


def test_metadata_kinds_follow_the_weights_and_skip_zero_or_missing_kinds():
    params = TrainingParams(metadata_weights={"artist": 2.0, "album": 0.0, "genre": 1.0})
    kinds = metadata_kinds(memberships(), params)
    assert [(kind.name, kind.weight) for kind in kinds] == [("artist", 2.0)]


def test_train_stacks_the_metadata_rows_under_the_listeners_and_fits_both_models():
    trained = train(LISTENERS, memberships(), SMALL)
    assert trained.n_listeners == 6
    assert trained.n_tracks == 6
    # 6 listeners + 2 artist rows + 4 album rows
    assert trained.training.n_rows == 12
    assert trained.training.blocks["artist"] == (6, 8)
    assert trained.ease is not None and trained.als is not None
    assert trained.als.item_factors_.shape == (6, 4)
    assert set(trained.seconds) == {"ease", "als"}


def test_a_model_with_weight_zero_is_not_fitted():
    trained = train(LISTENERS, memberships(), SMALL.replace(als_weight=0.0))
    assert trained.als is None
    assert trained.ease is not None


def test_nothing_to_learn_from_fits_nothing():
    trained = train(sp.csr_matrix((3, 6), dtype=np.float32), {}, SMALL)
    assert trained.ease is None and trained.als is None


def test_build_predictors_leaves_out_the_sources_without_what_they_need():
    catalog = make_catalog(ARTISTS)
    assert set(build_predictors(catalog)) == {"content"}
    trained = train(LISTENERS, memberships(), SMALL)
    table = CohortTable(
        fields=("age_band",), keys=[("18–24",)], members=[30], counts=sp.csr_matrix(np.ones((1, 6)))
    )
    predictors = build_predictors(
        catalog, trained, trending=np.arange(6, dtype=float), cohort_tables=[table]
    )
    assert set(predictors) == {"collaborative", "content", "demographic", "popularity"}


def test_a_model_of_another_catalog_size_is_refused():
    trained = train(LISTENERS, memberships(), SMALL)
    with pytest.raises(ValueError, match="6 tracks"):
        build_predictors(make_catalog([0, 0, 1]), trained)


def test_the_assembled_predictors_recommend_the_listeners_artist():
    catalog = make_catalog(ARTISTS)
    predictors = build_predictors(catalog, train(LISTENERS, memberships(), SMALL))
    profile = ListenerProfile(history=np.array([0, 1]))
    result = recommend(profile, predictors, catalog, n=1)
    assert [item.track for item in result.items] == [2]
    assert result.items[0].sources["collaborative"] > 0


def test_ease_models_the_most_played_tracks_not_those_the_metadata_rows_credit():
    # track 5 is by artist 1 and on an album, but no listener played it
    unplayed = LISTENERS.toarray()
    unplayed[:, 5] = 0
    trained = train(sp.csr_matrix(unplayed), memberships(), SMALL.replace(ease_max_tracks=4))
    assert trained.ease is not None
    assert 5 not in trained.ease.tracks_.tolist()
    assert len(trained.ease.tracks_) == 4
    # ALS still gives the unplayed track a vector through its artist and album rows
    assert trained.als is not None
    assert np.any(trained.als.item_factors_[5] != 0)


def test_als_fits_the_played_columns_and_folds_the_unplayed_in_as_new_tracks():
    # given tracks 6 and 7 nobody played: 6 by artist 0 (album 1), 7 by artist 1 with a skip
    listeners = sp.hstack([LISTENERS, sp.csr_matrix((6, 2), dtype=np.float32)]).tolil()
    listeners[3, 7] = -0.5
    members = {
        "artist": Memberships(np.arange(8), np.array([*ARTISTS, 0, 1]), 2),
        "album": Memberships(np.arange(8), np.array([0, 0, 1, 2, 2, 3, 1, 3]), 4),
    }

    # when
    trained = train(sp.csr_matrix(listeners), members, SMALL)

    # then the played tracks are the listeners' positive cells only, and each unplayed track's
    # vector is its training column folded in against the fitted rows (what a track added
    # after training gets)
    assert trained.als is not None
    assert played_columns(trained.training).tolist() == [True] * 6 + [False] * 2
    columns = sp.csr_matrix(trained.training.matrix[:, [6, 7]].T)
    np.testing.assert_allclose(
        trained.als.item_factors_[[6, 7]], trained.als.fold_in_tracks(columns), rtol=1e-5
    )
    # the unplayed track of artist 0's album sits with artist 0's tracks
    unit = trained.als.item_factors_ / np.linalg.norm(trained.als.item_factors_, axis=1)[:, None]
    assert unit[6] @ unit[2] > unit[6] @ unit[5]


def test_a_catalog_nobody_played_is_fitted_whole_from_its_metadata():
    nobody = sp.csr_matrix((3, 6), dtype=np.float32)
    trained = train(nobody, memberships(), SMALL.replace(ease_weight=0.0))
    assert trained.als is not None
    assert trained.als.item_factors_.shape == (6, 4)
    assert np.abs(trained.als.item_factors_).sum() > 0


def test_build_predictors_passes_the_unplayed_factors_to_collaborative_and_content():
    # given a catalog where nobody had played track 5 when the models were trained
    catalog = make_catalog(ARTISTS, play_count=[1, 1, 1, 1, 1, 0])
    params = PredictorParams(collaborative_unplayed=0.6, content_unplayed=0.8)

    # when
    predictors = build_predictors(catalog, train(LISTENERS, memberships(), SMALL), params=params)

    # then each source damps that track by its own factor
    assert predictors["collaborative"].damping.tolist() == [1.0] * 5 + [0.6]  # type: ignore[attr-defined]
    assert predictors["content"].damping.tolist() == [1.0] * 5 + [0.8]  # type: ignore[attr-defined]


def test_without_a_trained_model_content_damps_nothing():
    # "unplayed at training time" needs a training: a site with no model yet (or a new
    # catalog) keeps content's scores whole
    catalog = make_catalog(ARTISTS, play_count=[1, 1, 1, 1, 1, 0])
    params = PredictorParams(content_unplayed=0.5)

    predictors = build_predictors(catalog, None, params=params)

    assert predictors["content"].damping.tolist() == [1.0] * 6  # type: ignore[attr-defined]
