"""Imports of listening exports: every format, matching, idempotency, undo, the offer, the API."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from catalog.models import Track
from history.listen_formats.matching import normalise
from history.listen_formats.parsers import ExportError, detect_format, iter_listens
from history.models import HISTORY_LIMIT, HistoryEntry, Interaction, ListenImport
from history.services.imports import (
    listen_import_create,
    listen_import_offer_accept,
    listen_import_process,
    listen_import_undo,
)
from musicrec.errors import ApplicationError

FIXTURES = Path(__file__).parent / "fixtures"


def _upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes() if data is None else data)


def _import(user, name: str, data: bytes | None = None) -> ListenImport:
    listen_import = listen_import_create(user=user, file=_upload(name, data), enqueue=False)
    listen_import_process(import_id=listen_import.pk)
    listen_import.refresh_from_db()
    return listen_import


def _spotify_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "MyData/StreamingHistory0.json", (FIXTURES / "spotify_short.json").read_text()
        )
        archive.writestr(
            "MyData/Streaming_History_Audio_2023.json",
            (FIXTURES / "spotify_extended.json").read_text(),
        )
        archive.writestr("MyData/Userdata.json", json.dumps({"username": "x"}))
        archive.writestr("MyData/ReadMeFirst.pdf", b"%PDF")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------ parsers
def test_normalise_folds_case_accents_punctuation_feat_and_remaster():
    assert normalise("Latinoamérica (feat. Totó la Momposina)", is_title=True) == "latinoamerica"
    assert normalise("Here Comes The Sun - Remastered 2009", is_title=True) == "here comes the sun"
    assert normalise("Let It Be (Remastered 2009)", is_title=True) == "let it be"
    assert normalise("Air ft. Beth Hirsch") == "air"
    assert normalise("Go‐Go’s") == normalise("Go-Go's")


@pytest.mark.parametrize(
    ("name", "fmt", "listens", "skipped"),
    [
        ("lastfm_header.csv", "lastfm_csv", 5, 0),
        ("lastfm_noheader.csv", "lastfm_csv", 3, 0),
        ("spotify_short.json", "spotify_short", 2, 1),  # a 1.2 s play is not a listen
        ("spotify_extended.json", "spotify_extended", 1, 2),  # a podcast, a 2.4 s play
        ("listenbrainz.jsonl", "listenbrainz", 3, 0),
        ("scrobbler.log", "scrobbler_log", 1, 1),
    ],
)
def test_formats_are_detected_from_the_content(name, fmt, listens, skipped):
    data = (FIXTURES / name).read_bytes()
    assert detect_format(data) == fmt
    entries = list(iter_listens(data, fmt))
    assert sum(entry is not None for entry in entries) == listens
    assert sum(entry is None for entry in entries) == skipped


def test_listenbrainz_json_array_and_zip_are_detected():
    lines = (FIXTURES / "listenbrainz.jsonl").read_text().splitlines()
    array = ("[" + ",".join(lines) + "]").encode()
    assert detect_format(array) == "listenbrainz"
    assert detect_format(_spotify_zip()) == "zip"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02 not text \xff\xfe",
        b'[{"endTime": "2020-01-05 21:44", "artistName": "A", "trackName": "B", "msPl',
        b'{"hello": "world"}',
        b"PK\x03\x04 truncated zip",
        b"just,a,csv\nwith,no,header,we,know\n",
        b"artist,track,timestamp\nA,B,not a time\n",
    ],
)
def test_unknown_or_corrupt_files_raise_a_clear_error(data):
    with pytest.raises(ExportError) as error:
        detect_format(data)
    assert str(error.value)


# ------------------------------------------------------------------------------------ service
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "fmt", "listens", "matched"),
    [
        ("lastfm_header.csv", "lastfm_csv", 5, 4),
        ("lastfm_noheader.csv", "lastfm_csv", 3, 2),
        ("spotify_short.json", "spotify_short", 2, 2),
        ("spotify_extended.json", "spotify_extended", 1, 1),
        ("listenbrainz.jsonl", "listenbrainz", 3, 2),
        ("scrobbler.log", "scrobbler_log", 1, 1),
    ],
)
def test_each_format_becomes_play_interactions(user, name, fmt, listens, matched):
    # when
    listen_import = _import(user, name)
    # then
    assert listen_import.status == "done", listen_import.error
    assert listen_import.format == fmt
    assert (listen_import.listens, listen_import.matched) == (listens, matched)
    assert listen_import.unmatched == listens - matched
    assert listen_import.created == matched
    assert listen_import.progress == 100
    assert listen_import.data is None
    plays = Interaction.objects.filter(user=user, listen_import=listen_import)
    assert plays.count() == matched
    assert set(plays.values_list("kind", flat=True)) == {"play"}


@pytest.mark.django_db
def test_matching_keeps_original_times_and_reports_the_top_unmatched(user):
    listen_import = _import(user, "lastfm_header.csv")

    # most played first, only matched tracks
    hey_jude = Track.objects.get(pk=listen_import.offered_track_ids[0])
    assert normalise(hey_jude.title, is_title=True) == "hey jude"
    times = sorted(
        Interaction.objects.filter(user=user, track=hey_jude).values_list("occurred_at", flat=True)
    )
    assert [time.timestamp() for time in times] == [1700000200, 1700000300]
    assert listen_import.top_unmatched == [
        {"artist": "Nobody Band", "title": "Unknown Song", "count": 1}
    ]
    assert len(listen_import.offered_track_ids) == 3


@pytest.mark.django_db
def test_spotify_ids_match_before_names(user):
    listen_import = _import(user, "spotify_extended.json")
    play = Interaction.objects.get(listen_import=listen_import)
    assert play.track.spotify_id == "1eT2CjXwFXNx6oY5ydvzKU"
    assert play.listened_ms == 174424
    assert listen_import.skipped == 2  # the podcast and the 2.4 s play


@pytest.mark.django_db
def test_importing_the_same_file_twice_adds_nothing(user):
    first = _import(user, "lastfm_header.csv")
    before = Interaction.objects.filter(user=user).count()

    second = _import(user, "lastfm_header.csv")

    assert Interaction.objects.filter(user=user).count() == before == first.created
    assert (second.matched, second.created, second.duplicates) == (4, 0, 4)


@pytest.mark.django_db
def test_a_zip_of_spotify_files_is_imported(user):
    listen_import = _import(user, "my_spotify_data.zip", _spotify_zip())
    assert listen_import.format == "zip"
    assert (listen_import.listens, listen_import.matched, listen_import.skipped) == (3, 3, 3)


@pytest.mark.django_db
def test_a_corrupt_file_is_refused_and_nothing_is_stored(user):
    truncated = (FIXTURES / "spotify_short.json").read_bytes()[:150]
    with pytest.raises(ApplicationError) as refused:
        listen_import_create(user=user, file=_upload("broken.json", truncated), enqueue=False)
    assert refused.value.code == "invalid_export"
    assert not ListenImport.objects.exists()
    assert not Interaction.objects.exists()


def _csv_bad_at(line: int) -> bytes:
    good = "".join(f"Artist,Album,Title,05 Jan 2020 21:{n % 60:02d}\n" for n in range(line - 2))
    return ("The Beatles,1,Hey Jude,05 Jan 2020 20:00\n" + good + "A,B,C,not a time\n").encode()


@pytest.mark.django_db
def test_a_file_corrupt_within_the_sample_is_refused_at_upload(user):
    with pytest.raises(ApplicationError) as refused:
        listen_import_create(user=user, file=_upload("early_error.csv", _csv_bad_at(30)))
    assert refused.value.code == "invalid_export"
    assert str(refused.value) == "Line 30 of the CSV has no valid time ('not a time')."
    assert not ListenImport.objects.exists()


@pytest.mark.django_db
def test_a_file_corrupt_past_the_sample_fails_in_the_worker_and_stores_nothing(user):
    # (Before the upload request read a sample only, this file was refused at upload: the
    # request read every row.)
    # given an upload whose 62nd line is corrupt, past what the request reads
    listen_import = listen_import_create(
        user=user, file=_upload("late_error.csv", _csv_bad_at(62)), enqueue=False
    )
    assert listen_import.status == "pending"
    # when the worker reads it
    listen_import_process(import_id=listen_import.pk)
    # then the import failed, saying what and where, and nothing is stored
    listen_import.refresh_from_db()
    assert listen_import.status == "failed"
    assert listen_import.error == "Line 62 of the CSV has no valid time ('not a time')."
    assert listen_import.data is None
    assert not Interaction.objects.exists()


@pytest.mark.django_db
@override_settings(LISTEN_IMPORT_MAX_BYTES=100)
def test_a_file_over_the_size_limit_is_refused(user):
    with pytest.raises(ApplicationError) as refused:
        listen_import_create(user=user, file=_upload("lastfm_header.csv"), enqueue=False)
    assert refused.value.code == "file_too_large"
    assert not ListenImport.objects.exists()


@pytest.mark.django_db
def test_undo_removes_exactly_the_plays_of_the_import(user):
    # given a live play and an import
    live = Interaction.objects.create(user=user, track=Track.objects.first(), kind="play")
    listen_import = _import(user, "lastfm_header.csv")
    # when
    removed = listen_import_undo(user=user, import_id=listen_import.pk)
    # then
    assert removed == 4
    assert list(Interaction.objects.filter(user=user)) == [live]
    assert not ListenImport.objects.exists()


@pytest.mark.django_db
def test_undo_of_another_listeners_import_is_not_found(user, django_user_model):
    other = django_user_model.objects.create_user("other", "o@example.com", "pw-Other-42")
    listen_import = _import(other, "lastfm_header.csv")
    with pytest.raises(ApplicationError) as refused:
        listen_import_undo(user=user, import_id=listen_import.pk)
    assert refused.value.status == 404
    assert Interaction.objects.filter(listen_import=listen_import).count() == 4


@pytest.mark.django_db
def test_the_offer_is_added_within_the_50_limit(user):
    listen_import = _import(user, "lastfm_header.csv")
    offered = listen_import.offered_track_ids

    change = listen_import_offer_accept(
        user=user, import_id=listen_import.pk, track_ids=offered[:2]
    )

    assert change.count == 2
    assert set(HistoryEntry.objects.filter(user=user).values_list("track_id", flat=True)) == set(
        offered[:2]
    )


@pytest.mark.django_db
def test_an_offer_that_does_not_fit_adds_nothing(user):
    listen_import = _import(user, "lastfm_header.csv")
    offered = listen_import.offered_track_ids
    others = Track.objects.exclude(pk__in=offered).values_list("id", flat=True)[: HISTORY_LIMIT - 1]
    HistoryEntry.objects.bulk_create(
        HistoryEntry(user=user, track_id=track_id, slot=slot)
        for slot, track_id in enumerate(others, start=1)
    )

    with pytest.raises(ApplicationError) as refused:
        listen_import_offer_accept(user=user, import_id=listen_import.pk, track_ids=offered[:2])

    assert refused.value.code == "history_limit_reached"
    assert HistoryEntry.objects.filter(user=user).count() == HISTORY_LIMIT - 1


@pytest.mark.django_db
def test_only_offered_tracks_can_be_accepted(user):
    listen_import = _import(user, "lastfm_header.csv")
    stranger = Track.objects.exclude(pk__in=listen_import.offered_track_ids).first()
    with pytest.raises(ApplicationError) as refused:
        listen_import_offer_accept(user=user, import_id=listen_import.pk, track_ids=[stranger.pk])
    assert refused.value.code == "not_offered"


@pytest.mark.django_db
def test_the_task_processes_by_id(user):
    from history.tasks import process_listen_import

    listen_import = listen_import_create(
        user=user, file=_upload("spotify_short.json"), enqueue=False
    )
    assert process_listen_import.apply(args=[listen_import.pk]).get() == "done"
    # running it again is safe
    assert process_listen_import.apply(args=[listen_import.pk]).get() == "done"
    assert Interaction.objects.filter(user=user).count() == 2


# ------------------------------------------------------------------------------------ API
@pytest.fixture
def logged_in(api_client, user):
    api_client.force_authenticate(user)
    return api_client


@pytest.mark.django_db
def test_api_upload_process_read_and_undo(logged_in, user, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=False):
        response = logged_in.post(
            "/api/v1/imports/", {"file": _upload("lastfm_header.csv")}, format="multipart"
        )
    # then
    assert response.status_code == 202, response.content
    import_id = response.json()["id"]
    assert response.json()["status"] == "pending"
    listen_import_process(import_id=import_id)

    detail = logged_in.get(f"/api/v1/imports/{import_id}/").json()
    assert (detail["status"], detail["progress"], detail["matched"], detail["unmatched"]) == (
        "done",
        100,
        4,
        1,
    )
    assert len(detail["offered_tracks"]) == 3
    assert detail["offered_tracks"][0]["artists"] == ["The Beatles"]
    listing = logged_in.get("/api/v1/imports/").json()
    assert [item["id"] for item in listing["results"]] == [import_id]

    offer = logged_in.post(
        f"/api/v1/imports/{import_id}/offer/",
        {"track_ids": [detail["offered_tracks"][0]["id"]]},
        format="json",
    )
    assert offer.status_code == 200
    assert offer.json()["count"] == 1

    undo = logged_in.delete(f"/api/v1/imports/{import_id}/")
    assert undo.status_code == 200
    assert undo.json() == {"removed_interactions": 4}
    assert logged_in.get(f"/api/v1/imports/{import_id}/").status_code == 404


@pytest.mark.django_db
def test_api_refuses_unknown_and_corrupt_files(logged_in):
    for data in (b"hello world\n", b'[{"ts": "2023'):
        response = logged_in.post(
            "/api/v1/imports/", {"file": _upload("x.json", data)}, format="multipart"
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_export"
    missing = logged_in.post("/api/v1/imports/", {}, format="multipart")
    assert missing.status_code == 400
    assert "file" in missing.json()
    assert not ListenImport.objects.exists()


@pytest.mark.django_db
def test_two_listeners_cannot_see_each_others_imports(api_client, user, django_user_model):
    other = django_user_model.objects.create_user("other", "o@example.com", "pw-Other-42")
    theirs = _import(other, "spotify_short.json")
    api_client.force_authenticate(user)

    assert api_client.get("/api/v1/imports/").json()["results"] == []
    assert api_client.get(f"/api/v1/imports/{theirs.pk}/").status_code == 404
    assert api_client.delete(f"/api/v1/imports/{theirs.pk}/").status_code == 404
    assert (
        api_client.post(
            f"/api/v1/imports/{theirs.pk}/offer/", {"track_ids": [1]}, format="json"
        ).status_code
        == 404
    )
    assert ListenImport.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_anonymous_is_401(api_client):
    assert api_client.get("/api/v1/imports/").status_code == 401
    assert api_client.post("/api/v1/imports/", {}, format="multipart").status_code == 401
    assert api_client.get("/api/v1/imports/1/").status_code == 401
    assert api_client.delete("/api/v1/imports/1/").status_code == 401


# ------------------------------------------------------------------------------------ page
@pytest.mark.django_db
def test_page_requires_login(client):
    response = client.get("/history/imports/")
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.django_db
def test_page_upload_offer_and_undo(client, user, django_capture_on_commit_callbacks):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/history/imports/upload/", {"file": _upload("lastfm_header.csv")})
    assert response.status_code == 302
    listen_import = ListenImport.objects.get(user=user)
    listen_import_process(import_id=listen_import.pk)
    listen_import.refresh_from_db()

    page = client.get("/history/imports/")
    assert page.status_code == 200
    assert b"4 matched" in page.content
    assert b"Add to history" in page.content

    first = listen_import.offered_track_ids[0]
    client.post(f"/history/imports/{listen_import.pk}/offer/", {"track_ids": [first]})
    assert HistoryEntry.objects.filter(user=user, track_id=first).exists()

    client.post(f"/history/imports/{listen_import.pk}/undo/")
    assert not ListenImport.objects.exists()
    assert not Interaction.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_page_refuses_a_corrupt_upload_and_another_listeners_undo(client, user, django_user_model):
    other = django_user_model.objects.create_user("other", "o@example.com", "pw-Other-42")
    theirs = _import(other, "spotify_short.json")
    client.force_login(user)

    response = client.post("/history/imports/upload/", {"file": _upload("x.csv", b"nonsense\n")})
    assert response.status_code == 400
    assert b"Unknown file format" in response.content
    assert client.post(f"/history/imports/{theirs.pk}/undo/").status_code == 404
    assert (
        client.post(f"/history/imports/{theirs.pk}/offer/", {"track_ids": [1]}).status_code == 404
    )
    assert ListenImport.objects.filter(user=user).count() == 0
    assert ListenImport.objects.filter(pk=theirs.pk).exists()


# ------------------------------------------------------------------------------------ command
@pytest.mark.django_db
def test_command_imports_and_summarises(user):
    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "import_listens",
        user.username,
        str(FIXTURES / "lastfm_header.csv"),
        "--no-progress",
        stdout=out,
    )
    assert "5 listens: 4 matched, 1 unmatched" in out.getvalue()
    assert Interaction.objects.filter(user=user).count() == 4


@pytest.mark.django_db
def test_command_refuses_a_corrupt_file(user, tmp_path):
    from django.core.management import CommandError, call_command

    broken = tmp_path / "broken.json"
    broken.write_bytes(b'[{"endTime": "2020')
    with pytest.raises(CommandError):
        call_command("import_listens", user.username, str(broken), "--no-progress")
    assert not ListenImport.objects.exists()


def test_a_zip_without_listening_files_or_unpacking_too_large_is_refused(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("MyData/Userdata.json", json.dumps({"username": "x"}))
    with pytest.raises(ExportError, match="no Spotify or ListenBrainz"):
        detect_format(buffer.getvalue())

    monkeypatch.setattr("history.listen_formats.parsers.MAX_UNZIPPED_BYTES", 100)
    with pytest.raises(ExportError, match="unpacks to more than"):
        detect_format(_spotify_zip())
