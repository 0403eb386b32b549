"""/api/v1/me/blocks/ ("not interested in this artist") and the listener's default discovery
in /api/v1/me/context/: each listener's own, in the export, gone with the account."""

from __future__ import annotations

import pytest

from accounts.models import ArtistBlock
from catalog.models import Artist
from tests.accounts.factories import PASSWORD
from tests.helpers import response_json

pytestmark = pytest.mark.django_db

BLOCKS = "/api/v1/me/blocks/"


@pytest.fixture
def artists() -> list[Artist]:
    return list(Artist.objects.order_by("pk")[:3])


def test_block_list_and_unblock(listener_api, listener, artists):
    # when two artists are blocked
    first = listener_api.post(BLOCKS, {"artist_id": artists[0].pk}, format="json")
    second = listener_api.post(BLOCKS, {"artist_id": artists[1].pk}, format="json")

    # then each answer is the block, and the list shows them, the latest first
    assert first.status_code == second.status_code == 201
    assert first.json()["artist"] == {"id": artists[0].pk, "name": artists[0].name}
    assert first.json()["blocked_at"]
    listed = listener_api.get(BLOCKS).json()
    assert listed["count"] == 2
    assert [block["artist"]["id"] for block in listed["results"]] == [
        artists[1].pk,
        artists[0].pk,
    ]

    # and unblocking removes one
    assert listener_api.delete(f"{BLOCKS}{artists[0].pk}/").status_code == 204
    assert [b.artist_id for b in ArtistBlock.objects.filter(user=listener)] == [artists[1].pk]


def test_blocking_twice_answers_the_existing_block(listener_api, listener, artists):
    first = listener_api.post(BLOCKS, {"artist_id": artists[0].pk}, format="json")
    again = listener_api.post(BLOCKS, {"artist_id": artists[0].pk}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert ArtistBlock.objects.filter(user=listener).count() == 1


def test_an_unknown_artist_is_a_404_and_nothing_is_stored(listener_api, listener):
    missing = (Artist.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1

    response = listener_api.post(BLOCKS, {"artist_id": missing}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_artist"
    assert not ArtistBlock.objects.filter(user=listener).exists()


@pytest.mark.parametrize("payload", [{}, {"artist_id": "12"}, {"artist_id": 0}, {"artist_id": 1.5}])
def test_a_malformed_artist_id_is_a_field_error(listener_api, payload):
    response = listener_api.post(BLOCKS, payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["artist_id"]


def test_unblocking_an_artist_not_blocked_is_a_404(listener_api, artists):
    response = listener_api.delete(f"{BLOCKS}{artists[0].pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_blocked"


def test_listeners_never_see_or_remove_each_others_blocks(
    listener_api, other_api, other_listener, artists
):
    other_api.post(BLOCKS, {"artist_id": artists[0].pk}, format="json")

    assert listener_api.get(BLOCKS).json()["count"] == 0
    assert listener_api.delete(f"{BLOCKS}{artists[0].pk}/").status_code == 404
    assert ArtistBlock.objects.filter(user=other_listener).count() == 1


def test_blocks_and_discovery_are_in_the_export(listener, artists):
    api = _signed_in_api(listener)
    api.post(BLOCKS, {"artist_id": artists[0].pk}, format="json")
    api.put("/api/v1/me/context/", {"discovery": 0.25}, format="json")

    data = response_json(api.get("/api/v1/me/export/"))

    assert data["context"]["discovery"] == 0.25
    assert [block["artist"] for block in data["blocks"]] == [
        {"id": artists[0].pk, "name": artists[0].name}
    ]
    assert data["blocks"][0]["blocked_at"]


def test_blocks_go_with_the_account(listener_api, listener, other_api, other_listener, artists):
    listener_api.post(BLOCKS, {"artist_id": artists[0].pk}, format="json")
    other_api.post(BLOCKS, {"artist_id": artists[0].pk}, format="json")

    listener_api.delete("/api/v1/me/", {"password": PASSWORD}, format="json")

    assert not ArtistBlock.objects.filter(user_id=listener.pk).exists()
    assert ArtistBlock.objects.filter(user=other_listener).count() == 1


# --------------------------------------------------------------------------- discovery


def _signed_in_api(user):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return api


def test_discovery_is_set_with_the_context_and_shown_in_the_profile(listener):
    api = _signed_in_api(listener)

    answer = api.put(
        "/api/v1/me/context/", {"mood": "happy", "discovery": 0.8}, format="json"
    ).json()
    kept = api.put("/api/v1/me/context/", {"mood": "sad"}, format="json").json()

    assert answer["context"]["discovery"] == 0.8
    assert kept["context"] == {**kept["context"], "mood": "sad", "discovery": 0.8}
    assert api.get("/api/v1/me/").json()["context"]["discovery"] == 0.8
    listener.refresh_from_db()
    assert (listener.mood, listener.discovery) == ("sad", 0.8)


@pytest.mark.parametrize("discovery", [1.5, -0.01, "0.5", True, None])
def test_a_bad_discovery_is_a_400_and_changes_nothing(listener, discovery):
    api = _signed_in_api(listener)

    response = api.put(
        "/api/v1/me/context/", {"mood": "happy", "discovery": discovery}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["discovery"]
    listener.refresh_from_db()
    assert (listener.mood, listener.discovery) == ("", 0.5)
