"""Tuning helpers: the confidence fit, the cached predictor and the baseline factory."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import tuning
from recommendations.engine.data import ListenerProfile
from recommendations.engine.ensemble import WeightParams
from recommendations.engine.models import AlsModel, EaseModel, ItemKnnModel, PopularityModel
from recommendations.engine.predictors import (
    Evidence,
    Prediction,
    Predictor,
    PredictorUnavailable,
)


def test_confidence_is_the_hit_rate_of_the_score_bins():
    # given served scores and whether each was played: low scores hit 1 in 4, high 3 in 4
    scores = [np.array([0.1, 0.1, 0.1, 0.1]), np.array([0.9, 0.9, 0.9, 0.9])]
    lists = [np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7])]
    held = [np.array([0]), np.array([4, 5, 6])]

    # when
    calibration = tuning.fit_calibration(scores, lists, held, bins=2)

    # then
    assert calibration([0.1, 0.9]).tolist() == pytest.approx([0.25, 0.75])


def test_confidence_never_falls_as_the_score_rises():
    rng = np.random.default_rng(0)
    scores = [rng.random(50) for _ in range(20)]
    lists = [np.arange(50) for _ in range(20)]
    held = [np.flatnonzero(s > rng.random(50)) for s in scores]

    calibration = tuning.fit_calibration(scores, lists, held)

    mapped = calibration(np.linspace(0, 1, 101))
    assert (np.diff(mapped) >= -1e-12).all()
    assert len(calibration.knots) <= 20


class _Counting(Predictor):
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def predict(self, profile, n, candidates=None):
        self.calls += 1
        if self.fail:
            raise PredictorUnavailable("nothing")
        return Prediction(np.array([1]), np.array([1.0]), (Evidence(),))


def test_cached_predictor_answers_each_listener_once_and_replays_failures():
    inner, failing = _Counting(), _Counting(fail=True)
    cached, cached_failing = tuning.CachedPredictor(inner), tuning.CachedPredictor(failing)
    profile = ListenerProfile(history=np.array([0]))

    first = cached.predict(profile, 5)
    second = cached.predict(profile, 5)
    for _ in range(2):
        with pytest.raises(PredictorUnavailable):
            cached_failing.predict(profile, 5)

    assert first is second
    assert inner.calls == 1 and failing.calls == 1


def test_baseline_models_are_built_from_their_reported_params():
    assert isinstance(tuning.baseline_model("popularity", {}), PopularityModel)
    assert tuning.baseline_model("itemknn", {"neighbours": 7}).neighbours == 7
    assert tuning.baseline_model("ease", {"l2": 3.0}).l2 == 3.0
    als = tuning.baseline_model(
        "als", {"factors": 8, "regularization": 2.0, "alpha": 3.0, "iterations": 4}
    )
    assert isinstance(als, AlsModel) and (als.factors, als.iterations) == (8, 4)
    assert isinstance(tuning.baseline_model("ease", {"l2": 1}), EaseModel)
    assert not isinstance(tuning.baseline_model("itemknn", {"neighbours": 1}), EaseModel)
    assert isinstance(tuning.baseline_model("itemknn", {"neighbours": 1}), ItemKnnModel)
    with pytest.raises(ValueError, match="unknown baseline"):
        tuning.baseline_model("svd", {})


def test_ensemble_params_take_weight_fields_into_weights():
    base = tuning.Tuned().ensemble
    params = tuning._ensemble_params(base, {"content": 0.1, "relevance": 0.95})
    assert params.weights == WeightParams(content=0.1)
    assert params.relevance == 0.95


def test_tune_training_keeps_the_models_train_fits_at_the_chosen_setting():
    # given a small validation split of two communities, each with its artist
    from recommendations.engine.evaluation import split_per_listener
    from recommendations.engine.training import Memberships, TrainingParams, train

    rng = np.random.default_rng(0)
    cells = np.zeros((40, 10), dtype=np.float32)
    for listener in range(40):
        cells[listener, (0 if listener < 20 else 5) + rng.choice(5, size=4, replace=False)] = 1
    split = split_per_listener(sp.csr_matrix(cells), 0.25, seed=0)
    memberships = {"artist": Memberships(np.arange(10), np.arange(10) // 5, 2)}
    grids = tuning.Grids(
        metadata=((2.0, 2.5, 0.5),),
        hybrid_ease_l2=(10.0,),
        hybrid_als=((0.1, 5.0),),
        blend=((0.5, 0.5), (0.65, 0.35)),
    )
    tuned = tuning.Tuned()

    # when
    base = TrainingParams(als_factors=4, als_iterations=5, pool=10)
    tuning.tune_training(split, memberships, grids, tuned, base)

    # then what it keeps is what train() fits on the same split at the chosen setting, so the
    # evaluation need not fit it again
    again = train(split.train, memberships, tuned.training)
    kept = tuned.trained
    assert kept is not None and kept.params == tuned.training
    assert kept.ease is not None and again.ease is not None and kept.als is not None
    assert (kept.training.matrix != again.training.matrix).nnz == 0
    assert np.array_equal(kept.ease.tracks_, again.ease.tracks_)
    assert np.allclose(kept.ease.weights_.toarray(), again.ease.weights_.toarray())
    assert np.allclose(kept.als.item_factors_, again.als.item_factors_, atol=1e-4)
