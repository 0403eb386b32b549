"""GET /api/v1/recommendations/trending/: overall or per genre, bounded, public."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Genre, Track
from recommendations.selectors.popularity import (
    TRENDING_DEFAULT,
    TRENDING_MAX,
    trending_list,
    trending_tracks,
)
from recommendations.services.popularity import refresh_popularity
from tests.recommendations.popularity_data import event, listener

pytestmark = pytest.mark.django_db

URL = "/api/v1/recommendations/trending/"


def _played(tracks: list[Track]) -> None:
    """Track ``i`` of ``tracks`` played by ``len(tracks) - i`` listeners (the first trends
    most), then the views refreshed."""
    for i, track in enumerate(tracks):
        for _ in range(len(tracks) - i):
            event(listener(), track, days_ago=1)
    refresh_popularity()


def _genre_with_tracks(count: int) -> tuple[Genre, list[Track]]:
    genre = next(g for g in Genre.objects.order_by("id") if g.tracks.count() >= count)
    return genre, list(genre.tracks.order_by("id")[:count])


def test_overall_by_default_best_first_with_track_and_score_and_anonymous(api_client):
    # given 25 tracks played by 25, 24, … 1 listeners
    tracks = list(Track.objects.order_by("id")[:25])
    _played(tracks)

    # when a visitor asks
    response = api_client.get(URL)

    # then the default 20, best first, each the track and its figures
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["genre"] is None
    assert body["refreshed_at"]
    results = body["results"]
    assert len(results) == TRENDING_DEFAULT == 20
    assert [r["track"]["id"] for r in results] == [t.pk for t in tracks[:20]]
    assert [r["position"] for r in results] == list(range(1, 21))
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    assert results[0]["plays"] == 25 and results[0]["listeners"] == 25
    assert results[0]["track"]["title"] == tracks[0].title


def test_n_bounds_the_list(api_client):
    _played(list(Track.objects.order_by("id")[:5]))

    assert len(api_client.get(URL, {"n": 3}).json()["results"]) == 3
    assert len(api_client.get(URL, {"n": TRENDING_MAX}).json()["results"]) == 5


@pytest.mark.parametrize("n", ["0", str(TRENDING_MAX + 1), "-1", "ten", "", "2.5", "²"])
def test_n_outside_1_to_100_is_a_400_naming_n(api_client, n):
    response = api_client.get(URL, {"n": n})

    assert response.status_code == 400
    assert set(response.json()) == {"n"}


def test_per_genre_by_id_or_slug(api_client):
    # given three tracks of one genre and two of others that trend more
    genre, inside = _genre_with_tracks(3)
    outside = list(Track.objects.exclude(genres=genre).order_by("id")[:2])
    _played([*outside, *inside])

    # when
    by_id = api_client.get(URL, {"genre": genre.pk}).json()
    by_slug = api_client.get(URL, {"genre": genre.slug}).json()

    # then only the genre's, best first
    assert by_id == by_slug
    assert by_id["genre"] == {"id": genre.pk, "name": genre.name, "slug": genre.slug}
    assert [r["track"]["id"] for r in by_id["results"]] == [t.pk for t in inside]
    assert [row.track_id for row in trending_tracks(genre_id=genre.pk, limit=10)] == [
        t.pk for t in inside
    ]


@pytest.mark.parametrize("genre", ["no-such-genre", "999999999", "", "a b", "x" * 300])
def test_an_unknown_genre_is_a_400_naming_genre(api_client, genre):
    response = api_client.get(URL, {"genre": genre})

    assert response.status_code == 400
    assert set(response.json()) == {"genre"}


def test_before_any_play_the_list_is_empty_not_an_error(api_client):
    refresh_popularity()

    body = api_client.get(URL).json()

    assert body["results"] == []


def test_a_track_deleted_since_the_refresh_is_left_out(api_client):
    tracks = list(Track.objects.order_by("id")[:3])
    _played(tracks)
    tracks[0].delete()

    body = api_client.get(URL).json()

    assert [r["track"]["id"] for r in body["results"]] == [tracks[1].pk, tracks[2].pk]
    assert [r["position"] for r in body["results"]] == [1, 2]


def test_a_listener_gets_the_same_list(listener_api, api_client):
    _played(list(Track.objects.order_by("id")[:4]))

    assert listener_api.get(URL).json() == api_client.get(URL).json()


def test_the_same_queries_whatever_the_length():
    _played(list(Track.objects.order_by("id")[:40]))

    with CaptureQueriesContext(connection) as short:
        assert len(trending_list(genre_id=None, n=3)) == 3
    with CaptureQueriesContext(connection) as long:
        assert len(trending_list(genre_id=None, n=40)) == 40

    # the rows, the tracks, two prefetches (credits, genres)
    assert len(short.captured_queries) == len(long.captured_queries) == 4
