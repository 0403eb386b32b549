"""Each predictor on small arrays: candidates, scores in [0, 1], evidence, unavailability."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import predictors
from recommendations.engine.data import Demographics, ListenerProfile
from recommendations.engine.models import AlsModel, EaseModel
from recommendations.engine.predictors import (
    CohortTable,
    CollaborativePredictor,
    ContentPredictor,
    DemographicPredictor,
    PopularityPredictor,
    Prediction,
    Predictor,
    PredictorUnavailable,
)
from tests.recommendations.engine.helpers import make_catalog


def _in_unit_interval(prediction: Prediction) -> bool:
    return bool(((prediction.scores >= 0) & (prediction.scores <= 1)).all())


def test_the_registry_holds_the_four_sources():
    assert set(predictors.registered()) >= {"collaborative", "content", "demographic", "popularity"}
    assert predictors.registered()["content"] is ContentPredictor
    assert ContentPredictor.name == "content"


def test_a_second_predictor_under_a_taken_name_is_refused():
    class Other(Predictor):
        def predict(self, profile, n, candidates=None):  # type: ignore[no-untyped-def]
            return Prediction.empty()

    with pytest.raises(ValueError, match="already registered"):
        predictors.register("popularity")(Other)
    assert predictors.registered()["popularity"] is PopularityPredictor


# --- collaborative ---------------------------------------------------------------------------


def _communities() -> sp.csr_matrix:
    """40 listeners: the first 20 play 3 of tracks 0–4, the others 3 of tracks 5–9."""
    rng = np.random.default_rng(0)
    cells = np.zeros((40, 10), dtype=np.float32)
    for listener in range(40):
        side = 0 if listener < 20 else 5
        cells[listener, side + rng.choice(5, size=3, replace=False)] = 1.0
    return sp.csr_matrix(cells)


def _collaborative(**options: object) -> CollaborativePredictor:
    train = _communities()
    catalog = make_catalog(artist=[0, 0, 1, 1, 2, 3, 3, 4, 4, 5], play_count=[1] * 9 + [0])
    models = {
        "ease": EaseModel(l2=1.0).fit(train),
        "als": AlsModel(factors=2, regularization=1.0, alpha=10.0, iterations=10).fit(train),
    }
    return CollaborativePredictor(catalog, **(models | options))  # type: ignore[arg-type]


def test_collaborative_proposes_the_listeners_community_with_evidence():
    # given a listener with tracks 0 and 1 in the history
    predictor = _collaborative()
    profile = ListenerProfile(history=[0, 1])

    # when
    prediction = predictor.predict(profile, 3)

    # then the three other tracks of the community, scores in [0, 1], best first, each
    # explained by one of the listener's tracks
    assert set(prediction.tracks.tolist()) == {2, 3, 4}
    assert _in_unit_interval(prediction)
    assert (np.diff(prediction.scores) <= 0).all()
    assert {e.because_track for e in prediction.evidence} <= {0, 1}


def test_collaborative_never_proposes_a_known_track_and_keeps_to_the_pool():
    # given
    predictor = _collaborative()
    profile = ListenerProfile(history=[0, 1], disliked=[2])

    # when
    prediction = predictor.predict(profile, 10, candidates=np.array([1, 2, 3, 7]))

    # then
    assert set(prediction.tracks.tolist()) <= {3, 7}


def test_collaborative_works_with_one_model_and_is_unavailable_without_any():
    profile = ListenerProfile(history=[5, 6])

    only_als = _collaborative(ease=None).predict(profile, 3)
    assert set(only_als.tracks.tolist()) <= {7, 8, 9}
    assert _in_unit_interval(only_als)

    with pytest.raises(PredictorUnavailable, match="no collaborative model"):
        _collaborative(ease=None, als=None).predict(profile, 3)


def test_collaborative_is_unavailable_for_a_listener_with_nothing():
    with pytest.raises(PredictorUnavailable, match="nothing to fold"):
        _collaborative().predict(ListenerProfile(), 3)


# --- content ---------------------------------------------------------------------------------

LOUD = {"energy": 0.9, "acousticness": 0.1}
QUIET = {"energy": 0.1, "acousticness": 0.9}


def _content_catalog():  # type: ignore[no-untyped-def]
    # tracks 0–2 loud (track 2 by artist 0, nobody has played it), tracks 3–5 quiet
    return make_catalog(
        artist=[0, 1, 0, 2, 3, 4],
        genres=[[0], [0], [0], [1], [1], [1]],
        features=[LOUD, LOUD, LOUD, QUIET, QUIET, QUIET],
        play_count=[3, 3, 0, 3, 3, 3],
    )


def test_content_proposes_tracks_that_sound_like_the_listeners():
    # given a listener with one loud track by artist 0
    predictor = ContentPredictor(_content_catalog())

    # when
    prediction = predictor.predict(ListenerProfile(history=[0]), 5)

    # then the loud ones first; same artist breaks the tie with track 1; scores in [0, 1]
    assert prediction.tracks[:2].tolist() == [2, 1]
    assert set(prediction.tracks[2:].tolist()) == {3, 4, 5}
    assert _in_unit_interval(prediction)
    assert prediction.scores[0] > prediction.scores[2]


def test_content_evidence_names_the_close_track_its_sound_and_newness():
    # given
    predictor = ContentPredictor(_content_catalog())

    # when
    prediction = predictor.predict(ListenerProfile(liked=[0, 3]), 2)
    evidence = dict(zip(prediction.tracks.tolist(), prediction.evidence, strict=True))

    # then
    assert evidence[2].because_track == 0
    assert evidence[2].descriptor == "energetic"
    assert evidence[2].new is True


def test_content_is_unavailable_without_history_or_likes():
    with pytest.raises(PredictorUnavailable):
        ContentPredictor(_content_catalog()).predict(ListenerProfile(disliked=[1]), 5)


# --- demographic -----------------------------------------------------------------------------


def _demographic(min_cohort_size: int = 20) -> DemographicPredictor:
    catalog = make_catalog(artist=[0, 1, 2, 3])
    full = CohortTable(
        fields=("age_band", "country", "gender", "occupation"),
        keys=[("18–24", "DE", "F", "student")],
        members=[5],
        counts=sp.csr_matrix([[0.0, 0.0, 0.0, 9.0]]),
    )
    band_country = CohortTable(
        fields=("age_band", "country"),
        keys=[("18–24", "DE"), ("25–34", "DE")],
        members=[30, 40],
        counts=sp.csr_matrix([[4.0, 2.0, 0.0, 1.0], [0.0, 0.0, 7.0, 0.0]]),
    )
    band = CohortTable(
        fields=("age_band",),
        keys=[("18–24",)],
        members=[100],
        counts=sp.csr_matrix([[1.0, 0.0, 3.0, 0.0]]),
    )
    return DemographicPredictor(
        catalog, tables=[full, band_country, band], min_cohort_size=min_cohort_size
    )


def test_demographic_backs_off_from_a_small_cohort():
    # given the full cohort has 5 members, under the minimum of 20
    profile = ListenerProfile(
        demographics=Demographics(age_band="18–24", country="DE", gender="F", occupation="student")
    )

    # when
    prediction = _demographic().predict(profile, 5)

    # then age band + country answers: counts 4, 2, 1 over the top count
    assert prediction.tracks.tolist() == [0, 1, 3]
    assert prediction.scores.tolist() == pytest.approx([1.0, 0.5, 0.25])
    assert prediction.evidence[0].cohort == (("age_band", "18–24"), ("country", "DE"))


def test_demographic_uses_the_fine_cohort_when_large_enough():
    profile = ListenerProfile(
        demographics=Demographics(age_band="18–24", country="DE", gender="F", occupation="student")
    )

    prediction = _demographic(min_cohort_size=5).predict(profile, 5)

    assert prediction.tracks.tolist() == [3]
    assert len(prediction.evidence[0].cohort) == 4


def test_demographic_skips_levels_the_listener_did_not_fill_in():
    # given an age band and a country with no cohort: the age band alone answers
    profile = ListenerProfile(demographics=Demographics(age_band="18–24", country="FR"))

    prediction = _demographic().predict(profile, 5)

    assert prediction.tracks.tolist() == [2, 0]
    assert prediction.evidence[0].cohort == (("age_band", "18–24"),)


def test_demographic_is_unavailable_without_a_cohort():
    with pytest.raises(PredictorUnavailable):
        _demographic().predict(ListenerProfile(demographics=Demographics(country="DE")), 5)


# --- popularity ------------------------------------------------------------------------------


def _popularity() -> PopularityPredictor:
    catalog = make_catalog(artist=[0, 1, 2, 3, 4], genres=[[0], [1], [1], [0], [2]])
    return PopularityPredictor(catalog, trending=[10.0, 8.0, 4.0, 2.0, 0.0])


def test_popularity_ranks_trending_tracks():
    prediction = _popularity().predict(ListenerProfile(history=[0]), 10)

    # track 0 is known, track 4 does not trend; scores over the top count
    assert prediction.tracks.tolist() == [1, 2, 3]
    assert prediction.scores.tolist() == pytest.approx([1.0, 0.5, 0.25])
    assert all(e.genre == -1 for e in prediction.evidence)


def test_popularity_keeps_to_the_preferred_genres():
    prediction = _popularity().predict(ListenerProfile(preferred_genres=[1]), 10)

    assert prediction.tracks.tolist() == [1, 2]
    assert prediction.scores.tolist() == pytest.approx([1.0, 0.5])
    assert [e.genre for e in prediction.evidence] == [1, 1]


def test_popularity_falls_back_to_overall_when_no_preferred_genre_trends():
    prediction = _popularity().predict(ListenerProfile(preferred_genres=[2]), 2)

    assert prediction.tracks.tolist() == [0, 1]


def test_popularity_is_unavailable_when_nothing_trends():
    catalog = make_catalog(artist=[0, 1])

    with pytest.raises(PredictorUnavailable):
        PopularityPredictor(catalog, trending=[0.0, 0.0]).predict(ListenerProfile(), 5)


# --- unplayed tracks -------------------------------------------------------------------------


def test_unplayed_damping_scales_only_the_tracks_nobody_played():
    catalog = make_catalog(artist=[0, 1, 2], play_count=[2, 0, 1])

    assert predictors.unplayed_damping(catalog, 0.6).tolist() == [1.0, 0.6, 1.0]
    assert predictors.unplayed_damping(catalog, 1.0).tolist() == [1.0, 1.0, 1.0]


def test_a_catalog_nobody_has_played_yet_is_not_damped():
    # nothing played: no track is a better bet than another, so a new site's tracks keep
    # their scores (and stay recommendable)
    catalog = make_catalog(artist=[0, 1], play_count=[0, 0])

    assert predictors.unplayed_damping(catalog, 0.5).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("factor", [0.0, -0.2, 1.5])
def test_an_unplayed_factor_outside_0_1_is_refused(factor):
    # 0 would make a new track unrecommendable; above 1 would favour what nobody played
    with pytest.raises(ValueError, match="unplayed factor"):
        predictors.unplayed_damping(make_catalog(artist=[0], play_count=[1]), factor)


def test_content_damps_an_unplayed_track_below_a_played_one_that_sounds_alike():
    # given a listener with loud track 0 by artist 0; track 2 (loud, artist 0) nobody played,
    # track 1 (loud, another artist) was played
    profile = ListenerProfile(history=[0])

    # when
    plain = ContentPredictor(_content_catalog()).predict(profile, 5)
    damped = ContentPredictor(_content_catalog(), unplayed=0.5).predict(profile, 5)

    # then undamped the same artist puts track 2 first; at 0.5 its score is halved and the
    # played track 1 leads; played tracks keep their scores
    raw = dict(zip(plain.tracks.tolist(), plain.scores, strict=True))
    after = dict(zip(damped.tracks.tolist(), damped.scores, strict=True))
    assert plain.tracks[0] == 2
    assert damped.tracks[0] == 1
    assert after[2] == pytest.approx(0.5 * raw[2])
    assert all(after[t] == pytest.approx(raw[t]) for t in (1, 3, 4, 5))


def test_collaborative_damps_an_unplayed_track_but_never_drops_it():
    # given track 9, which nobody had played at training time (play_count 0)
    profile = ListenerProfile(history=[5, 6])

    # when
    plain = _collaborative().predict(profile, 10)
    damped = _collaborative(unplayed=0.5).predict(profile, 10)

    # then its score is halved, still proposed; the others keep theirs, best first
    raw = dict(zip(plain.tracks.tolist(), plain.scores, strict=True))
    after = dict(zip(damped.tracks.tolist(), damped.scores, strict=True))
    assert set(after) == set(raw)
    assert 9 in after
    assert after[9] == pytest.approx(0.5 * raw[9])
    assert all(after[t] == pytest.approx(raw[t]) for t in raw if t != 9)
    assert (np.diff(damped.scores) <= 0).all()
