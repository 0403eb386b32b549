"""Hostile bodies and addresses found in review: each is a 4xx, never a 500."""

from __future__ import annotations

import time

import pytest

from catalog.models import Track
from playlists.models import Playlist
from playlists.services.playlists import playlist_create

pytestmark = pytest.mark.django_db

BAD_VALUES = [10**30, -1, 0, 1.5, True, None, "1", [1], {"a": 1}, "x" * 100_000, "a\x00b"]


def _ids(n: int) -> list[int]:
    return list(Track.objects.order_by("id").values_list("id", flat=True)[:n])


@pytest.fixture
def own(listener) -> Playlist:
    return playlist_create(owner=listener, name="Mine", track_ids=_ids(5))


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("field", ["name", "description", "is_public"])
def test_a_bad_create_or_update_field_is_never_a_500(listener_api, own, field, value):
    body = {"name": "ok", field: value}
    assert listener_api.post("/api/v1/playlists/", body, format="json").status_code in (201, 400)
    response = listener_api.patch(f"/api/v1/playlists/{own.pk}/", {field: value}, format="json")
    assert response.status_code in (200, 400), response.content


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize(
    "body",
    [
        lambda v: {"track_id": v},
        lambda v: {"track_ids": [v]},
        lambda v: {"track_ids": v},
        lambda v: {"track_id": 1, "position": v},
    ],
)
def test_a_bad_add_is_a_4xx(listener_api, own, body, value):
    response = listener_api.post(f"/api/v1/playlists/{own.pk}/tracks/", body(value), format="json")
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize(
    "body",
    [
        lambda v: {"track_id": v, "position": 1},
        lambda v: {"track_id": 1, "position": v},
        lambda v: {"track_ids": [v]},
        lambda v: {"track_ids": v},
    ],
)
def test_a_bad_reorder_is_a_4xx(listener_api, own, body, value):
    response = listener_api.post(f"/api/v1/playlists/{own.pk}/reorder/", body(value), format="json")
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize(
    "field", ["length", "seed", "seed_track_id", "seed_artist_id", "mood", "kind", "is_public"]
)
def test_a_bad_generate_field_is_never_a_500(listener_api, field, value):
    body = {"kind": "radio", "length": 10, "seed_track_id": _ids(1)[0], field: value}
    response = listener_api.post("/api/v1/playlists/generate/", body, format="json")
    assert response.status_code < 500, response.content


@pytest.mark.parametrize("owner", ["a\x00b", "x" * 10_000, "%00"])
def test_a_bad_owner_is_a_4xx(listener_api, owner):
    response = listener_api.get("/api/v1/playlists/", {"owner": owner})
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/playlists/99999999999999999999999/",
        "/api/v1/playlists/1/tracks/99999999999999999999/",
        "/api/v1/playlists/99999999999999999999/export/?format=csv",
    ],
)
def test_a_huge_id_in_the_address_is_a_404(listener_api, path):
    assert listener_api.get(path).status_code in (404, 405)
    assert listener_api.delete(path).status_code in (404, 405)


@pytest.mark.parametrize("item", [1, "x"])
@pytest.mark.parametrize("path", ["reorder", "tracks"])
def test_a_list_of_a_million_ids_is_refused_quickly_and_briefly(listener_api, own, path, item):
    # given a body far over the 500 ids a playlist holds (valid ids, or junk each a field error)
    body = {"track_ids": [item] * 1_000_000}

    # when it is sent
    started = time.monotonic()
    response = listener_api.post(f"/api/v1/playlists/{own.pk}/{path}/", body, format="json")

    # then it is refused on its length, before each id is looked at
    assert time.monotonic() - started < 1.5
    assert response.status_code == 400
    assert len(response.content) < 1000, len(response.content)
