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


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        ("#EXTM3U\n#EXTINF:1,A - B\na.mp3\n".encode("utf-16"), "x.m3u"),
        (b'{"playlist": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "x.jspf"),
        (b"[" * 500_000, "x.json"),
        (b'{"playlist": {"track": [{"title": 1e999999}]}}', "x.jspf"),
        (b'{"playlist": {"track": [{"title": "t", "duration": 1e400}]}}', "x.jspf"),
        (b'{"playlist": {"track": [{"title": "t", "duration": ' + b"9" * 5000 + b"}]}}", "x.jspf"),
        (b"title,artist\n" + b"x" * 1_000_000 + b"\n", "x.csv"),
        (b'title,artist\n"' + b"x" * 200_000 + b"\n", "x.csv"),
        (b"#EXTM3U\n#EXTINF:" + b"9" * 400 + b",A - B\na.mp3\n", "x.m3u"),
        (b"#EXTM3U\n" + b"x" * 1_000_000 + b"\n", "x.m3u"),
        (b"\xef\xbb\xbf", "x.csv"),
        (b"\r\n" * 1000, "x.m3u"),
    ],
)
def test_a_malformed_file_is_a_4xx_never_a_500(listener_api, data, filename):
    response = _post(listener_api, data, filename)

    assert 400 <= response.status_code < 500, response.content[:300]


@pytest.mark.parametrize("name", ["a\x00b", " ", "x" * 201])
def test_a_bad_import_name_is_a_400(listener_api, name):
    track = _known()
    data = f"#EXTM3U\n#EXTINF:1,{track.artist_names} - {track.title}\na.mp3\n".encode()

    response = _post(listener_api, data, "x.m3u", name=name)

    assert response.status_code == 400, response.content[:300]


def test_a_file_sent_as_text_or_twice_is_a_400(listener_api):
    as_text = listener_api.post(
        "/api/v1/playlists/import/", {"file": "#EXTM3U\n"}, format="multipart"
    )
    twice = listener_api.post(
        "/api/v1/playlists/import/",
        {"file": [SimpleUploadedFile("a.m3u", b"#EXTM3U\n"), SimpleUploadedFile("b.m3u", b"x")]},
        format="multipart",
    )

    assert as_text.status_code == 400
    assert twice.status_code == 400
