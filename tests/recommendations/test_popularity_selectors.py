"""The popularity selectors: engine-ready arrays in the caller's index space, the trending list,
and the generation that tells a cache when to reload."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import scipy.sparse as sp
from django.db import transaction
from django.utils import timezone

from recommendations.engine.data import AUDIO_FEATURES, Catalog, Demographics, ListenerProfile
from recommendations.engine.predictors import DemographicPredictor, PopularityPredictor
from recommendations.selectors.popularity import (
    TrendingTrack,
    cohort_tables,
    popularity_generation,
    popularity_state,
    trending_scores,
    trending_tracks,
)
from recommendations.services.popularity import refresh_popularity
from tests.catalog.factories import GenreFactory, TrackFactory
from tests.recommendations.popularity_data import (
    TASTE_HALF_LIFE_DAYS,
    decayed,
    event,
    listener,
)

pytestmark = pytest.mark.django_db


def _plays(track, n: int, **demographics) -> None:
    """``n`` plays of ``track`` a day ago, each by a new listener."""
    for _ in range(n):
        event(listener(**demographics), track, days_ago=1)


def _unit() -> float:
    """What one play a day ago counts in the last refresh's trending scores."""
    return decayed(timezone.now() - dt.timedelta(days=1))


def _catalog(n: int) -> Catalog:
    return Catalog(
        artist=np.arange(n),
        genres=sp.csr_matrix((n, 1)),
        features=np.zeros((n, len(AUDIO_FEATURES))),
        play_count=np.zeros(n),
    )


@pytest.fixture
def three_trending():
    """Tracks played 3, 2 and 1 times now, refreshed; returned best first."""
    tracks = TrackFactory.create_batch(3)
    for plays, track in zip((3, 2, 1), tracks, strict=True):
        _plays(track, plays)
    refresh_popularity()
    return tracks


def test_trending_scores_map_ids_to_engine_indices(three_trending, django_assert_num_queries):
    # given: the engine knows the first two trending tracks and one that does not trend,
    # but not the third trending one
    best, second, third = three_trending
    quiet = TrackFactory()
    track_ids = np.array(sorted([best.pk, second.pk, quiet.pk]), dtype=np.int64)

    # when
    with django_assert_num_queries(1):
        scores = trending_scores(track_ids=track_ids)

    # then
    assert scores.dtype == np.float64
    expected = {best.pk: 3 * _unit(), second.pk: 2 * _unit(), quiet.pk: 0.0}
    assert scores.tolist() == pytest.approx([expected[t] for t in track_ids], rel=1e-5)
    assert third.pk not in track_ids


def test_trending_scores_of_an_empty_view_or_no_tracks_are_zeros():
    track_ids = np.array([TrackFactory().pk], dtype=np.int64)
    refresh_popularity()

    assert trending_scores(track_ids=track_ids).tolist() == [0.0]
    assert trending_scores(track_ids=np.zeros(0, dtype=np.int64)).shape == (0,)


def test_track_ids_must_be_sorted_and_distinct():
    with pytest.raises(ValueError, match="increasing"):
        trending_scores(track_ids=np.array([5, 3]))
    with pytest.raises(ValueError, match="increasing"):
        cohort_tables(track_ids=np.array([3, 3]))


def test_the_popularity_predictor_runs_on_trending_scores(three_trending):
    best, second, third = three_trending
    track_ids = np.array(sorted(t.pk for t in three_trending), dtype=np.int64)
    trending = trending_scores(track_ids=track_ids)

    prediction = PopularityPredictor(_catalog(len(track_ids)), trending=trending).predict(
        ListenerProfile(), n=3
    )

    assert [int(track_ids[i]) for i in prediction.tracks] == [best.pk, second.pk, third.pk]


def test_trending_tracks_overall_and_per_genre(django_assert_num_queries):
    # given: rock has one track, jazz two; the jazz tracks trend most overall
    rock, jazz = GenreFactory.create_batch(2)
    rocker = TrackFactory(genres=[rock])
    swing, bebop = TrackFactory(genres=[jazz]), TrackFactory(genres=[jazz])
    _plays(swing, 4)
    _plays(rocker, 2)
    fan = listener()
    event(fan, bebop, days_ago=1)
    event(fan, bebop, "like", days_ago=1)
    refresh_popularity()

    # when
    with django_assert_num_queries(1):
        overall = trending_tracks(genre_id=None, limit=2)
    in_jazz = trending_tracks(genre_id=jazz.pk, limit=10)

    # then
    assert [t.track_id for t in overall] == [swing.pk, bebop.pk]
    assert all(isinstance(t, TrendingTrack) for t in overall)
    assert [t.score for t in overall] == pytest.approx([4 * _unit(), 3 * _unit()], rel=1e-5)
    assert (overall[0].plays, overall[0].likes, overall[0].listeners) == (4, 0, 4)
    assert (overall[1].plays, overall[1].likes, overall[1].listeners) == (1, 1, 1)
    assert [t.track_id for t in in_jazz] == [swing.pk, bebop.pk]
    assert [t.track_id for t in trending_tracks(genre_id=rock.pk, limit=10)] == [rocker.pk]
    assert trending_tracks(genre_id=None, limit=0) == []


def test_trending_tracks_of_unknown_genres_are_empty_and_a_negative_limit_is_refused(
    three_trending,
):
    assert trending_tracks(genre_id=10**9, limit=5) == []
    assert trending_tracks(genre_id=0, limit=5) == []  # 0 is the view's "all", not a genre
    with pytest.raises(ValueError):
        trending_tracks(genre_id=None, limit=-1)


@pytest.fixture
def cohort_world():
    """Five 18–24 German female students and five 18–24 German male engineers play ``hit``;
    one of the engineers plays ``deep_cut`` too, and they all play a track the engine will not
    know; ``elsewhere`` is played by one of five 40-year-old French listeners."""
    hit, deep_cut, elsewhere, unknown_to_engine = TrackFactory.create_batch(4)
    _plays(hit, 5, age=20, country="DE", gender="F", occupation="student")
    engineers = [
        listener(age=23, country="DE", gender="M", occupation="engineer") for _ in range(5)
    ]
    for engineer in engineers:
        event(engineer, hit, days_ago=1)
        event(engineer, unknown_to_engine, days_ago=1)
    event(engineers[0], deep_cut, days_ago=1)
    event(listener(age=40, country="FR"), elsewhere, days_ago=1)
    for _ in range(4):
        listener(age=41, country="FR")
    refresh_popularity()
    track_ids = np.array(sorted([hit.pk, deep_cut.pk, elsewhere.pk]), dtype=np.int64)
    return track_ids, hit, deep_cut, elsewhere


def test_cohort_tables_finest_level_first_in_engine_indices(
    cohort_world, django_assert_num_queries
):
    track_ids, hit, deep_cut, elsewhere = cohort_world
    index = {int(t): i for i, t in enumerate(track_ids)}

    with django_assert_num_queries(1):
        tables = cohort_tables(track_ids=track_ids, min_members=1)

    assert [table.fields for table in tables] == [
        ("age_band", "country", "gender", "occupation"),
        ("age_band", "country"),
        ("age_band",),
    ]
    finest, middle, coarse = tables
    assert list(finest.keys) == [("18–24", "DE", "F", "student"), ("18–24", "DE", "M", "engineer")]
    assert finest.members.tolist() == [5, 5]
    assert finest.counts.shape == (2, len(track_ids))
    students = finest.counts[finest.index[("18–24", "DE", "F", "student")]].toarray().ravel()
    taste_unit = decayed(timezone.now() - dt.timedelta(days=1), TASTE_HALF_LIFE_DAYS)
    assert students[index[hit.pk]] == pytest.approx(5 * taste_unit, rel=1e-5)
    assert np.count_nonzero(students) == 1
    engineers = finest.counts[finest.index[("18–24", "DE", "M", "engineer")]].toarray().ravel()
    assert engineers[index[hit.pk]] == pytest.approx(5 * taste_unit, rel=1e-5)
    assert engineers[index[deep_cut.pk]] == pytest.approx(taste_unit, rel=1e-5)
    assert np.count_nonzero(engineers) == 2  # the track the engine does not know is ignored
    assert list(middle.keys) == [("18–24", "DE"), ("35–44", "FR")]
    assert middle.members.tolist() == [10, 5]
    assert list(coarse.keys) == [("18–24",), ("35–44",)]
    assert coarse.members.tolist() == [10, 5]
    older = coarse.counts[coarse.index[("35–44",)]].toarray().ravel()
    assert older[index[elsewhere.pk]] == pytest.approx(taste_unit, rel=1e-5)


def test_cohort_tables_leave_out_cohorts_below_the_minimum_size(cohort_world, settings):
    track_ids, *_ = cohort_world
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "predictors": {**settings.RECOMMENDER["predictors"], "min_cohort_size": 6},
    }

    finest, middle, coarse = cohort_tables(track_ids=track_ids)

    assert list(finest.keys) == []
    assert finest.counts.shape == (0, 3)
    assert list(middle.keys) == [("18–24", "DE")]
    assert list(coarse.keys) == [("18–24",)]
    assert [len(t.keys) for t in cohort_tables(track_ids=track_ids, min_members=11)] == [0, 0, 0]


def test_the_demographic_predictor_backs_off_on_cohort_tables(cohort_world):
    # given: a female engineer: no cohort of her own, so the age band + country one answers
    track_ids, hit, deep_cut, _ = cohort_world
    tables = cohort_tables(track_ids=track_ids, min_members=1)
    predictor = DemographicPredictor(_catalog(len(track_ids)), tables=tables, min_cohort_size=2)
    profile = ListenerProfile(
        demographics=Demographics(age_band="18–24", country="DE", gender="F", occupation="engineer")
    )

    prediction = predictor.predict(profile, n=5)

    assert [int(track_ids[i]) for i in prediction.tracks] == [hit.pk, deep_cut.pk]
    assert prediction.evidence[0].cohort == (("age_band", "18–24"), ("country", "DE"))


def test_generation_changes_with_the_views_contents_and_is_never_reused():
    track = TrackFactory()
    before = popularity_generation()

    with transaction.atomic():
        event(listener(), track)
        first = refresh_popularity().generation
        assert popularity_generation() == first != before
        transaction.set_rollback(True)
    assert popularity_generation() == before  # the refresh was rolled back …
    event(listener(), track)
    second = refresh_popularity().generation
    idle = refresh_popularity().generation

    assert second not in (before, first)  # … and its number is not handed out again
    assert idle == second == popularity_generation()  # nothing changed: caches stay valid
    assert popularity_state().generation == second
