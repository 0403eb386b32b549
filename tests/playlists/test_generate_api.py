"""POST /api/v1/playlists/generate/: 201 with the new playlist, 400 per field, 404 for an unknown
track or artist, 401 anonymous; a refusal stores nothing."""

from __future__ import annotations

import pytest

from catalog.models import Track
from playlists.models import Playlist
from recommendations.selectors import serving

pytestmark = pytest.mark.django_db

URL = "/api/v1/playlists/generate/"


@pytest.fixture(autouse=True, scope="module")
def _fresh_state():
    serving.serving_state_reset()
    yield
    serving.serving_state_reset()


def _popular(n: int) -> list[int]:
    return list(Track.objects.order_by("-popularity", "id").values_list("pk", flat=True)[:n])


def test_a_radio_is_created_and_answered_with_its_tracks_in_order(listener_api, listener):
    seed_track = Track.objects.get(pk=_popular(1)[0])

    response = listener_api.post(
        URL,
        {"kind": "radio", "length": 12, "seed_track_id": seed_track.pk, "seed": 5},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    playlist = Playlist.objects.get(pk=body["id"])
    assert playlist.owner == listener
    assert body["name"] == f"Radio from {seed_track.title}"
    assert body["origin"] == "radio" and body["is_public"] is False
    assert body["origin_parameters"]["seed"] == 5
    assert body["origin_parameters"]["seed_track_id"] == seed_track.pk
    assert body["origin_parameters"]["requested"] == body["origin_parameters"]["found"] == 12
    assert [entry["position"] for entry in body["tracks"]] == list(range(1, 13))
    assert body["tracks"][0]["track"]["id"] == seed_track.pk
    assert body["track_count"] == 12


def test_the_same_seed_answers_the_same_tracks(listener_api):
    start, end = _popular(2)
    request = {"kind": "path", "length": 10, "from_track_id": start, "to_track_id": end}

    first = listener_api.post(URL, {**request, "seed": 9}, format="json").json()
    again = listener_api.post(URL, {**request, "seed": 9}, format="json").json()

    tracks = [entry["track"]["id"] for entry in first["tracks"]]
    assert tracks == [entry["track"]["id"] for entry in again["tracks"]]
    assert tracks[0] == start and tracks[-1] == end
    assert first["name"].startswith("From ")


def test_mood_and_recommendations_and_a_public_one(listener_api):
    mix = listener_api.post(
        URL, {"kind": "mood", "length": 5, "mood": "calm", "is_public": True}, format="json"
    )
    mine = listener_api.post(URL, {"kind": "recommendations", "length": 5}, format="json")

    assert mix.status_code == 201 and mine.status_code == 201
    assert mix.json()["name"] == "Calm mix" and mix.json()["is_public"] is True
    assert mine.json()["name"].startswith("Your recommendations, ")
    assert len(mine.json()["tracks"]) == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "radio", "length": 10}, "seed_track_id"),
        (
            {"kind": "radio", "length": 10, "seed_track_id": 1, "seed_artist_id": 1},
            "seed_artist_id",
        ),
        ({"kind": "mood", "length": 10}, "mood"),
        ({"kind": "mood", "length": 10, "mood": "furious"}, "mood"),
        ({"kind": "path", "length": 10, "from_track_id": 3, "to_track_id": 3}, "to_track_id"),
        ({"kind": "path", "length": 10, "from_track_id": 3}, "to_track_id"),
        ({"kind": "recommendations", "length": 4}, "length"),
        ({"kind": "recommendations", "length": "10"}, "length"),
        ({"kind": "recommendations"}, "length"),
        ({"length": 10}, "kind"),
        ({"kind": "shuffle", "length": 10}, "kind"),
        ({"kind": "recommendations", "length": 10, "seed": -1}, "seed"),
        ({"kind": "recommendations", "length": 10, "is_public": "yes"}, "is_public"),
        ({"kind": "recommendations", "length": 10, "colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(listener_api, body, field):
    response = listener_api.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Playlist.objects.exists()


def test_an_unknown_track_or_artist_is_a_404_and_stores_nothing(listener_api):
    missing = Track.objects.order_by("-pk")[0].pk + 1000

    for body in (
        {"kind": "radio", "length": 10, "seed_track_id": missing},
        {"kind": "radio", "length": 10, "seed_artist_id": 10**9},
        {"kind": "path", "length": 10, "from_track_id": _popular(1)[0], "to_track_id": missing},
    ):
        response = listener_api.post(URL, body, format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert not Playlist.objects.exists()


def test_anonymous_callers_are_refused(api_client):
    response = api_client.post(URL, {"kind": "recommendations", "length": 5}, format="json")

    assert response.status_code == 401
    assert not Playlist.objects.exists()
