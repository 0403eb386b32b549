"""What an upload may cost (issue #9): the request reads a bounded sample whatever the file
holds; the worker reads the rest streamed, within LISTEN_IMPORT_MAX_ENTRIES and
LISTEN_IMPORT_MAX_ENTRY_BYTES; a listener keeps at most LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER
imported plays."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from catalog.models import Track
from history.models import Interaction, ListenImport
from history.services.imports import listen_import_create, listen_import_process
from musicrec.errors import ApplicationError

FIXTURES = Path(__file__).parent / "fixtures"
MB = 2**20
UPLOAD_PAGE = "/history/imports/upload/"
UPLOAD_API = "/api/v1/imports/"

pytestmark = pytest.mark.django_db


def _zip_bomb() -> bytes:
    """The issue's file: a ~100 kB ZIP whose one member is ``[[],[],…]``, 99 MB unpacked."""
    buffer = io.BytesIO()
    block = b"[]," * 1_000_000
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("MyData/StreamingHistory0.json", "w") as member,
    ):
        member.write(b"[")
        for _ in range(33):
            member.write(block)
        member.write(b"[]]")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    return _zip_bomb()


def _upload(client, path: str, name: str, data: bytes):
    file = SimpleUploadedFile(name, data)
    if path == UPLOAD_API:
        return client.post(path, {"file": file}, format="multipart")
    return client.post(path, {"file": file})


def _measured(send) -> tuple[object, int, float]:
    """The response of ``send()``, the peak of Python allocations while it ran (the test
    client's own copies of the body included: it encodes the multipart body and keeps it as a
    payload, about twice the file) and the seconds it took."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        response = send()
        return response, tracemalloc.get_traced_memory()[1], time.perf_counter() - started
    finally:
        tracemalloc.stop()


@pytest.fixture
def clients(listener_web, listener_api) -> dict[str, object]:
    # warm: the first request of a process loads URL patterns and compiles templates
    assert listener_web.get("/history/imports/").status_code == 200
    assert listener_api.get(UPLOAD_API).status_code == 200
    return {UPLOAD_PAGE: listener_web, UPLOAD_API: listener_api}


# ------------------------------------------------------------------------------------ the request
@pytest.mark.parametrize("path", [UPLOAD_PAGE, UPLOAD_API])
def test_the_100_kb_zip_bomb_costs_the_request_under_200_mb_and_2_s(clients, path, zip_bomb):
    # given the ZIP: 100 kB, 99 MB of "[[],[],…]" unpacked
    assert len(zip_bomb) < 110_000
    # when it is uploaded
    response, peak, seconds = _measured(
        lambda: _upload(clients[path], path, "my_spotify_data.zip", zip_bomb)
    )
    # then it is refused from the archive's directory, cheaply, and nothing is stored
    print(f"\n{path} ZIP bomb: peak {peak / MB:.1f} MB, {seconds:.3f} s")
    assert peak < 200 * MB
    assert seconds < 2
    assert response.status_code == 400
    assert "a decompression bomb, not listening data" in response.content.decode()
    assert not ListenImport.objects.exists()


@pytest.mark.parametrize("path", [UPLOAD_PAGE, UPLOAD_API])
def test_a_50_mb_json_of_empty_arrays_costs_the_request_under_200_mb_and_2_s(clients, path):
    # given 50 MB of "[[],[],…]": json.loads would build 17 million lists (1.3 GB)
    bomb = b"[" + b"[]," * 17_000_000 + b"[]]"
    assert 48 * MB < len(bomb) <= 50 * MB
    # when it is uploaded
    response, peak, seconds = _measured(lambda: _upload(clients[path], path, "x.json", bomb))
    # then its first entry refuses it (the body itself is held about three times: the test
    # client's encoded body and payload, and the upload in memory)
    print(f"\n{path} 50 MB JSON bomb: peak {peak / MB:.1f} MB, {seconds:.3f} s")
    assert peak < 200 * MB
    assert seconds < 2
    assert response.status_code == 400
    assert "not a listening export we read" in response.content.decode()
    assert not ListenImport.objects.exists()


def test_a_large_valid_export_is_stored_without_being_read_whole(clients):
    # given a 40 MB Spotify history, valid from its start
    entry = {"endTime": "2020-01-05 21:44", "artistName": "A", "trackName": "B", "msPlayed": 1}
    data = json.dumps([entry] * 520_000).encode()
    assert len(data) > 40 * MB
    # when it is uploaded
    response, peak, seconds = _measured(
        lambda: _upload(clients[UPLOAD_API], UPLOAD_API, "StreamingHistory0.json", data)
    )
    # then it is stored as it is, for the worker: the request parsed 50 entries, and the bytes
    # went to PostgreSQL as a binary parameter (as hex in a query string they cost 300 MB more).
    # Held: the test client's body and payload, the upload in memory, psycopg's copy.
    print(f"\n40 MB valid upload: peak {peak / MB:.1f} MB, {seconds:.3f} s")
    assert response.status_code == 202, response.content
    assert peak < 200 * MB
    assert ListenImport.objects.get().file_size == len(data)
    with connection.cursor() as cursor:
        cursor.execute("SELECT octet_length(data) FROM history_listenimport")
        assert cursor.fetchone() == (len(data),)


# ------------------------------------------------------------------------------------ the worker
def _pending(user, name: str, data: bytes) -> ListenImport:
    return listen_import_create(user=user, file=SimpleUploadedFile(name, data), enqueue=False)


def _processed(listen_import: ListenImport) -> ListenImport:
    listen_import_process(import_id=listen_import.pk)
    listen_import.refresh_from_db()
    return listen_import


def _brainz(n: int) -> dict:
    return {
        "listened_at": 1_700_000_000 + n,
        "track_metadata": {"artist_name": "The Beatles", "track_name": "Hey Jude"},
    }


def test_a_bomb_past_the_sample_fails_the_import_in_the_worker_without_being_built(listener):
    # given 60 good listens (the request reads 50), then one 30 MB entry of "[[],[],…]"
    head = "\n".join(json.dumps(_brainz(n)) for n in range(60)).encode()
    data = head + b'\n{"listened_at": 1700000000, "x": [' + b"[]," * 10_000_000 + b"[]]}\n"
    listen_import = _pending(listener, "listens.jsonl", data)
    assert listen_import.status == "pending"
    # when the worker reads it
    _done, peak, _seconds = _measured(lambda: _processed(listen_import))
    # then it failed at that entry, storing nothing, and never built it
    assert listen_import.status == "failed"
    assert listen_import.error == (
        "Entry 61 of the file is larger than 64 KB, more than a listening entry can be."
    )
    assert not Interaction.objects.exists()
    assert peak < 100 * MB  # the upload (30 MB) read back, and a little more


def test_the_entry_limits_are_settings(listener, settings):
    # given an export of 60 listens of about 4 kB each
    data = "\n".join(json.dumps(_brainz(n) | {"pad": "x" * 4_000}) for n in range(60)).encode()
    # when the limits are lowered
    settings.LISTEN_IMPORT_MAX_ENTRIES = 55
    by_count = _processed(_pending(listener, "a.jsonl", data))
    settings.LISTEN_IMPORT_MAX_ENTRIES = 1_000
    settings.LISTEN_IMPORT_MAX_ENTRY_BYTES = 1_000
    with pytest.raises(ApplicationError) as refused:
        _pending(listener, "b.jsonl", data)
    # then
    assert by_count.status == "failed"
    assert by_count.error == (
        "The file holds more than 55 entries; split it and upload the parts one by one."
    )
    assert refused.value.code == "invalid_export"
    assert refused.value.message == (
        "Entry 1 of the file is larger than 1000 bytes, more than a listening entry can be."
    )
    assert not Interaction.objects.exists()


# ------------------------------------------------------------------------------------ plays cap
CSV = (FIXTURES / "lastfm_header.csv").read_bytes()  # 4 matched plays, 3 tracks, 1 unknown


def test_an_import_past_the_plays_limit_stores_the_newest_up_to_it_and_says_so(
    listener, settings, listener_web, listener_api
):
    settings.LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER = 3
    # when the listener imports 4 matched plays
    first = _processed(_pending(listener, "scrobbles.csv", CSV))
    # then the newest 3 are stored; the import is done and says what did not fit
    assert first.status == "done"
    assert (first.matched, first.created, first.over_limit, first.duplicates) == (4, 3, 1, 0)
    times = Interaction.objects.filter(user=listener).values_list("occurred_at", flat=True)
    assert sorted(t.timestamp() for t in times) == [1700000100, 1700000200, 1700000300]
    page = listener_web.get("/history/imports/").content.decode()
    assert "1 play was not stored" in page
    assert "limit of 3 imported plays" in page
    detail = listener_api.get(f"/api/v1/imports/{first.pk}/").json()
    assert (detail["created"], detail["over_limit"]) == (3, 1)

    # when the same file comes again: what is stored is a duplicate, the rest still does not fit
    again = _processed(_pending(listener, "scrobbles.csv", CSV))
    assert (again.created, again.over_limit, again.duplicates) == (0, 1, 3)
    assert Interaction.objects.filter(user=listener).count() == 3


def test_the_plays_limit_counts_imported_plays_of_the_listener_only(
    listener, other_listener, settings
):
    settings.LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER = 4
    # given another listener at the limit and a live play of this listener
    assert _processed(_pending(other_listener, "s.csv", CSV)).created == 4
    Interaction.objects.create(
        user=listener,
        track=Track.objects.first(),
        kind="play",
        occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    # when this listener imports
    mine = _processed(_pending(listener, "s.csv", CSV))
    # then all four fit
    assert (mine.created, mine.over_limit) == (4, 0)


def test_the_plays_limit_defaults_to_200_000(settings):
    assert settings.LISTEN_IMPORT_MAX_PLAYS_PER_LISTENER == 200_000
    assert settings.LISTEN_IMPORT_MAX_ENTRIES == 1_000_000
    assert settings.LISTEN_IMPORT_MAX_ENTRY_BYTES == 64 * 1024
