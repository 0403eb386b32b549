"""Serving recommendations from the database: what the issue's database checks ask of the
engine the site runs (``recommendations.selectors.serving``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import GenrePreference
from catalog.models import Genre, Track
from history.models import HistoryEntry, Interaction, Opinion
from recommendations.engine.predictors import ContentPredictor
from recommendations.selectors import serving
from recommendations.services.serving import catalog_generation_bump
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ArtistFactory, GenreFactory, TrackFactory
from tests.catalog.test_admin import change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


def _ids(result: serving.RecommendationList) -> list[int]:
    return [item.track.pk for item in result.items]


def _max_artist_run(result: serving.RecommendationList) -> int:
    longest = run = 0
    previous = None
    for item in result.items:
        artist = item.track.track_artists.all()[0].artist_id
        run = run + 1 if artist == previous else 1
        previous = artist
        longest = max(longest, run)
    return longest


def test_a_listener_with_nothing_at_all_gets_five_varied_explained_results():
    newcomer = UserFactory(age=None, country="", gender="", occupation="")

    result = serving.recommendations_for(user=newcomer)

    assert len(result.items) == 5
    assert len(set(_ids(result))) == 5
    assert _max_artist_run(result) <= 3
    assert result.weights == {"popularity": pytest.approx(1.0)}
    for item in result.items:
        assert 0.0 <= item.confidence <= 1.0
        assert item.reasons and all(reason["text"] for reason in item.reasons)
        assert item.sources["popularity"] > 0


def test_fifty_history_entries_never_come_back(listener):
    popular = list(Track.objects.order_by("-popularity", "id").values_list("pk", flat=True)[:50])
    HistoryEntry.objects.bulk_create(
        HistoryEntry(user=listener, track_id=track, slot=slot)
        for slot, track in enumerate(popular, start=1)
    )

    result = serving.recommendations_for(user=listener, n=100)

    assert len(result.items) == 100
    assert not set(_ids(result)) & set(popular)


def test_a_disliked_genre_never_appears(listener):
    # the genre of the most popular tracks, so it would otherwise lead the list
    top = Track.objects.order_by("-popularity", "id").prefetch_related("genres")[:20]
    genre = next(genre for track in top for genre in track.genres.all())
    GenrePreference.objects.create(user=listener, genre=genre, kind=GenrePreference.Kind.DISLIKED)

    result = serving.recommendations_for(user=listener, n=100)

    assert len(result.items) == 100
    assert all(genre not in item.track.genres.all() for item in result.items)


def test_a_failing_predictor_still_gives_results_and_says_so(listener, monkeypatch, caplog):
    tracks = list(Track.objects.order_by("id").values_list("pk", flat=True)[:5])
    HistoryEntry.objects.bulk_create(
        HistoryEntry(user=listener, track_id=track, slot=slot)
        for slot, track in enumerate(tracks, start=1)
    )

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("content vectors are corrupt")

    monkeypatch.setattr(ContentPredictor, "predict", broken)
    result = serving.recommendations_for(user=listener, n=10)

    assert len(result.items) == 10
    assert "content" in result.failed
    assert "content" not in result.weights
    assert "predictor content failed" in caplog.text


def test_the_context_of_the_request_overrides_the_stored_one(listener):
    listener.activity = "relax"
    listener.save(update_fields=["activity"])

    result = serving.recommendations_for(user=listener, n=10, activity="exercise", mood="")

    assert result.parameters == {"n": 10, "mood": None, "activity": "exercise", "discovery": 0.5}
    stored = serving.recommendations_for(user=listener, n=10)
    assert stored.parameters["activity"] == "relax"


def test_the_discovery_of_the_request_overrides_the_listener_default(listener):
    listener.discovery = 0.8
    listener.save(update_fields=["discovery"])

    assert serving.recommendations_for(user=listener).parameters["discovery"] == 0.8
    assert serving.recommendations_for(user=listener, discovery=0.0).parameters["discovery"] == 0.0


def test_a_blocked_artist_never_comes_back(listener):
    from accounts.services import artist_block

    # given the artists of a first list, all blocked
    first = serving.recommendations_for(user=listener, n=20)
    blocked = {c.artist_id for item in first.items for c in item.track.track_artists.all()}
    for artist_id in blocked:
        artist_block(user=listener, artist_id=artist_id)

    # when a long list is asked for
    second = serving.recommendations_for(user=listener, n=100)

    # then none of their tracks is in it (an artist is blocked by any of its credits' lead)
    leads = {item.track.track_artists.all()[0].artist_id for item in second.items}
    assert second.items
    assert not leads & blocked


def test_skips_of_the_last_day_are_dropped_and_older_ones_are_not(listener):
    from datetime import timedelta

    from django.utils import timezone

    first = serving.recommendations_for(user=listener, n=5)
    skipped, older = _ids(first)[:2]
    Interaction.objects.create(user=listener, track_id=skipped, kind="skip")
    Interaction.objects.create(
        user=listener, track_id=older, kind="skip", occurred_at=timezone.now() - timedelta(days=2)
    )

    again = _ids(serving.recommendations_for(user=listener, n=5))

    assert skipped not in again
    assert older in again


def test_a_disliked_track_never_comes_back(listener):
    first = _ids(serving.recommendations_for(user=listener, n=5))
    Opinion.objects.create(user=listener, track_id=first[0], value=Opinion.Value.DISLIKE)

    assert first[0] not in _ids(serving.recommendations_for(user=listener, n=50))


def test_a_track_saved_in_the_admin_is_recommendable_at_once(
    admin_client: Client, listener, django_capture_on_commit_callbacks
):
    # a listener who plays nothing but one artist's quiet, acoustic tracks of one genre
    niche = GenreFactory(name="test-niche")
    artist = ArtistFactory(name="Quiet Artist")
    features = {"energy": 0.05, "acousticness": 0.98, "valence": 0.2, "tempo": 70.0}
    history = [TrackFactory(artists=[artist], genres=[niche], **features) for _ in range(4)]
    HistoryEntry.objects.bulk_create(
        HistoryEntry(user=listener, track=track, slot=slot)
        for slot, track in enumerate(history, start=1)
    )
    GenrePreference.objects.create(user=listener, genre=niche, kind=GenrePreference.Kind.PREFERRED)
    serving.serving_state()  # a web process that has already loaded the catalog

    # a curator adds a fifth track by the artist through the admin
    url = reverse("admin:catalog_track_add")
    data = change_form_data(admin_client.get(url))
    data.update(
        title="Brand New Quiet Song",
        spotify_id="0" * 21 + "Z",
        duration_ms="200000",
        popularity="0",
        genres=[str(niche.pk)],
        energy="0.05",
        acousticness="0.98",
        valence="0.2",
        tempo="70",
    )
    data["track_artists-TOTAL_FORMS"] = "1"
    data["track_artists-0-artist"] = str(artist.pk)
    data["track_artists-0-position"] = "0"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    new = Track.objects.get(title="Brand New Quiet Song")

    result = serving.recommendations_for(user=listener, n=10)

    assert new.pk in _ids(result)
    reasons = next(item.reasons for item in result.items if item.track.pk == new.pk)
    assert any(reason["source"] == "content" for reason in reasons)


def test_the_state_is_reused_until_a_generation_moves(listener, django_capture_on_commit_callbacks):
    first = serving.serving_state()
    assert serving.serving_state() is first
    Genre.objects.create(name="unused", slug="unused")  # not a track change: same state
    assert serving.serving_state() is first

    with django_capture_on_commit_callbacks(execute=True):
        catalog_generation_bump()

    rebuilt = serving.serving_state()
    assert rebuilt is not first
    assert rebuilt.key[0] == first.key[0] + 1
    assert np.array_equal(rebuilt.engine.track_ids, first.engine.track_ids)


def test_with_an_active_model_a_like_changes_the_very_next_answer(
    trained_model, listener, listener_api, django_capture_on_commit_callbacks
):
    # a listener with five tracks of one genre in their history
    genre = Genre.objects.filter(tracks__isnull=False).order_by("name").first()
    tracks = list(genre.tracks.order_by("-popularity", "id")[:5])
    HistoryEntry.objects.bulk_create(
        HistoryEntry(user=listener, track=track, slot=slot)
        for slot, track in enumerate(tracks, start=1)
    )
    before = serving.recommendations_for(user=listener, n=10)
    assert before.model_version_id == trained_model.version.pk
    assert before.weights["collaborative"] > 0
    assert any(item.sources["collaborative"] > 0 for item in before.items)

    # they like a track of another genre, through the API a client uses
    other = Track.objects.exclude(genres=genre).order_by("-popularity", "id").first()
    with django_capture_on_commit_callbacks(execute=True):
        response = listener_api.post(
            "/api/v1/interactions/", {"track_id": other.pk, "kind": "like"}, format="json"
        )
    assert response.status_code == 201, response.content

    after = serving.recommendations_for(user=listener, n=10)
    assert other.pk not in _ids(after)  # liked: known, never recommended back
    assert _ids(after) != _ids(before)


def test_an_unreadable_popularity_view_still_gives_results(listener, caplog):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW popular_tracks WITH NO DATA")

    result = serving.recommendations_for(user=listener, n=5)

    assert len(result.items) == 5
    assert "popularity views unreadable" in caplog.text


def test_a_request_reads_a_constant_number_of_queries_whatever_the_history(
    listener, other_listener
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    serving.serving_state()  # built once per process, not per request
    tracks = list(Track.objects.order_by("id").values_list("pk", flat=True)[:50])
    HistoryEntry.objects.bulk_create(
        HistoryEntry(user=listener, track_id=track, slot=slot)
        for slot, track in enumerate(tracks, start=1)
    )
    Interaction.objects.bulk_create(
        Interaction(user=listener, track_id=track, kind="play") for track in tracks
    )
    with CaptureQueriesContext(connection) as empty:
        serving.recommendations_for(user=other_listener, n=5)
    with CaptureQueriesContext(connection) as full:
        serving.recommendations_for(user=listener, n=100)

    assert 0 < len(empty.captured_queries) <= 15
    assert len(full.captured_queries) == len(empty.captured_queries)
