"""Found in review: adding tracks by hand records one interaction each; the cost of a full add."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Track
from history.models import Interaction
from musicrec import registry
from playlists.services.playlists import playlist_create

pytestmark = pytest.mark.django_db


def test_adding_500_tracks_tells_the_taste_hooks_once(
    listener, listener_api, monkeypatch, django_capture_on_commit_callbacks
):
    # given an empty playlist and a counting taste hook
    playlist = playlist_create(owner=listener, name="Big")
    ids = list(Track.objects.order_by("id").values_list("id", flat=True)[:500])
    calls = []
    monkeypatch.setitem(registry.taste_changed._entries, "review", lambda *a: calls.append(a))

    # when 500 tracks are added in one request
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = listener_api.post(
            f"/api/v1/playlists/{playlist.pk}/tracks/", {"track_ids": ids}, format="json"
        )

    # then each is an add_to_playlist interaction, recorded in a few queries, told once
    assert response.status_code == 201
    assert Interaction.objects.filter(user=listener, kind="add_to_playlist").count() == 500
    assert len(queries) < 60, len(queries)
    assert len(calls) == 1
