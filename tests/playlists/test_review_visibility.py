"""Found in review: a deactivated listener is "no such listener" for ``?owner=`` (their list is
a 404), so their public playlists must not stay readable one by one either."""

from __future__ import annotations

import pytest

from catalog.models import Track
from playlists.services.playlists import playlist_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/v1/playlists/{id}/", "/api/v1/playlists/{id}/export/?format=jspf"],
)
def test_a_deactivated_listeners_public_playlist_is_not_found(listener_api, other_listener, path):
    # given another listener's public playlist, and that listener deactivated
    track_ids = list(Track.objects.order_by("id").values_list("id", flat=True)[:2])
    playlist = playlist_create(
        owner=other_listener, name="Shared", is_public=True, track_ids=track_ids
    )
    assert listener_api.get(path.format(id=playlist.pk)).status_code == 200
    other_listener.is_active = False
    other_listener.save(update_fields=["is_active"])

    # when a listener opens it
    response = listener_api.get(path.format(id=playlist.pk))

    # then it is not found, as their list is
    assert response.status_code == 404
    assert listener_api.get("/api/v1/playlists/", {"owner": "other"}).status_code == 404
