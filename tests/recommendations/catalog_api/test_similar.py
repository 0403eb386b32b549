"""GET /api/v1/tracks/{id}/similar/ and ``recommendations.selectors.similar``: content and
collaborative neighbours, merged, with reasons; the track itself never among them."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Track
from musicrec.errors import ApplicationError
from recommendations.engine.content import FEATURE_WEIGHTS
from recommendations.engine.data import AUDIO_FEATURES
from recommendations.models import TrackContent, TrackVector
from recommendations.selectors.similar import (
    SIMILAR_DEFAULT,
    SIMILAR_MAX,
    shared_descriptors,
    similar_tracks,
)
from recommendations.selectors.vectors import similar_tracks_by_content

pytestmark = pytest.mark.django_db


def _url(track_id: int) -> str:
    return f"/api/v1/tracks/{track_id}/similar/"


def _a_track() -> Track:
    """A demo track with a content vector (every imported track has one)."""
    return Track.objects.filter(pk__in=TrackContent.objects.values("track_id")).order_by("id")[10]


def test_before_any_model_content_neighbours_answer_for_a_visitor(api_client):
    # given no trained model; a demo track
    track = _a_track()

    # when a visitor asks with the defaults
    response = api_client.get(_url(track.pk))

    # then the default 10 by sound, the track itself left out, each explained
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["track"]["id"] == track.pk
    assert body["model_version"] is None
    assert body["sources"] == ["content"]
    results = body["results"]
    assert len(results) == SIMILAR_DEFAULT == 10
    ids = [r["track"]["id"] for r in results]
    assert track.pk not in ids and len(set(ids)) == 10
    assert [r["position"] for r in results] == list(range(1, 11))
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    for result in results:
        assert set(result["sources"]) == {"content"}
        assert result["score"] == pytest.approx(result["sources"]["content"])
        assert 0 < result["score"] <= 1
        assert result["reasons"][0]["kind"] == "sounds_alike"
        assert result["reasons"][0]["text"].startswith("Sounds alike")
    # the same neighbours as the content search itself, nearest first
    nearest = [n.id for n in similar_tracks_by_content(track_id=track.pk, k=10)]
    assert ids == nearest


def test_n_bounds_the_list(api_client):
    track = _a_track()

    assert len(api_client.get(_url(track.pk), {"n": 3}).json()["results"]) == 3
    assert len(api_client.get(_url(track.pk), {"n": SIMILAR_MAX}).json()["results"]) == 50


@pytest.mark.parametrize("n", ["0", str(SIMILAR_MAX + 1), "x", ""])
def test_n_out_of_bounds_is_a_400_naming_n(api_client, n):
    response = api_client.get(_url(_a_track().pk), {"n": n})

    assert response.status_code == 400
    assert set(response.json()) == {"n"}


def test_an_unknown_track_is_a_404(api_client):
    missing = (Track.objects.order_by("-id").values_list("pk", flat=True).first() or 0) + 1000

    response = api_client.get(_url(missing))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api_client.get(_url(0)).status_code == 404
    with pytest.raises(ApplicationError):
        similar_tracks(track_id=missing)


def test_a_track_without_any_vector_has_no_neighbours_but_answers(api_client):
    track = _a_track()
    TrackContent.objects.filter(track=track).delete()

    body = api_client.get(_url(track.pk)).json()

    assert body["results"] == [] and body["sources"] == []


def test_with_a_model_collaborative_neighbours_join_with_their_reason(trained_model, api_client):
    # given an active model, and a track it has a vector for
    version = trained_model.version
    track = Track.objects.get(
        pk=TrackVector.objects.filter(model_version=version).order_by("track_id")[5].track_id
    )

    # when
    body = api_client.get(_url(track.pk), {"n": 20}).json()

    # then both sources answer, merged: the mean of the two scores, each source's reason
    assert body["model_version"] == version.pk
    assert body["sources"] == ["content", "collaborative"]
    ids = [r["track"]["id"] for r in body["results"]]
    assert track.pk not in ids and len(ids) == 20
    kinds = set()
    for result in body["results"]:
        sources = result["sources"]
        assert set(sources) == {"content", "collaborative"}
        assert result["score"] == pytest.approx((sources["content"] + sources["collaborative"]) / 2)
        kinds |= {reason["kind"] for reason in result["reasons"]}
        for reason in result["reasons"]:
            assert sources[reason["source"]] > 0
            if reason["kind"] == "played_together":
                assert reason["text"] == f"Listeners who play {track.title} also play this"
    assert "played_together" in kinds
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def _stored(**standardised: float) -> np.ndarray:
    audio = np.array([standardised.get(n, 0.0) * FEATURE_WEIGHTS[n] for n in AUDIO_FEATURES])
    return np.concatenate([audio, np.zeros(32)])


def test_shared_descriptors_name_what_both_tracks_are_strongest_first():
    first = _stored(energy=2.0, danceability=1.0, valence=-1.0)
    second = _stored(energy=1.5, danceability=2.0, valence=1.0)

    assert shared_descriptors(first, second) == ["energetic", "danceable"]
    assert shared_descriptors(first, second, most=1) == ["energetic"]
    assert shared_descriptors(_stored(energy=-1.0), _stored(energy=1.0)) == []
    assert shared_descriptors(_stored(tempo=-0.8), _stored(tempo=-2.0)) == ["slow"]


def test_a_constant_number_of_queries_whatever_n(trained_model):
    track_id = (
        TrackVector.objects.filter(model_version=trained_model.version)
        .order_by("track_id")[5]
        .track_id
    )

    with CaptureQueriesContext(connection) as few:
        assert len(similar_tracks(track_id=track_id, n=2).items) == 2
    with CaptureQueriesContext(connection) as many:
        assert len(similar_tracks(track_id=track_id, n=40).items) == 40

    assert len(few.captured_queries) == len(many.captured_queries)


def test_the_track_page_lists_the_similar_tracks_with_their_reasons(client):
    track = _a_track()
    expected = similar_tracks(track_id=track.pk, n=6)

    response = client.get(f"/tracks/{track.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Similar tracks" in html and "Sounds alike" in html
    assert [item.track.pk for item in expected] == [item.track.pk for item in expected.items]
    assert len(expected) == 6
    for item in expected:
        assert f'data-track-id="{item.track.pk}"' in html
