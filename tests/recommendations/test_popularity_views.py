"""What the popularity materialized views hold (migration 0002), refreshed by the real service
against the real database, from events recorded by the history's own services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import Track
from history.models import Interaction
from recommendations.engine.data import AGE_BANDS, age_band
from recommendations.services.popularity import refresh_popularity
from tests.catalog.factories import GenreFactory, TrackFactory
from tests.recommendations.popularity_data import (
    TASTE_HALF_LIFE_DAYS,
    cohorts,
    decayed,
    event,
    history_add,
    listener,
    popular,
    popular_pairs,
)

pytestmark = pytest.mark.django_db


def _by_score(rows: dict[int, dict]) -> list[int]:
    return sorted(rows, key=lambda track: (-rows[track]["score"], track))


def test_decay_ranks_recent_plays_above_old_ones_and_forgets_past_the_window():
    # given: one play each (by different listeners), at different ages
    fresh, week, month, ancient = TrackFactory.create_batch(4)
    three_old = TrackFactory()
    at = {
        track: event(listener(), track, days_ago=days)
        for track, days in ((fresh, 0), (week, 7), (month, 30), (ancient, 92))
    }
    for _ in range(3):  # three plays two months ago still weigh less than one a month ago
        at[three_old] = event(listener(), three_old, days_ago=60)

    # when
    refresh_popularity()

    # then
    overall = popular()
    assert ancient.pk not in overall
    assert _by_score(overall) == [fresh.pk, week.pk, month.pk, three_old.pk]
    for track in (fresh, week, month):
        assert overall[track.pk]["score"] == pytest.approx(decayed(at[track]), rel=1e-6)
    assert overall[three_old.pk]["score"] == pytest.approx(3 * decayed(at[three_old]), rel=1e-4)
    assert overall[week.pk]["score"] / overall[fresh.pk]["score"] == pytest.approx(
        0.5 ** (7 / 14), rel=1e-4
    )
    assert overall[three_old.pk]["plays"] == 3
    assert overall[three_old.pk]["listeners"] == 3


def test_skips_and_dislikes_add_no_popularity():
    # given: a track only skipped and disliked; another played once and also skipped/disliked
    shunned, played = TrackFactory.create_batch(2)
    for track in (shunned, played):
        event(listener(), track, "skip", listened_ms=5_000)
        event(listener(), track, "dislike")
    at = event(listener(), played)

    refresh_popularity()

    overall = popular()
    assert shunned.pk not in overall
    assert overall[played.pk]["score"] == pytest.approx(decayed(at), rel=1e-6)
    assert (overall[played.pk]["plays"], overall[played.pk]["listeners"]) == (1, 1)


def test_event_weights_partial_plays_likes_playlists_and_history():
    # given: each kind of positive signal on a track of its own, each by a fresh listener
    half, liked, kept, in_history = TrackFactory.create_batch(4, duration_ms=200_000)
    at = {
        half: event(listener(), half, listened_ms=100_000, days_ago=1),
        liked: event(listener(), liked, "like", days_ago=1),
        kept: event(listener(), kept, "add_to_playlist", days_ago=1),
        in_history: history_add(listener(), in_history, days_ago=1),
    }

    refresh_popularity()

    overall = popular()
    expected = {half: 0.5, liked: 2.0, kept: 1.5, in_history: 2.0}
    for track, weight in expected.items():
        assert overall[track.pk]["score"] == pytest.approx(weight * decayed(at[track]), rel=1e-6)
    assert overall[liked.pk]["likes"] == 1
    assert overall[in_history.pk]["plays"] == 0


def test_a_like_counts_once_and_only_while_it_stands():
    # given: one listener likes a track twice; another likes then dislikes a second one
    twice, withdrawn = TrackFactory.create_batch(2)
    fan = listener()
    event(fan, twice, "like", days_ago=2)
    last = event(fan, twice, "like", days_ago=1)
    changed_mind = listener()
    event(changed_mind, withdrawn, "like", days_ago=1)
    event(changed_mind, withdrawn, "dislike")

    refresh_popularity()

    overall = popular()
    assert overall[twice.pk]["score"] == pytest.approx(2.0 * decayed(last), rel=1e-6)
    assert overall[twice.pk]["likes"] == 1
    assert withdrawn.pk not in overall


def test_one_listener_replaying_a_track_adds_at_most_the_cap():
    # given: one listener plays a track 10 times; two listeners play another once each
    replayed, shared = TrackFactory.create_batch(2)
    fan = listener()
    for _ in range(10):
        event(fan, replayed)
    event(listener(), shared)
    event(listener(), shared)

    refresh_popularity()

    overall = popular()
    assert overall[replayed.pk]["score"] == pytest.approx(4.0)
    assert (overall[replayed.pk]["plays"], overall[replayed.pk]["listeners"]) == (10, 1)
    assert overall[shared.pk]["listeners"] == 2


def test_deactivated_listeners_do_not_count():
    track = TrackFactory()
    gone = listener()
    event(gone, track)
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    refresh_popularity()

    assert track.pk not in popular()


def test_per_genre_rows_only_for_the_tracks_genres_ranked_within_the_genre():
    # given: a track in rock and jazz, another in jazz only, a third genre nobody plays
    rock, jazz, folk = GenreFactory.create_batch(3)
    both = TrackFactory(genres=[rock, jazz])
    jazz_only = TrackFactory(genres=[jazz])
    for _ in range(2):
        event(listener(), jazz_only)
    event(listener(), both)

    refresh_popularity()

    pairs = popular_pairs()
    assert {(rock.pk, both.pk), (jazz.pk, both.pk), (jazz.pk, jazz_only.pk)} <= pairs
    assert (rock.pk, jazz_only.pk) not in pairs
    assert not any(genre == folk.pk for genre, _ in pairs)
    assert _by_score(popular(jazz.pk)) == [jazz_only.pk, both.pk]
    assert list(popular(rock.pk)) == [both.pk]
    assert {(0, both.pk), (0, jazz_only.pk)} <= pairs


def _bulk_plays(tracks: list[Track], user, plays_of) -> None:
    """Plays, all at one moment (so equal counts tie exactly)."""
    at = timezone.now() - dt.timedelta(hours=1)
    Interaction.objects.bulk_create(
        [
            Interaction(user=user, track=track, kind="play", occurred_at=at, recorded_at=at)
            for n, track in enumerate(tracks)
            for _ in range(plays_of(n))
        ]
    )


def test_per_genre_rows_stop_at_the_top_500():
    # given: 501 tracks of one genre, each played by a different number of listeners' plays
    genre = GenreFactory()
    tracks = Track.objects.bulk_create(
        [
            Track(spotify_id=f"Top500Track{n:010d}", title=f"Top {n}", duration_ms=100_000)
            for n in range(501)
        ]
    )
    Track.genres.through.objects.bulk_create(
        [Track.genres.through(track_id=t.pk, genre_id=genre.pk) for t in tracks]
    )
    _bulk_plays(tracks[:1], listener(), lambda n: 2)  # the first one plays twice (score 2)
    _bulk_plays(tracks, listener(), lambda n: 1)

    refresh_popularity()

    in_genre = popular(genre.pk)
    assert len(in_genre) == 500
    assert _by_score(in_genre)[0] == tracks[0].pk
    assert tracks[-1].pk not in in_genre  # of the 500 tied at 1 play, the lowest ids stay
    assert len([t for t in tracks if t.pk in popular()]) == 501


def _cohort_rows() -> dict[tuple, dict[int, dict]]:
    """``demographic_popularity`` by cohort key, then by track."""
    by_cohort: dict[tuple, dict[int, dict]] = {}
    for row in cohorts():
        key = (row["level"], row["age_band"], row["country"], row["gender"], row["occupation"])
        by_cohort.setdefault(key, {})[row["track_id"]] = row
    return by_cohort


def _idle(n: int, **demographics) -> None:
    """Members who played nothing (a cohort needs 5 to be in the view)."""
    for _ in range(n):
        listener(**demographics)


def test_cohorts_at_three_levels_with_member_counts():
    # given: five 18–24 German female students (four play the hit, one likes it too, one
    # plays nothing), a German engineer and a German student of no gender (both play the
    # niche track), a French student; and others in cohorts too small or with no age
    students = [
        listener(age=age, country="DE", gender="F", occupation="student")
        for age in (18, 20, 22, 24)
    ]
    _idle(1, age=21, country="DE", gender="F", occupation="student")
    engineer = listener(age=18, country="DE", gender="M", occupation="engineer")
    no_gender = listener(age=19, country="DE", occupation="student")
    french = listener(age=22, country="FR", gender="F", occupation="student")
    older = listener(age=30, country="DE", gender="F", occupation="student")
    ageless = listener(country="DE", gender="F", occupation="student")
    hit, niche, other = TrackFactory.create_batch(3)
    for student in students:
        event(student, hit, days_ago=1)
    liked_at = event(students[0], hit, "like", days_ago=1)
    event(engineer, niche)
    event(no_gender, niche)
    event(french, other)
    event(older, other)
    event(ageless, other)

    # when
    refresh_popularity()

    # then: only the cohorts of five and more, with every member counted
    by_cohort = _cohort_rows()
    young_de_f_student = (4, "18–24", "DE", "F", "student")
    young_de = (2, "18–24", "DE", "", "")
    young = (1, "18–24", "", "", "")
    assert set(by_cohort) == {young_de_f_student, young_de, young}
    assert set(by_cohort[young_de_f_student]) == {hit.pk}
    the_hit = by_cohort[young_de_f_student][hit.pk]
    assert (the_hit["members"], the_hit["listeners"], the_hit["plays"]) == (5, 4, 4)
    assert the_hit["likes"] == 1
    assert the_hit["score"] == pytest.approx(6 * decayed(liked_at, TASTE_HALF_LIFE_DAYS), rel=1e-4)
    assert set(by_cohort[young_de]) == {hit.pk, niche.pk}  # not the French listener's
    assert {row["members"] for row in by_cohort[young_de].values()} == {7}
    assert by_cohort[young_de][niche.pk]["listeners"] == 2
    assert set(by_cohort[young]) == {hit.pk, niche.pk, other.pk}
    assert {row["members"] for row in by_cohort[young].values()} == {8}


def test_a_cohort_of_four_is_left_out_and_of_five_is_in():
    # given: four 45–54 listeners and five 55–64 ones, one of each group playing a track
    track = TrackFactory()
    _idle(3, age=50)
    event(listener(age=50), track)
    _idle(4, age=60)
    event(listener(age=60), track)

    refresh_popularity()

    assert set(_cohort_rows()) == {(1, "55–64", "", "", "")}


def test_a_cohorts_rows_stop_at_its_top_200():
    fan = listener(age=40)
    _idle(4, age=40)
    tracks = Track.objects.bulk_create(
        [
            Track(spotify_id=f"Top200Track{n:010d}", title=f"Top {n}", duration_ms=100_000)
            for n in range(201)
        ]
    )
    _bulk_plays(tracks, fan, lambda n: 1)

    refresh_popularity()

    rows = [r for r in cohorts() if r["age_band"] == "35–44"]
    assert len(rows) == 200
    assert tracks[-1].pk not in {r["track_id"] for r in rows}  # ties: the lowest ids stay


def test_age_bands_are_the_engines_labels_at_every_boundary():
    # given: a listener at each edge of each band, each playing a track of their own
    ages = [13, 17, 18, 24, 25, 34, 35, 44, 45, 54, 55, 64, 65, 100]
    for lowest, _ in AGE_BANDS:
        _idle(3, age=lowest + 1)
    track_of_age = {}
    for age in ages:
        track = TrackFactory()
        event(listener(age=age), track)
        track_of_age[age] = track.pk

    refresh_popularity()

    band_of_track = {r["track_id"]: r["age_band"] for r in cohorts() if r["level"] == 1}
    assert {age: band_of_track[track_of_age[age]] for age in ages} == {
        age: age_band(age) for age in ages
    }
    assert {band_of_track[t] for t in track_of_age.values()} == {label for _, label in AGE_BANDS}


def test_views_have_the_unique_indexes_concurrent_refresh_needs():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
             WHERE t.relname IN ('popular_tracks', 'demographic_popularity') AND i.indisunique
            """
        )
        unique = dict(cursor.fetchall())
    assert unique["popular_tracks"].endswith("(genre_id, track_id)")
    assert unique["demographic_popularity"].endswith(
        "(level, age_band, country, gender, occupation, track_id)"
    )


def test_cohort_taste_decays_slower_than_the_trend():
    # given: one play a month ago
    track = TrackFactory()
    at = event(listener(age=50), track, days_ago=30)
    _idle(4, age=50)

    refresh_popularity()

    (row,) = [r for r in cohorts() if r["track_id"] == track.pk]
    assert row["score"] == pytest.approx(decayed(at, TASTE_HALF_LIFE_DAYS), rel=1e-6)
    assert popular()[track.pk]["score"] == pytest.approx(decayed(at), rel=1e-6)
