"""The weight calculator, the blend, confidence, reasons and whole lists for one listener."""

from __future__ import annotations

import itertools
import logging
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from recommendations.engine import ensemble
from recommendations.engine.data import Demographics, ListenerProfile
from recommendations.engine.ensemble import Calibration, Known, Reason
from recommendations.engine.models import EaseModel
from recommendations.engine.predictors import (
    CohortTable,
    CollaborativePredictor,
    ContentPredictor,
    DemographicPredictor,
    Evidence,
    PopularityPredictor,
    Prediction,
    Predictor,
)
from tests.recommendations.engine.helpers import make_catalog

# --- weights ---------------------------------------------------------------------------------


def test_nothing_known_popularity_leads_alone():
    assert ensemble.source_weights(Known()) == {
        "collaborative": 0.0,
        "content": 0.0,
        "demographic": 0.0,
        "popularity": 1.0,
    }


def test_demographics_only_demographic_and_popularity():
    # given all four fields: demographic 0.8 * 1, popularity 0.1 + 0.05 (tuned defaults)
    weights = ensemble.source_weights(Known(demographics=4))

    assert weights["demographic"] == pytest.approx(0.8 / 0.95)
    assert weights["popularity"] == pytest.approx(0.15 / 0.95)
    assert weights["collaborative"] == weights["content"] == 0.0


def test_a_full_history_collaborative_leads_with_the_tuned_weights():
    # given 50 tracks at history_scale 1: maturity 1 - e^-50
    weights = ensemble.source_weights(Known(tracks=50, demographics=4))

    m = 1 - math.exp(-50)
    raw = {
        "collaborative": m,
        "content": 0.05 * math.sqrt(m),
        "demographic": 0.8 * (1 - m),
        "popularity": 0.1 * (1 - m) + 0.05,
    }
    assert weights == pytest.approx({k: v / sum(raw.values()) for k, v in raw.items()})
    assert max(weights, key=weights.__getitem__) == "collaborative"
    assert weights["collaborative"] > 0.9


def test_with_seed_weights_a_full_history_lets_collaborative_and_content_lead():
    # the function's shape: with a heavier content weight content is the second voice
    params = ensemble.WeightParams(history_scale=10.0, content=0.6, popularity=1.0)
    weights = ensemble.source_weights(Known(tracks=50, demographics=4), params)

    assert sorted(weights, key=weights.__getitem__)[-2:] == ["content", "collaborative"]


def test_with_few_tracks_content_outweighs_collaborative_under_a_slow_maturity():
    params = ensemble.WeightParams(history_scale=10.0, content=0.6, popularity=1.0)
    weights = ensemble.source_weights(Known(tracks=3), params)

    assert weights["content"] > weights["collaborative"] > 0


def test_one_known_track_already_lets_collaborative_outweigh_popularity():
    weights = ensemble.source_weights(Known(tracks=1))

    assert weights["collaborative"] > weights["popularity"] > 0


@given(tracks=st.integers(0, 2000), demographics=st.integers(0, 4))
def test_weights_are_shares_that_move_the_right_way(tracks, demographics):  # type: ignore[no-untyped-def]
    weights = ensemble.source_weights(Known(tracks, demographics))
    more = ensemble.source_weights(Known(tracks + 1, demographics))

    assert sum(weights.values()) == pytest.approx(1.0)
    assert all(0.0 <= w <= 1.0 for w in weights.values())
    assert more["collaborative"] >= weights["collaborative"] - 1e-12
    assert more["popularity"] <= weights["popularity"] + 1e-12


# --- blend -----------------------------------------------------------------------------------


def _prediction(tracks: list[int], scores: list[float]) -> Prediction:
    return Prediction(np.array(tracks), np.array(scores), tuple(Evidence() for _ in tracks))


def test_blend_is_the_weighted_mean_with_missing_as_zero():
    # given two sources weighted 0.75 and 0.25
    predictions = {"a": _prediction([1, 2], [1.0, 0.5]), "b": _prediction([2, 3], [1.0, 0.4])}

    # when
    blended = ensemble.blend(predictions, {"a": 0.75, "b": 0.25})

    # then
    assert blended.tracks.tolist() == [1, 2, 3]
    assert blended.scores.tolist() == pytest.approx([0.75, 0.75 * 0.5 + 0.25, 0.25 * 0.4])
    assert blended.sources["b"].tolist() == [0.0, 1.0, 0.4]


def test_blend_renormalises_over_the_sources_that_answered():
    # given c failed (absent) and d answered nothing
    predictions = {
        "a": _prediction([1], [1.0]),
        "b": _prediction([1], [0.5]),
        "d": Prediction.empty(),
    }

    blended = ensemble.blend(predictions, {"a": 0.5, "b": 0.3, "c": 0.1, "d": 0.1})

    assert blended.weights == pytest.approx({"a": 0.625, "b": 0.375})
    assert blended.scores.tolist() == pytest.approx([0.625 + 0.375 * 0.5])


# --- confidence ------------------------------------------------------------------------------


def test_default_calibration_is_the_identity_clipped_to_the_unit_interval():
    assert Calibration()([-0.2, 0.3, 1.4]).tolist() == [0.0, 0.3, 1.0]


def test_calibration_fit_is_isotonic_by_hand():
    # given outcomes 0, 1, 0, 1 at scores 0.1 … 0.4: the middle pair is pooled to 0.5 at 0.25
    calibration = Calibration.fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])

    assert calibration.knots == pytest.approx((0.1, 0.25, 0.4))
    assert calibration.values == pytest.approx((0.0, 0.5, 1.0))
    assert calibration([0.0, 0.25, 0.325, 1.0]).tolist() == pytest.approx([0.0, 0.5, 0.75, 1.0])


def test_calibration_gives_equal_scores_one_value():
    # given the same score twice, played once
    calibration = Calibration.fit([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1])

    # then one knot at 0.5 with the mean outcome
    assert calibration.knots == pytest.approx((0.2, 0.5, 0.9))
    assert calibration.values == pytest.approx((0.0, 0.5, 1.0))


@given(
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 1)), min_size=1, max_size=60),
    st.lists(st.floats(-1, 2), min_size=1, max_size=20),
)
def test_fitted_confidence_is_monotone_and_in_the_unit_interval(pairs, queries):  # type: ignore[no-untyped-def]
    calibration = Calibration.fit([p[0] for p in pairs], [p[1] for p in pairs])

    mapped = calibration(sorted(queries))
    assert all(b > a for a, b in itertools.pairwise(calibration.knots))

    assert ((mapped >= 0) & (mapped <= 1)).all()
    assert (np.diff(mapped) >= -1e-12).all()


def test_calibration_refuses_a_decreasing_map():
    with pytest.raises(ValueError, match="must not decrease"):
        Calibration(knots=(0.0, 1.0), values=(0.8, 0.2))


# --- reasons ---------------------------------------------------------------------------------

NAMES = make_catalog(
    artist=[0, 1, 2],
    genres=[[0], [1], [0]],
    artist_names=["Daft Punk", "Nina Simone", "Björk"],
    genre_names=["house", "jazz"],
)


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (
            Reason(kind="listened_artist", source="collaborative", artist=0),
            "Because you listen to Daft Punk",
        ),
        (
            Reason(
                kind="cohort",
                source="demographic",
                cohort=(("age_band", "18–24"), ("country", "DE")),
            ),
            "Popular with listeners aged 18–24 in DE",
        ),
        (
            Reason(kind="sounds_like", source="content", descriptor="energetic", new=True),
            "New to listeners here, close to your energetic tracks",
        ),
        (
            Reason(kind="context", source="context", context="exercise", context_kind="activity"),
            "Matches your exercise activity",
        ),
        (Reason(kind="trending_genre", source="popularity", genre=1), "Trending in jazz"),
        (Reason(kind="trending", source="popularity"), "Trending now"),
        (
            Reason(
                kind="cohort",
                source="demographic",
                cohort=(
                    ("age_band", "25–34"),
                    ("country", "FR"),
                    ("gender", "F"),
                    ("occupation", "student"),
                ),
            ),
            "Popular with female student listeners aged 25–34 in FR",
        ),
    ],
)
def test_reason_texts(reason, text):  # type: ignore[no-untyped-def]
    assert ensemble.reason_text(reason, NAMES) == text


def test_reasons_follow_the_weighted_scores():
    # given track 1 scored by collaborative (because of track 0, by Daft Punk) and a little by
    # popularity; track 2 only by popularity
    predictions = {
        "collaborative": Prediction(np.array([1]), np.array([0.9]), (Evidence(because_track=0),)),
        "popularity": Prediction(
            np.array([1, 2]), np.array([0.1, 1.0]), (Evidence(genre=1), Evidence(genre=1))
        ),
    }
    blended = ensemble.blend(predictions, {"collaborative": 0.5, "popularity": 0.5})

    # when
    first = ensemble.reasons_for(1, blended, NAMES)
    second = ensemble.reasons_for(2, blended, NAMES, ("exercise", "activity", 0.9))

    # then popularity's share of track 1 (0.05 of 0.5) is under a quarter: no reason from it
    assert [(r.kind, r.artist) for r in first] == [("listened_artist", 0)]
    assert [r.kind for r in second] == ["trending_genre", "context"]


# --- whole lists -----------------------------------------------------------------------------

N_TRACKS = 40
LOUD = {"energy": 0.9, "tempo": 165.0, "acousticness": 0.1}
QUIET = {"energy": 0.15, "tempo": 75.0, "acousticness": 0.9}


def _world():  # type: ignore[no-untyped-def]
    """40 tracks, artist t // 4 (ten artists), genre = artist % 4, loud and quiet tracks
    alternating; trending falls with the index, so the four most trending are one artist's and
    one genre's. 60 listeners, each playing within two neighbouring artists."""
    catalog = make_catalog(
        artist=[t // 4 for t in range(N_TRACKS)],
        genres=[[(t // 4) % 4] for t in range(N_TRACKS)],
        features=[LOUD if t % 2 == 0 else QUIET for t in range(N_TRACKS)],
        artist_names=[f"artist {a}" for a in range(10)],
        genre_names=["pop", "rock", "jazz", "folk"],
    )
    rng = np.random.default_rng(11)
    cells = np.zeros((60, N_TRACKS), dtype=np.float32)
    for listener in range(60):
        first = 4 * (listener % 9)
        cells[listener, first + rng.choice(8, size=4, replace=False)] = 1.0
    trending = np.linspace(40.0, 1.0, N_TRACKS)
    tables = [
        CohortTable(
            fields=("age_band",),
            keys=[("18–24",)],
            members=[50],
            counts=sp.csr_matrix(np.where(np.arange(N_TRACKS) >= 30, 5.0, 0.0)[None, :]),
        )
    ]
    predictors: dict[str, Predictor] = {
        "collaborative": CollaborativePredictor(
            catalog, ease=EaseModel(l2=5.0).fit(sp.csr_matrix(cells))
        ),
        "content": ContentPredictor(catalog),
        "demographic": DemographicPredictor(catalog, tables=tables),
        "popularity": PopularityPredictor(catalog, trending=trending),
    }
    return catalog, predictors


def _assert_well_formed(result, catalog, n):  # type: ignore[no-untyped-def]
    tracks = [item.track for item in result.items]
    assert len(tracks) == n == len(set(tracks))
    artists = catalog.artist[tracks].tolist()
    assert all(len(set(artists[i : i + 4])) > 1 for i in range(len(artists) - 3))
    for item in result.items:
        assert 0.0 <= item.confidence <= 1.0
        assert 0.0 <= item.score <= 1.0
        assert item.reasons, item
        assert set(item.sources) == set(result.weights)
        # the first reason comes from a source that scored the track
        if item.reasons[0].source != "context":
            assert item.sources[item.reasons[0].source] > 0
        for reason in item.reasons:
            assert ensemble.reason_text(reason, catalog)


def test_a_listener_with_nothing_gets_five_varied_results():
    # given
    catalog, predictors = _world()

    # when
    result = ensemble.recommend(ListenerProfile(), predictors, catalog, n=5)

    # then popularity alone, yet more than one artist and one genre
    _assert_well_formed(result, catalog, 5)
    assert result.weights == {"popularity": 1.0}
    tracks = [item.track for item in result.items]
    assert len(set(catalog.artist[tracks].tolist())) >= 2
    assert len({int(catalog.genres[t].indices[0]) for t in tracks}) >= 2
    assert all(item.reasons[0].kind == "trending" for item in result.items)


def test_a_known_listener_gets_filtered_explained_contextual_results():
    # given history in artists 0 and 1, a disliked track, a disliked genre (jazz: artists 2
    # and 6), a recent skip, an age band and the exercise activity
    catalog, predictors = _world()
    profile = ListenerProfile(
        history=[0, 1, 2, 4, 5],
        liked=[6],
        disliked=[3],
        disliked_genres=[2],
        skipped_recently=[7, 12],
        demographics=Demographics(age_band="18–24"),
        activity="exercise",
    )

    # when
    result = ensemble.recommend(profile, predictors, catalog, n=8)

    # then
    _assert_well_formed(result, catalog, 8)
    tracks = [item.track for item in result.items]
    assert not set(tracks) & {0, 1, 2, 3, 4, 5, 6, 7, 12}
    assert not {int(catalog.genres[t].indices[0]) for t in tracks} & {2}
    assert set(result.weights) == {"collaborative", "content", "demographic", "popularity"}
    kinds = {reason.kind for item in result.items for reason in item.reasons}
    assert "context" in kinds
    # the context reason only on tracks that suit exercise (the loud, even ones)
    for item in result.items:
        if any(r.kind == "context" for r in item.reasons):
            assert item.track % 2 == 0


class Broken(Predictor):
    def predict(self, profile, n, candidates=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("the view is missing")


def test_a_failing_predictor_never_fails_the_list(caplog):  # type: ignore[no-untyped-def]
    # given the popularity predictor broken; a listener with some history, in no cohort
    catalog, predictors = _world()
    predictors["popularity"] = Broken()
    profile = ListenerProfile(history=[0, 1, 4], demographics=Demographics(age_band="65+"))

    # when
    with caplog.at_level(logging.WARNING, logger="recommendations.engine.ensemble"):
        result = ensemble.recommend(profile, predictors, catalog, n=5)

    # then the others answer, renormalised; the failure is reported and logged
    _assert_well_formed(result, catalog, 5)
    assert "popularity" not in result.weights
    assert sum(result.weights.values()) == pytest.approx(1.0)
    assert result.failed == {"popularity": "RuntimeError: the view is missing"}
    assert result.unavailable == {"demographic": "no cohort large enough for this listener"}
    assert "predictor popularity failed" in caplog.text


# --- evidence on demand ----------------------------------------------------------------------


class _Explaining(Predictor):
    """Proposes every track, best score to the lowest index; records what it was asked to
    explain."""

    def __init__(self, n_tracks: int, spread: float = 1.0) -> None:
        self.n_tracks = n_tracks
        self.spread = spread
        self.asked: list[list[int]] = []

    def predict(self, profile, n, candidates=None):  # type: ignore[no-untyped-def]
        tracks = np.setdiff1d(np.arange(min(n, self.n_tracks)), profile.known_tracks())
        scores = 1.0 - self.spread * tracks / self.n_tracks
        return Prediction(tracks, scores, explain=self._explain)

    def _explain(self, tracks):  # type: ignore[no-untyped-def]
        self.asked.append(tracks.tolist())
        return [Evidence(because_track=int(t)) for t in tracks]


def test_only_the_served_tracks_are_explained_and_each_once():
    # given a source proposing 200 candidates
    catalog = make_catalog(artist=list(range(200)))
    source = _Explaining(200)

    # when five are served
    result = ensemble.recommend(ListenerProfile(), {"popularity": source}, catalog, n=5)

    # then it was asked once, for those five, and the reasons carry its evidence
    served = [item.track for item in result.items]
    assert len(served) == 5
    assert source.asked == [served]
    assert all(item.reasons[0].source == "popularity" for item in result.items)


def test_a_prediction_gives_evidence_or_explains_never_both_and_answers_for_any_track():
    with pytest.raises(ValueError, match="either"):
        Prediction(np.array([1]), np.array([0.5]))
    with pytest.raises(ValueError, match="either"):
        Prediction(np.array([1]), np.array([0.5]), (Evidence(),), explain=lambda t: [])
    with pytest.raises(ValueError, match="one value per candidate"):
        Prediction(np.array([1, 2]), np.array([0.5, 0.4]), (Evidence(),))
    given = Prediction(np.array([4, 7]), np.array([0.9, 0.1]), (Evidence(genre=1), Evidence()))
    explained = Prediction(
        np.array([4, 7]), np.array([0.9, 0.1]), explain=lambda t: [Evidence(genre=9)] * len(t)
    )
    # a track the prediction does not hold gets empty evidence, in the asked order
    assert given.evidence_for([7, 3, 4]) == [Evidence(), Evidence(), Evidence(genre=1)]
    assert explained.evidence_for([3, 7]) == [Evidence(), Evidence(genre=9)]
    assert explained.evidence == (Evidence(genre=9), Evidence(genre=9))


def test_more_discovery_serves_less_played_tracks_by_new_artists():
    # given a catalog where half the tracks are by the listener's artist and much played, the
    # other half by other artists and rarely played, all proposed by one source whose scores
    # fall slowly with the index (familiar tracks lead)
    n = 40
    catalog = make_catalog(
        artist=[0 if t < n // 2 else 1 + t for t in range(n)],
        play_count=[100 if t < n // 2 else 1 for t in range(n)],
    )
    source = _Explaining(n, spread=0.25)

    def served(discovery: float, size: int) -> list[int]:
        profile = ListenerProfile(history=[0], discovery=discovery)
        result = ensemble.recommend(profile, {"collaborative": source}, catalog, n=size)
        return [item.track for item in result.items]

    # then discovery 1 serves the other half only; 0 and the default 0.5 the familiar one (two
    # of them: the artist limit lets one artist have no more than two places in ten)
    assert all(t >= n // 2 for t in served(1.0, 5))
    assert all(t < n // 2 for t in served(0.0, 2))
    assert all(t < n // 2 for t in served(0.5, 2))


def test_candidates_restrict_the_list_to_that_pool_and_the_best_of_it_leads():
    # given a listener of artists 0 and 1, and a pool (a search's results, say) of tracks of
    # artists 1, 5 and 9 with one of the history among them
    catalog, predictors = _world()
    profile = ListenerProfile(history=[0, 1, 2, 4], demographics=Demographics(age_band="18–24"))
    pool = [5, 6, 20, 21, 36, 37, 1]

    # when
    result = ensemble.recommend(profile, predictors, catalog, n=1, candidates=pool)
    everything = ensemble.recommend(profile, predictors, catalog, n=len(pool), candidates=pool)

    # then only tracks of the pool, never the history one; the first is artist 1's (closest
    # to the history: collaborative and content agree), with its reasons
    assert [item.track for item in result.items] == [everything.items[0].track]
    served = {item.track for item in everything.items}
    assert served <= set(pool) - {1}
    assert result.items[0].track in {5, 6}
    assert result.items[0].reasons
