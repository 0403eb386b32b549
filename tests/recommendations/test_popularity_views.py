"""What the popularity materialized views hold (migration 0002), refreshed by the real service
against the real database, from events recorded by the history's own services."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog.models import Track
from history.models import Interaction
from recommendations.engine.data import AGE_BANDS, age_band
from recommendations.services.popularity import refresh_popularity
from tests.catalog.factories import GenreFactory, TrackFactory
from tests.recommendations.popularity_data import (
    cohorts,
    event,
    history_add,
    listener,
    popular,
    popular_pairs,
)

pytestmark = pytest.mark.django_db

TREND_HALF_LIFE = 14
TASTE_HALF_LIFE = 30


def _decayed(days: float, half_life: float) -> float:
    return 0.5 ** (days / half_life)


def test_decay_ranks_recent_plays_above_old_ones_and_forgets_past_the_window():
    # given: one play each (by different listeners), at different ages
    fresh, week, month, ancient = TrackFactory.create_batch(4)
    three_old = TrackFactory()
    for track, days in ((fresh, 0), (week, 7), (month, 30), (ancient, 91)):
        event(listener(), track, days_ago=days)
    for _ in range(3):  # three plays two months ago still weigh less than one a month ago
        event(listener(), three_old, days_ago=60)

    # when
    refresh_popularity()

    # then
    overall = popular()
    assert ancient.pk not in overall
    ranked = sorted(overall, key=lambda t: -overall[t]["score"])
    assert ranked == [fresh.pk, week.pk, month.pk, three_old.pk]
    assert [overall[t]["rank"] for t in ranked] == [1, 2, 3, 4]
    assert overall[fresh.pk]["score"] == pytest.approx(1.0, abs=1e-3)
    assert overall[week.pk]["score"] == pytest.approx(_decayed(7, TREND_HALF_LIFE), rel=1e-3)
    assert overall[month.pk]["score"] == pytest.approx(_decayed(30, TREND_HALF_LIFE), rel=1e-3)
    assert overall[three_old.pk]["score"] == pytest.approx(
        3 * _decayed(60, TREND_HALF_LIFE), rel=1e-3
    )
    assert overall[three_old.pk]["plays"] == 3
    assert overall[three_old.pk]["listeners"] == 3


def test_skips_and_dislikes_add_no_popularity():
    # given: a track only skipped and disliked; another played once and also skipped/disliked
    shunned, played = TrackFactory.create_batch(2)
    for track in (shunned, played):
        event(listener(), track, "skip", listened_ms=5_000)
        event(listener(), track, "dislike")
    event(listener(), played)

    refresh_popularity()

    overall = popular()
    assert shunned.pk not in overall
    assert overall[played.pk]["score"] == pytest.approx(1.0, abs=1e-3)
    assert (overall[played.pk]["plays"], overall[played.pk]["listeners"]) == (1, 1)


def test_event_weights_partial_plays_likes_playlists_and_history():
    # given: each kind of positive signal on a track of its own, each by a fresh listener
    half, liked, kept, in_history = TrackFactory.create_batch(4, duration_ms=200_000)
    event(listener(), half, listened_ms=100_000)
    event(listener(), liked, "like")
    event(listener(), kept, "add_to_playlist")
    history_add(listener(), in_history)

    refresh_popularity()

    overall = popular()
    assert overall[half.pk]["score"] == pytest.approx(0.5, abs=1e-3)
    assert overall[liked.pk]["score"] == pytest.approx(2.0, abs=1e-3)
    assert overall[liked.pk]["likes"] == 1
    assert overall[kept.pk]["score"] == pytest.approx(1.5, abs=1e-3)
    assert overall[in_history.pk]["score"] == pytest.approx(2.0, abs=1e-3)
    assert overall[in_history.pk]["plays"] == 0


def test_a_like_counts_once_and_only_while_it_stands():
    # given: one listener likes a track twice; another likes then dislikes a second one
    twice, withdrawn = TrackFactory.create_batch(2)
    fan = listener()
    event(fan, twice, "like", days_ago=1)
    event(fan, twice, "like")
    changed_mind = listener()
    event(changed_mind, withdrawn, "like", days_ago=1)
    event(changed_mind, withdrawn, "dislike")

    refresh_popularity()

    overall = popular()
    assert overall[twice.pk]["score"] == pytest.approx(2.0, abs=1e-3)
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
    assert {t: row["rank"] for t, row in popular(jazz.pk).items()} == {jazz_only.pk: 1, both.pk: 2}
    assert popular(rock.pk)[both.pk]["rank"] == 1
    assert {(0, both.pk), (0, jazz_only.pk)} <= pairs


def _bulk_plays(tracks: list[Track], user, plays_of) -> None:
    Interaction.objects.bulk_create(
        [
            Interaction(user=user, track=track, kind="play")
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
    assert in_genre[tracks[0].pk]["rank"] == 1
    assert len([t for t in tracks if t.pk in popular()]) == 501


def test_cohorts_at_three_levels_with_member_counts():
    # given
    students = [
        listener(age=age, country="DE", gender="F", occupation="student") for age in (20, 24)
    ]
    listener(age=21, country="DE", gender="F", occupation="student")  # a member with no events
    engineer = listener(age=18, country="DE", gender="M", occupation="engineer")
    no_gender = listener(age=19, country="DE", occupation="student")
    french = listener(age=22, country="FR", gender="F", occupation="student")
    older = listener(age=30, country="DE", gender="F", occupation="student")
    ageless = listener(country="DE", gender="F", occupation="student")
    hit, niche, other = TrackFactory.create_batch(3)
    for student in students:
        event(student, hit)
    event(students[0], hit, "like")
    event(engineer, niche)
    event(no_gender, niche)
    event(french, other)
    event(older, other)
    event(ageless, other)

    # when
    refresh_popularity()

    # then
    rows = cohorts()
    by_cohort: dict[tuple, dict[int, dict]] = {}
    for row in rows:
        key = (row["level"], row["age_band"], row["country"], row["gender"], row["occupation"])
        by_cohort.setdefault(key, {})[row["track_id"]] = row
    young_de_f_student = (4, "18–24", "DE", "F", "student")
    young_de = (2, "18–24", "DE", "", "")
    young = (1, "18–24", "", "", "")
    assert set(by_cohort[young_de_f_student]) == {hit.pk}
    assert by_cohort[young_de_f_student][hit.pk]["members"] == 3  # the idle student counts
    assert by_cohort[young_de_f_student][hit.pk]["listeners"] == 2
    assert by_cohort[young_de_f_student][hit.pk]["score"] == pytest.approx(4.0, abs=1e-3)
    assert set(by_cohort[young_de]) == {hit.pk, niche.pk}
    assert {row["members"] for row in by_cohort[young_de].values()} == {5}
    in_young_de = [r for r in rows if (r["level"], r["age_band"], r["country"]) == young_de[:3]]
    assert [r["track_id"] for r in in_young_de] == [hit.pk, niche.pk]  # by rank
    assert set(by_cohort[young]) == {hit.pk, niche.pk, other.pk}
    assert {row["members"] for row in by_cohort[young].values()} == {6}
    assert (4, "18–24", "DE", "M", "engineer") in by_cohort
    assert (4, "25–34", "DE", "F", "student") in by_cohort
    assert not any(key[0] == 4 and key[2] == "DE" and key[3] == "" for key in by_cohort)
    assert other.pk not in by_cohort[young_de]  # the French listener is not in DE
    assert all(key[1] for key in by_cohort)  # the ageless listener is in no cohort


def test_a_cohorts_rows_stop_at_its_top_200():
    fan = listener(age=40)
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
    assert sorted(r["rank"] for r in rows) == list(range(1, 201))


def test_age_bands_are_the_engines_labels_at_every_boundary():
    # given: a listener at each edge of each band, each playing a track of their own
    ages = [13, 17, 18, 24, 25, 34, 35, 44, 45, 54, 55, 64, 65, 100]
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
    event(listener(age=50), track, days_ago=30)

    refresh_popularity()

    (row,) = [r for r in cohorts() if r["track_id"] == track.pk]
    assert row["score"] == pytest.approx(_decayed(30, TASTE_HALF_LIFE), rel=1e-3)
    assert popular()[track.pk]["score"] == pytest.approx(_decayed(30, TREND_HALF_LIFE), rel=1e-3)
