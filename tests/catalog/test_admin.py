"""The catalog admin: access, query counts, edits that keep search right, CSV import and export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog import resources
from catalog.models import Album, Artist, Genre, ImportUpload, Track, TrackArtist
from catalog.resources import CSV_COLUMNS
from catalog.services.imports import KNOWN_COLUMNS, catalog_import_rows, catalog_import_stream
from catalog.tmp_storage import DatabaseTempStorage, UploadMissingError

pytestmark = pytest.mark.django_db

# The demo catalog is loaded in the test database: everything here is named with this token so
# that searches, filters and counts only see this module's own tracks.
TOKEN = "Zqxadm"
GENRE = "zqxadm pop"

FEATURES = {
    "danceability": "0.5",
    "energy": "0.6",
    "key": "5",
    "loudness": "-7.25",
    "mode": "1",
    "speechiness": "0.04",
    "acousticness": "0.1",
    "instrumentalness": "1.2e-05",
    "liveness": "0.12",
    "valence": "0.7",
    "tempo": "120.5",
    "time_signature": "4",
}


# --------------------------------------------------------------------------- helpers


def spotify_id(n: int) -> str:
    return f"ZQXADM{n:016d}"


def track_row(n: int, **overrides: str) -> dict[str, str]:
    """A valid Spotify-style CSV row for track number ``n``."""
    row = {
        "track_id": spotify_id(n),
        "artists": f"{TOKEN} Artist {n};{TOKEN} Guest {n % 3}",
        "album_name": f"{TOKEN} Album {n % 5}",
        "track_name": f"{TOKEN} Song {n}",
        "popularity": str(n % 100),
        "duration_ms": str(180_000 + n),
        "explicit": "False",
        **FEATURES,
        "track_genre": GENRE,
        "release_year": "",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: Iterable[dict[str, str]], columns: Iterable[str] = CSV_COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def seed(rows: Iterable[dict[str, str]]) -> None:
    summary = catalog_import_rows(rows=list(rows))
    assert summary.rejected == []


def upload(content: bytes, name: str = "tracks.csv") -> dict[str, Any]:
    return {
        "resource": "0",
        "format": "0",
        "import_file": SimpleUploadedFile(name, content, content_type="text/csv"),
    }


def preview(client: Client, content: bytes) -> Any:
    return client.post(reverse("admin:catalog_track_import"), upload(content))


def confirm(client: Client, preview_response: Any) -> Any:
    initial = preview_response.context["confirm_form"].initial
    return client.post(reverse("admin:catalog_track_process_import"), initial)


def own_tracks() -> Any:
    return Track.objects.filter(spotify_id__startswith="ZQXADM")


def snapshot() -> dict[str, tuple]:
    """Everything the CSV carries about each of this module's tracks, keyed by Spotify id."""
    tracks = own_tracks().with_related()
    return {
        track.spotify_id: (
            track.title,
            tuple(artist.name for artist in track.artist_list),
            track.album.name if track.album else "",
            tuple(sorted(genre.name for genre in track.genres.all())),
            track.popularity,
            track.duration_ms,
            track.explicit,
            track.release_year,
            *(getattr(track, name) for name in FEATURES),
        )
        for track in tracks
    }


def change_form_data(response: Any) -> dict[str, Any]:
    """The POST data a browser would send back from an admin change page, unchanged."""
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            if isinstance(value, (list, tuple)):
                data[form.add_prefix(name)] = [str(item) for item in value]
                continue
            data[form.add_prefix(name)] = str(getattr(value, "pk", value))

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


@pytest.fixture
def catalog_curator(curator: Any) -> Any:
    """The shared curator (staff, not a superuser) with the catalog permissions."""
    curator.user_permissions.set(Permission.objects.filter(content_type__app_label="catalog"))
    return curator


@pytest.fixture
def curator_client(client: Client, catalog_curator: Any) -> Client:
    client.force_login(catalog_curator)
    return client


# --------------------------------------------------------------------------- access


def test_every_catalog_page_opens_for_a_curator(curator_client: Client) -> None:
    # given
    seed([track_row(1)])
    track = Track.objects.get(spotify_id=spotify_id(1))
    objects = {
        "genre": Genre.objects.get(name=GENRE),
        "artist": track.artist_list[0],
        "album": track.album,
        "track": track,
    }

    # when
    statuses = {}
    for model, obj in objects.items():
        for view, args in (("changelist", []), ("add", []), ("change", [obj.pk])):
            url = reverse(f"admin:catalog_{model}_{view}", args=args)
            statuses[url] = curator_client.get(url).status_code
    for view in ("import", "export"):
        url = reverse(f"admin:catalog_track_{view}")
        statuses[url] = curator_client.get(url).status_code

    # then
    assert set(statuses.values()) == {200}, statuses
    track_page = curator_client.get(reverse("admin:catalog_track_change", args=[track.pk]))
    assert "Audio features" in track_page.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        f"q={TOKEN}+Song+1",
        f"q={TOKEN}+Artist+2",
        f"q={spotify_id(1)}",
        f"q={TOKEN}+Album+1",
        "explicit__exact=1",
        "genres__id__exact=1",
        "decade=unknown",
        "decade=1990",
        "decade=notayear",
        "decade=99999999999999999999",
        "key=5",
        "key=99",
        "mode__exact=1",
        "o=2",
        "o=3.-4.6",
        "o=7",
    ],
)
def test_track_changelist_filters_search_and_sorting(admin_client: Client, query: str) -> None:
    # given
    seed([track_row(1), track_row(2, explicit="True")])

    # when
    response = admin_client.get(f"{reverse('admin:catalog_track_changelist')}?{query}")

    # then
    assert response.status_code == 200


def test_search_finds_tracks_by_artist_and_album(admin_client: Client) -> None:
    # given
    seed(
        [
            track_row(1),
            track_row(2, artists=f"Nina {TOKEN}simone", album_name=f"Pastel {TOKEN}blues"),
        ]
    )
    url = reverse("admin:catalog_track_changelist")

    # when
    by_artist = admin_client.get(url, {"q": f"{TOKEN}SIMONE"})
    by_album = admin_client.get(url, {"q": f"{TOKEN}blues"})

    # then: the match first (the search is typo-tolerant: near matches may follow it)
    assert [t.spotify_id for t in by_artist.context["cl"].result_list][:1] == [spotify_id(2)]
    assert [t.spotify_id for t in by_album.context["cl"].result_list][:1] == [spotify_id(2)]


def test_track_search_is_typo_tolerant_and_ranked(admin_client: Client) -> None:
    # when
    response = admin_client.get(reverse("admin:catalog_track_changelist"), {"q": "beatels"})

    # then: The Beatles' tracks, first, though the word is misspelt
    assert response.status_code == 200
    results = list(response.context["cl"].result_list)
    assert results
    assert "The Beatles" in results[0].artist_names
    beatles = Track.objects.filter(artists__name="The Beatles").count()
    assert sum("The Beatles" in track.artist_names for track in results) == min(beatles, 50)


def test_track_search_by_spotify_id_finds_exactly_that_track(admin_client: Client) -> None:
    # given
    seed([track_row(1), track_row(2)])

    # when
    response = admin_client.get(reverse("admin:catalog_track_changelist"), {"q": spotify_id(2)})

    # then
    assert [t.spotify_id for t in response.context["cl"].result_list] == [spotify_id(2)]


def test_track_search_keeps_substring_matches_and_explicit_ordering(admin_client: Client) -> None:
    # given
    seed([track_row(1, track_name=f"A{TOKEN}b middle"), track_row(2, popularity="90")])
    url = reverse("admin:catalog_track_changelist")

    # when: part of a word, which full text alone would not find; then sorted by title
    inside = admin_client.get(url, {"q": TOKEN.lower()[1:]})
    by_title = admin_client.get(url, {"q": TOKEN, "o": "1"})

    # then
    assert {t.spotify_id for t in inside.context["cl"].result_list} >= {
        spotify_id(1),
        spotify_id(2),
    }
    titles = [t.title for t in by_title.context["cl"].result_list]
    assert len(titles) >= 2
    assert titles == sorted(titles)  # the database sorts in code point order (C.UTF-8)


def test_artist_search_and_autocomplete_are_typo_tolerant(admin_client: Client) -> None:
    # when
    changelist = admin_client.get(reverse("admin:catalog_artist_changelist"), {"q": "beatels"})
    autocomplete = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "catalog",
            "model_name": "trackartist",
            "field_name": "artist",
            "term": "beatels",
        },
    )

    # then
    assert "The Beatles" in [a.name for a in changelist.context["cl"].result_list]
    assert autocomplete.status_code == 200
    assert "The Beatles" in [item["text"] for item in autocomplete.json()["results"]]


def test_autocomplete_lists_albums_with_their_artist(admin_client: Client) -> None:
    # given
    seed([track_row(1, album_name=f"{TOKEN} Blue", artists=f"{TOKEN} Joni")])

    # when
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "catalog", "model_name": "track", "field_name": "album", "term": "xadm bl"},
    )

    # then
    assert response.status_code == 200
    assert [item["text"] for item in response.json()["results"]] == [f"{TOKEN} Blue ({TOKEN} Joni)"]


def test_non_staff_users_are_sent_to_the_login_page(client: Client, django_user_model: Any) -> None:
    # given
    listener = django_user_model.objects.create_user("listener", password="pw")
    client.force_login(listener)

    # when
    response = client.get(reverse("admin:catalog_track_changelist"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_track_changelist_queries_do_not_grow_with_the_number_of_tracks(
    admin_client: Client,
) -> None:
    # given: the changelist filtered to this module's genre, first with 3 tracks, then with 30
    seed([track_row(n) for n in range(3)])
    genre = Genre.objects.get(name=GENRE)
    url = f"{reverse('admin:catalog_track_changelist')}?genres__id__exact={genre.pk}"
    with CaptureQueriesContext(connection) as few:
        assert len(admin_client.get(url).context["cl"].result_list) == 3
    seed([track_row(n) for n in range(3, 30)])

    # when
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)

    # then
    assert len(response.context["cl"].result_list) == 30
    assert len(many) == len(few)


def test_artist_changelist_queries_do_not_grow_with_the_number_of_artists(
    admin_client: Client,
) -> None:
    # given
    url = f"{reverse('admin:catalog_artist_changelist')}?q={TOKEN}"
    seed([track_row(n) for n in range(3)])
    with CaptureQueriesContext(connection) as few:
        assert len(admin_client.get(url).context["cl"].result_list) == 6
    seed([track_row(n) for n in range(3, 30)])

    # when
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)

    # then
    assert response.status_code == 200
    assert len(many) == len(few)
    counts = {artist.name: artist.track_count for artist in response.context["cl"].result_list}
    assert len(counts) == 33
    assert counts[f"{TOKEN} Guest 0"] == 10


# ------------------------------------------------------------------- edits keep search right


def test_saving_a_track_rebuilds_its_search_document(admin_client: Client) -> None:
    # given
    seed([track_row(1)])
    track = Track.objects.get(spotify_id=spotify_id(1))
    url = reverse("admin:catalog_track_change", args=[track.pk])
    data = change_form_data(admin_client.get(url))
    data["title"] = f"{TOKEN} Renamed"

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    track.refresh_from_db()
    assert track.title == f"{TOKEN} Renamed"
    assert track.search_document.startswith(f"{TOKEN} Renamed\n")


def test_a_track_needs_an_artist_credit(admin_client: Client) -> None:
    # given
    seed([track_row(1)])
    track = Track.objects.get(spotify_id=spotify_id(1))
    url = reverse("admin:catalog_track_change", args=[track.pk])
    data = change_form_data(admin_client.get(url))
    data.update({"track_artists-0-DELETE": "on", "track_artists-1-DELETE": "on"})

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 200
    assert "Please submit at least 1 form." in response.content.decode()
    assert TrackArtist.objects.filter(track=track).count() == 2


def test_renaming_an_artist_rebuilds_the_search_documents_of_its_tracks(
    admin_client: Client,
) -> None:
    # given
    seed([track_row(1), track_row(2)])
    artist = Artist.objects.get(name=f"{TOKEN} Artist 1")
    url = reverse("admin:catalog_artist_change", args=[artist.pk])

    # when
    response = admin_client.post(url, {"name": f"{TOKEN} Nina"})

    # then
    assert response.status_code == 302
    assert f"{TOKEN} Nina" in Track.objects.get(spotify_id=spotify_id(1)).search_document
    assert f"{TOKEN} Nina" not in Track.objects.get(spotify_id=spotify_id(2)).search_document


def test_deleting_a_genre_rebuilds_the_search_documents_of_its_tracks(
    admin_client: Client,
) -> None:
    # given
    seed([track_row(1, track_genre="zqxadm bossa"), track_row(1, track_genre="zqxadm jazz")])
    genre = Genre.objects.get(name="zqxadm bossa")
    url = reverse("admin:catalog_genre_delete", args=[genre.pk])

    # when
    response = admin_client.post(url, {"post": "yes"})

    # then
    assert response.status_code == 302
    document = Track.objects.get(spotify_id=spotify_id(1)).search_document
    assert "zqxadm jazz" in document
    assert "zqxadm bossa" not in document


def test_recompute_action_rebuilds_the_selected_documents(admin_client: Client) -> None:
    # given
    seed([track_row(1), track_row(2)])
    own_tracks().update(search_document="")
    first = Track.objects.get(spotify_id=spotify_id(1))

    # when
    response = admin_client.post(
        reverse("admin:catalog_track_changelist"),
        {"action": "recompute_search_documents", "_selected_action": [first.pk]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert "recomputed for 1 tracks; 1 had changed" in response.content.decode()
    assert Track.objects.get(pk=first.pk).search_document.startswith(f"{TOKEN} Song 1\n")
    assert Track.objects.get(spotify_id=spotify_id(2)).search_document == ""


# --------------------------------------------------------------------------- CSV import


def test_import_preview_shows_rejected_rows_and_writes_nothing(admin_client: Client) -> None:
    # given
    seed([track_row(1)])
    before = snapshot()
    content = csv_bytes([track_row(2), track_row(1), track_row(3, danceability="7")])

    # when
    response = preview(admin_client, content)

    # then
    page = response.content.decode()
    assert response.status_code == 200
    invalid = response.context["result"].invalid_rows
    assert [(row.number, row.field_specific_errors) for row in invalid] == [
        (4, {"danceability": ["7.0 is outside 0.0\N{EN DASH}1.0"]})
    ]
    assert "7.0 is outside 0.0\N{EN DASH}1.0" in page
    assert "1 of the 3 rows cannot be imported" in page
    assert "the other rows would give 1 track to create, 0 to update and 1 unchanged" in page
    assert not response.context.get("confirm_form")
    assert snapshot() == before
    assert not ImportUpload.objects.exists()


def test_import_preview_shows_every_reason_of_every_rejected_row(admin_client: Client) -> None:
    # given: two rejected rows, one with three problems
    content = csv_bytes(
        [
            track_row(1),
            track_row(2, danceability="7", explicit="maybe", tempo="fast"),
            track_row(3, track_name="", loudness="99"),
        ]
    )

    # when
    response = preview(admin_client, content)

    # then
    page = response.content.decode()
    reasons = [
        "<strong>explicit</strong>: &#x27;maybe&#x27; is not true or false",
        "<strong>danceability</strong>: 7.0 is outside 0.0\N{EN DASH}1.0",
        "<strong>tempo</strong>: &#x27;fast&#x27; is not a number",
        "<strong>track_name</strong>: missing",
        "<strong>loudness</strong>: 99.0 is outside -70.0\N{EN DASH}10.0",
    ]
    for reason in reasons:
        assert reason in page
    assert "validation-error-container" not in page  # nothing hidden behind a hover
    assert [row.error_count for row in response.context["result"].invalid_rows] == [3, 2]
    assert "2 of the 3 rows cannot be imported" in page
    assert not Track.objects.filter(spotify_id=spotify_id(1)).exists()


def test_import_preview_lists_new_updated_and_unchanged_rows(admin_client: Client) -> None:
    # given
    seed([track_row(1), track_row(2)])
    content = csv_bytes([track_row(3), track_row(1, popularity="99"), track_row(2)])

    # when
    response = preview(admin_client, content)

    # then
    assert response.status_code == 200
    kinds = [(row.diff[0], row.import_type) for row in response.context["result"].valid_rows()]
    assert kinds == [(spotify_id(3), "new"), (spotify_id(1), "update"), (spotify_id(2), "skip")]
    assert "Confirm import" in response.content.decode()
    assert not Track.objects.filter(spotify_id=spotify_id(3)).exists()


def test_confirming_an_import_creates_and_updates_tracks_and_drops_the_upload(
    admin_client: Client,
) -> None:
    # given
    seed([track_row(1), track_row(2)])
    content = csv_bytes([track_row(3), track_row(1, popularity="99"), track_row(2)])
    previewed = preview(admin_client, content)
    assert ImportUpload.objects.count() == 1

    # when
    response = confirm(admin_client, previewed)

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:catalog_track_changelist")
    assert Track.objects.get(spotify_id=spotify_id(3)).title == f"{TOKEN} Song 3"
    assert Track.objects.get(spotify_id=spotify_id(1)).popularity == 99
    assert ImportUpload.objects.count() == 0
    page = admin_client.get(response["Location"]).content.decode()
    assert "Import finished: 1 track created, 1 updated, 1 unchanged" in page


def test_confirming_twice_is_not_an_error(admin_client: Client) -> None:
    # given
    previewed = preview(admin_client, csv_bytes([track_row(1)]))
    confirm(admin_client, previewed)

    # when
    response = confirm(admin_client, previewed)

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:catalog_track_import")
    assert own_tracks().count() == 1


@pytest.mark.parametrize("field", ["format", "resource"])
def test_a_tampered_confirm_form_is_refused_without_a_server_error(
    admin_client: Client, field: str
) -> None:
    # given
    previewed = preview(admin_client, csv_bytes([track_row(1)]))
    data = {**previewed.context["confirm_form"].initial, field: "7"}

    # when
    response = admin_client.post(reverse("admin:catalog_track_process_import"), data)

    # then
    assert response.status_code == 200
    assert not own_tracks().exists()


def test_a_large_preview_lists_the_first_rows_but_counts_them_all(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    monkeypatch.setattr(resources, "PREVIEW_ROW_LIMIT", 2)
    content = csv_bytes([track_row(n) for n in range(5)])

    # when
    response = preview(admin_client, content)

    # then
    result = response.context["result"]
    assert len(result.valid_rows()) == 2
    assert result.rows_not_listed == 3
    assert result.totals["new"] == 5
    assert "5 tracks to create" in response.content.decode()
    assert not own_tracks().exists()


def test_a_file_without_a_required_column_gets_a_clear_error(admin_client: Client) -> None:
    # given
    columns = [name for name in CSV_COLUMNS if name != "track_id"]
    content = csv_bytes([track_row(1)], columns=columns)

    # when
    response = preview(admin_client, content)

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "The file has no track_id column" in page
    assert "Traceback" not in page
    assert not own_tracks().exists()


@pytest.mark.parametrize(
    "content",
    [b"", b"track_id,track_name,artists\n", b"\xff\xfe\x00garbage", b'a,"b\n1,2,3,4\n'],
)
def test_unreadable_files_are_form_errors(admin_client: Client, content: bytes) -> None:
    # when
    response = preview(admin_client, content)

    # then
    assert response.status_code == 200
    assert response.context["form"].errors or response.context["result"].has_errors()
    assert not own_tracks().exists()


def test_files_over_the_upload_limit_are_refused(admin_client: Client, settings: Any) -> None:
    # given
    settings.CATALOG_UPLOAD_MAX_BYTES = 100
    content = csv_bytes([track_row(1), track_row(2)])

    # when
    response = preview(admin_client, content)

    # then
    assert response.status_code == 200
    assert "import_file" in response.context["form"].errors
    assert not ImportUpload.objects.exists()


# --------------------------------------------------------------------------- CSV export


def export(client: Client, **filters: str) -> str:
    """The CSV the track changelist's export button gives, for this module's tracks."""
    params = "&".join(f"{key}={value}" for key, value in {"q": TOKEN, **filters}.items())
    fields = {f"trackresource_{name}": "on" for name in CSV_COLUMNS}
    response = client.post(
        f"{reverse('admin:catalog_track_export')}?{params}",
        {"format": "0", "resource": "0", **fields},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return response.content.decode()


def test_export_writes_one_row_per_track_and_genre_in_the_importer_columns(
    admin_client: Client,
) -> None:
    # given
    seed(
        [
            track_row(1, track_genre="zqxadm pop"),
            track_row(1, track_genre="zqxadm rock"),
            track_row(2),
        ]
    )
    Track.objects.get(spotify_id=spotify_id(2)).genres.clear()

    # when
    rows = list(csv.DictReader(io.StringIO(export(admin_client))))

    # then
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert set(CSV_COLUMNS) == set(KNOWN_COLUMNS)
    assert sorted((row["track_id"], row["track_genre"]) for row in rows) == [
        (spotify_id(1), "zqxadm pop"),
        (spotify_id(1), "zqxadm rock"),
        (spotify_id(2), ""),
    ]
    by_id = {row["track_id"]: row for row in rows}
    assert by_id[spotify_id(1)]["artists"] == f"{TOKEN} Artist 1;{TOKEN} Guest 1"
    assert by_id[spotify_id(1)]["instrumentalness"] == "1.2e-05"
    assert by_id[spotify_id(1)]["explicit"] == "False"


def test_export_follows_the_changelist_filters(admin_client: Client) -> None:
    # given
    seed([track_row(1), track_row(2, explicit="True")])

    # when
    rows = list(csv.DictReader(io.StringIO(export(admin_client, explicit__exact="1"))))

    # then
    assert [row["track_id"] for row in rows] == [spotify_id(2)]


def test_an_export_re_imports_to_the_same_tracks(admin_client: Client) -> None:
    # given
    seed(
        [
            track_row(1, track_genre="zqxadm pop"),
            track_row(1, track_genre="zqxadm dance pop"),
            track_row(2, artists=f"{TOKEN} Solo", album_name="", release_year="1999", explicit="1"),
            track_row(3, tempo="0", loudness="1.5", key="-1", instrumentalness="0.000123"),
        ]
    )
    Track.objects.get(spotify_id=spotify_id(3)).genres.clear()
    before = snapshot()
    exported = export(admin_client)
    own_tracks().delete()
    Album.objects.filter(name__startswith=TOKEN).delete()
    Artist.objects.filter(name__startswith=TOKEN).delete()
    Genre.objects.filter(name__startswith="zqxadm").delete()
    assert snapshot() == {}

    # when
    summary = catalog_import_stream(stream=io.StringIO(exported))

    # then
    assert summary.rejected == []
    assert summary.created == 3
    assert snapshot() == before


# Real names from the Spotify tracks dataset that a spreadsheet would run as formulas.
FORMULA_LIKE = [
    {"track_name": "=LOVE", "artists": "=LOVE", "album_name": "=LOVE", "track_genre": "j-idol"},
    {"track_name": "-Tu Amor Me Hace Bien", "artists": "-M-", "album_name": "-998"},
    {"track_name": "+", "album_name": "+8138", "track_genre": "-zqxadm minus"},
    {"track_name": "@princejoyce (feat. ANSONBEAN)", "album_name": "@princejoyce"},
    # as an export writes the names "'=quoted" and "'@twice" (a quote of their own, then "=")
    {"track_name": "''=quoted", "artists": "'Til Tuesday", "album_name": "''@twice"},
]


def export_all(client: Client) -> str:
    """The CSV of the whole catalog (the demo catalog and this module's tracks)."""
    fields = {f"trackresource_{name}": "on" for name in CSV_COLUMNS}
    response = client.post(
        reverse("admin:catalog_track_export"), {"format": "0", "resource": "0", **fields}
    )
    assert response.status_code == 200
    return response.content.decode()


def _formula_rows() -> list[dict[str, str]]:
    return [track_row(50 + n, loudness="-5.2", **names) for n, names in enumerate(FORMULA_LIKE)]


def test_export_escapes_cells_a_spreadsheet_would_run_as_formulas(admin_client: Client) -> None:
    # given
    seed(_formula_rows())

    # when
    rows = {
        row["track_id"]: row
        for row in csv.DictReader(io.StringIO(export_all(admin_client)))
        if row["track_id"].startswith("ZQXADM")
    }

    # then
    love, tu_amor, plus, at, quoted = (rows[spotify_id(50 + n)] for n in range(5))
    assert (love["track_name"], love["artists"], love["album_name"]) == ("'=LOVE",) * 3
    assert (tu_amor["track_name"], tu_amor["artists"], tu_amor["album_name"]) == (
        "'-Tu Amor Me Hace Bien",
        "'-M-",
        "'-998",
    )
    assert (plus["track_name"], plus["album_name"], plus["track_genre"]) == (
        "'+",
        "'+8138",
        "'-zqxadm minus",
    )
    assert at["track_name"] == "'@princejoyce (feat. ANSONBEAN)"
    assert (quoted["track_name"], quoted["artists"], quoted["album_name"]) == (
        "''=quoted",
        "'Til Tuesday",
        "''@twice",
    )
    # numbers are numbers, not formulas
    assert {row["loudness"] for row in rows.values()} == {"-5.2"}
    for row in rows.values():
        for value in row.values():
            assert value[:1] not in ("=", "+", "@", "\t", "\r"), row
            assert not value.startswith("-") or value == "-5.2", row


def test_the_whole_catalog_exports_and_re_imports_without_a_change(admin_client: Client) -> None:
    # given: the 3,236-track demo catalog plus real formula-like names
    seed(_formula_rows())
    before = snapshot()
    tracks = Track.objects.count()

    # when: exported from the admin, then read back by the admin preview and by the importer
    exported = export_all(admin_client)
    previewed = preview(admin_client, exported.encode())
    summary = catalog_import_stream(stream=io.StringIO(exported))

    # then
    assert previewed.context["result"].totals["new"] == 0
    assert previewed.context["result"].totals["update"] == 0
    assert previewed.context["result"].totals["invalid"] == 0
    assert summary.rejected == []
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, tracks)
    assert snapshot() == before
    assert Track.objects.get(spotify_id=spotify_id(50)).title == "=LOVE"
    quoted = Track.objects.get(spotify_id=spotify_id(54))
    assert (quoted.title, quoted.artist_names, quoted.album.name) == (
        "'=quoted",
        "'Til Tuesday",
        "'@twice",
    )


# --------------------------------------------------------------------------- temporary storage


def test_temp_storage_round_trips_text_and_bytes_and_forgets_on_remove() -> None:
    # given
    storage = DatabaseTempStorage(encoding="utf-8-sig", read_mode="r")
    storage.save("track_id,title\n1,Beyoncé\n".encode("utf-8-sig"))

    # when
    text = DatabaseTempStorage(name=storage.name, encoding="utf-8-sig").read()
    raw = DatabaseTempStorage(name=storage.name, read_mode="rb").read()
    storage.remove()
    storage.remove()

    # then
    assert text == "track_id,title\n1,Beyoncé\n"
    assert raw.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UploadMissingError):
        storage.read()


def test_saving_an_upload_purges_those_older_than_a_day() -> None:
    # given
    stale, fresh = DatabaseTempStorage(), DatabaseTempStorage()
    stale.save(b"old")
    fresh.save(b"recent")
    ImportUpload.objects.filter(name=stale.name).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )

    # when
    DatabaseTempStorage().save(b"new")

    # then
    names = set(ImportUpload.objects.values_list("name", flat=True))
    assert stale.name not in names
    assert fresh.name in names
    assert len(names) == 2
