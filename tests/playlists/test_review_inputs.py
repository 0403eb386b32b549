"""Hostile inputs found in review: what must be a 400 (or a clean answer), never a 500."""

from __future__ import annotations

import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Track
from playlists.formats import FormatError, m3u
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


@pytest.mark.parametrize("filler", ["1", " ", "1 "])
def test_a_long_extinf_line_without_a_comma_is_refused_in_linear_time(filler):
    # given an M3U line of 200,000 characters the #EXTINF pattern could split many ways
    data = ("#EXTM3U\n#EXTINF:" + filler * (200_000 // len(filler)) + "\na.mp3\n").encode()

    # when it is read
    started = time.monotonic()
    with pytest.raises(FormatError, match="#EXTINF needs"):
        m3u.read(data)

    # then it is refused at once (the backtracking pattern took ~1 min; a 1 MB line, ~30)
    assert time.monotonic() - started < 0.5


def test_extinf_durations_and_texts_read_as_before():
    data = (
        b"#EXTM3U\n#EXTINF:215,Queen - Bohemian Rhapsody\na.mp3\n"
        b'#EXTINF:-1 tvg-id="x",A, B - T, with commas\nb.mp3\n'
        b"#EXTINF: 12.6 ,Solo\nc.mp3\n#EXTINF:,No time - Here\nd.mp3\n"
    )

    entries = m3u.read(data).entries

    assert [(e.artists, e.title, e.duration_ms) for e in entries] == [
        (("Queen",), "Bohemian Rhapsody", 215_000),
        (("A, B",), "T, with commas", None),
        ((), "Solo", 12_600),
        (("No time",), "Here", None),
    ]
