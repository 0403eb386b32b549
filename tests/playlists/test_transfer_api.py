"""The export and import endpoints: who may export what, headers and bodies, the import's
answer and refusals, and the schema of both operations."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Track
from playlists.formats import FORMATS
from playlists.models import Playlist
from playlists.selectors.playlists import playlist_track_ids
from playlists.services.playlists import playlist_create

pytestmark = pytest.mark.django_db

NAME = "Été, 東京 / “mix”"


def _ids(n: int) -> list[int]:
    return list(
        Track.objects.exclude(spotify_id="")
        .order_by("-popularity", "id")
        .values_list("id", flat=True)[:n]
    )


@pytest.fixture
def own(listener) -> Playlist:
    return playlist_create(owner=listener, name=NAME, track_ids=_ids(5))


@pytest.fixture
def others_private(other_listener) -> Playlist:
    return playlist_create(owner=other_listener, name="Secret", track_ids=_ids(2))


@pytest.fixture
def others_public(other_listener) -> Playlist:
    return playlist_create(owner=other_listener, name="Shared", is_public=True, track_ids=_ids(3))


def _export(client, playlist_id: int, fmt: str | None = "m3u"):
    query = "" if fmt is None else f"?format={fmt}"
    return client.get(f"/api/v1/playlists/{playlist_id}/export/{query}")


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("m3u", "audio/x-mpegurl", "m3u8"),
        ("jspf", "application/json", "jspf"),
        ("csv", "text/csv; charset=utf-8", "csv"),
    ],
)
def test_an_export_is_a_download_with_a_safe_name_and_the_real_one(
    listener_api, own, fmt, content_type, extension
):
    response = _export(listener_api, own.pk, fmt)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="Ete-mix.{extension}"; '
        f"filename*=UTF-8''{quote(f'Été, 東京 - “mix”.{extension}', safe='')}"
    )
    assert response["Cache-Control"] == "private, no-store"


def test_an_exported_m3u_links_to_absolute_track_pages_or_spotify(listener_api, own):
    body = _export(listener_api, own.pk, "m3u").content.decode()

    locations = [line for line in body.split("\n") if line and not line.startswith("#")]
    assert len(locations) == 5
    assert all(line.startswith("https://open.spotify.com/track/") for line in locations)


def test_a_public_playlist_of_another_listener_can_be_exported(
    other_api, listener_api, others_public
):
    response = _export(listener_api, others_public.pk, "csv")

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert len(rows) == 3


def test_another_listeners_private_playlist_is_not_found(listener_api, others_private):
    for fmt in FORMATS:
        response = _export(listener_api, others_private.pk, fmt)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_anonymous_callers_export_nothing(api_client, others_public):
    response = _export(api_client, others_public.pk, "m3u")

    assert response.status_code == 401


@pytest.mark.parametrize(
    "query", ["?format=xspf", "?format=", "", "?format=m3u&format=csv", "?format=M3U"]
)
def test_a_missing_or_unknown_format_is_a_400_naming_it(listener_api, own, query):
    response = listener_api.get(f"/api/v1/playlists/{own.pk}/export/{query}")

    assert response.status_code == 400
    assert list(response.json()) == ["format"]


def test_an_unknown_playlist_id_is_not_found(listener_api):
    assert _export(listener_api, 2**63 - 1).status_code == 404
    assert _export(listener_api, 999_999_999).status_code == 404


# ---- import ----------------------------------------------------------------------------------


def _post(client, data: bytes, filename: str, **fields):
    return client.post(
        "/api/v1/playlists/import/",
        {"file": SimpleUploadedFile(filename, data), **fields},
        format="multipart",
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_imports_back_through_the_api(listener_api, listener, own, fmt):
    exported = _export(listener_api, own.pk, fmt)
    filename = exported["Content-Disposition"].split('filename="')[1].split('"')[0]

    response = _post(listener_api, exported.content, filename, name="Copy")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Copy"
    assert body["origin"] == "import"
    assert body["is_public"] is False
    assert (body["matched"], body["unmatched"], body["duplicates"]) == (5, [], [])
    assert [entry["track"]["id"] for entry in body["tracks"]] == playlist_track_ids(
        playlist_id=own.pk
    )
    assert body["origin_parameters"]["format"] == fmt
    assert Playlist.objects.filter(owner=listener).count() == 2


def test_the_answer_lists_what_did_not_match(listener_api):
    track = Track.objects.with_related().order_by("id").first()
    data = (
        f"#EXTM3U\n#EXTINF:1,{track.artist_names} - {track.title}\na.mp3\n"
        "#EXTINF:1,Nobody - Nothing\nb.mp3\n"
    ).encode()

    response = _post(listener_api, data, "mix.m3u")

    assert response.status_code == 201
    assert response.json()["unmatched"] == [
        {"position": 2, "artist": "Nobody", "title": "Nothing", "why": "not_in_catalog"}
    ]
    assert response.json()["name"] == "mix"


@pytest.mark.parametrize(
    ("data", "filename", "status", "code"),
    [
        (b"\x00\x01junk", "x.m3u", 400, "invalid_file"),
        (b'{"playlist": {"track": "x"}}', "x.jspf", 400, "invalid_file"),
        (b"#EXTM3U\n#EXTINF:1,Nobody - Nothing\nb.mp3\n", "x.m3u", 400, "nothing_matched"),
        (b"#" * (1024 * 1024 + 1), "x.m3u", 413, "file_too_large"),
    ],
)
def test_a_refused_file_stores_nothing(listener_api, listener, data, filename, status, code):
    response = _post(listener_api, data, filename)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["error"]
    assert not Playlist.objects.filter(owner=listener).exists()


def test_no_file_or_a_blank_name_are_field_errors(listener_api):
    assert list(listener_api.post("/api/v1/playlists/import/", {}, format="multipart").json()) == [
        "file"
    ]
    response = _post(listener_api, b"#EXTM3U\n", "x.m3u", name="   ")
    assert list(response.json()) == ["name"]


def test_anonymous_callers_cannot_import(api_client):
    response = _post(api_client, b"#EXTM3U\n#EXTINF:1,A - B\nb.mp3\n", "x.m3u")

    assert response.status_code == 401
    assert not Playlist.objects.exists()


def test_imports_are_rate_limited_per_listener(listener_api, throttle_rates):
    throttle_rates(playlist_imports="1/hour")
    track = Track.objects.with_related().order_by("id").first()
    data = f"#EXTINF:1,{track.artist_names} - {track.title}\na.mp3\n".encode()

    assert _post(listener_api, data, "a.m3u").status_code == 201
    response = _post(listener_api, data, "a.m3u")

    assert response.status_code == 429
    assert Playlist.objects.count() == 1


def test_the_schema_documents_both_operations(listener_api):
    schema = listener_api.get("/api/schema/?format=json").json()

    export = schema["paths"]["/api/v1/playlists/{playlist_id}/export/"]["get"]
    assert set(export["responses"]["200"]["content"]) == {
        "audio/x-mpegurl",
        "application/json",
        "text/csv",
    }
    assert {p["name"]: p["schema"] for p in export["parameters"]}["format"]["enum"] == list(FORMATS)
    imported = schema["paths"]["/api/v1/playlists/import/"]["post"]
    body = imported["requestBody"]["content"]
    assert list(body) == ["multipart/form-data"]
    assert {"201", "400", "401", "413", "429"} <= set(imported["responses"])
