"""Hostile inputs found in review: what must be a 400 (or a clean answer), never a 500."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Track
from playlists.models import Playlist

pytestmark = pytest.mark.django_db


def _post(client, data: bytes, filename: str, **fields):
    return client.post(
        "/api/v1/playlists/import/",
        {"file": SimpleUploadedFile(filename, data), **fields},
        format="multipart",
    )


def _known() -> Track:
    return Track.objects.with_related().order_by("id").first()


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        # a JSON escape puts a NUL in a title the bytes never held
        (b'{"playlist": {"title": "a\\u0000b", "track": [{"title": "x"}]}}', "x.jspf"),
        (b'{"playlist": {"track": [{"title": "x\\u0000", "creator": "y"}]}}', "x.jspf"),
        (b'{"playlist": {"track": [{"title": "x", "creator": "\\u0000"}]}}', "x.jspf"),
        # a percent escape in a plain M3U location does the same
        (b"music/Nobody - Nothing%00.mp3\n", "x.m3u"),
    ],
)
def test_an_escaped_nul_in_an_imported_file_is_a_400(listener_api, data, filename):
    # given a file whose text decodes to a NUL (PostgreSQL stores no NUL in text or jsonb)
    # when it is imported
    response = _post(listener_api, data, filename)

    # then it is refused as a bad file, not a server error
    assert response.status_code == 400, response.content
    assert not Playlist.objects.exists()


def test_an_escaped_nul_in_a_jspf_title_of_a_matched_track_is_a_400(listener_api):
    track = _known()
    entry = {"title": track.title, "creator": track.artist_names}
    data = json.dumps({"playlist": {"title": "mix\x00", "track": [entry]}}).encode()

    response = _post(listener_api, data, "x.jspf")

    assert response.status_code == 400, response.content
