"""The catalog import: idempotent upserts, per-row rejection, atomicity, the command."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from catalog.models import Album, Artist, Genre, Track, TrackArtist
from catalog.services.imports import catalog_import_file, catalog_import_rows
from musicrec.errors import ApplicationError
from tests.catalog.factories import TrackFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "track_id", "artists", "album_name", "track_name", "popularity", "duration_ms", "explicit",
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature", "track_genre",
]  # fmt: skip


def row(track_id: str, title: str = "Song", **overrides: str) -> dict[str, str]:
    values = {
        "track_id": track_id,
        "artists": "Import Artist A;Import Artist B",
        "album_name": "Import Album",
        "track_name": title,
        "popularity": "40",
        "duration_ms": "180000",
        "explicit": "False",
        "danceability": "0.5",
        "energy": "0.6",
        "key": "5",
        "loudness": "-7.5",
        "mode": "1",
        "speechiness": "0.04",
        "acousticness": "0.2",
        "instrumentalness": "0.0",
        "liveness": "0.1",
        "valence": "0.7",
        "tempo": "118.0",
        "time_signature": "4",
        "track_genre": "import-genre",
    }
    values.update(overrides)
    return values


def write_csv(path: Path, rows: list[dict[str, str]], *, gz: bool = False) -> Path:
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def table_counts() -> dict[str, int]:
    tables = ["catalog_track", "catalog_artist", "catalog_album", "catalog_genre",
              "catalog_trackartist", "catalog_track_genres"]  # fmt: skip
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


GOOD = [
    row("AAAAAAAAAAAAAAAAAAAAA1", "First Song"),
    row("AAAAAAAAAAAAAAAAAAAAA2", "Second Song", artists="Import Artist C"),
    # the same track under a second genre: one track, both genres
    row("AAAAAAAAAAAAAAAAAAAAA1", "First Song", track_genre="second-genre"),
]
BAD = [
    row("", "No Id"),
    row("AAAAAAAAAAAAAAAAAAAAA3", ""),
    row("AAAAAAAAAAAAAAAAAAAAA4", "Too Danceable", danceability="7"),
    row("AAAAAAAAAAAAAAAAAAAAA5", "Not A Number", tempo="fast"),
    row("AAAAAAAAAAAAAAAAAAAAA6", "No Artist", artists=" ; "),
]


def test_import_twice_creates_then_changes_nothing(tmp_path):
    # given
    path = write_csv(tmp_path / "tracks.csv", GOOD + BAD)
    before = table_counts()

    # when
    first = catalog_import_file(path=path)
    after_first = table_counts()
    second = catalog_import_file(path=path)

    # then
    assert (first.rows_read, first.tracks_in_file, first.created, first.updated) == (8, 2, 2, 0)
    assert first.rejected_count == 5
    assert after_first["catalog_track"] == before["catalog_track"] + 2
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert table_counts() == after_first
    assert [(r.row, r.reason) for r in second.rejected] == [
        (r.row, r.reason) for r in first.rejected
    ]


def test_rejected_rows_carry_row_number_and_reason(tmp_path):
    path = write_csv(tmp_path / "tracks.csv", GOOD + BAD)

    summary = catalog_import_file(path=path)

    reasons = {r.row: r.reason for r in summary.rejected}
    # header is row 1, so the first bad row (5th data row) is row 5
    assert reasons == {
        5: "track_id: missing",
        6: "track_name: missing",
        7: "danceability: 7.0 is outside 0.0–1.0",
        8: "tempo: 'fast' is not a number",
        9: "artists: missing",
    }
    assert (
        not Track.objects.filter(spotify_id__startswith="AAAAAAAAAAAAAAAAAAAAA")
        .exclude(spotify_id__in=["AAAAAAAAAAAAAAAAAAAAA1", "AAAAAAAAAAAAAAAAAAAAA2"])
        .exists()
    )


def test_a_rejected_row_carries_every_reason_not_only_the_first():
    # given: a row with four problems
    bad = row(
        "not-an-id",
        "",
        danceability="7",
        explicit="maybe",
    )

    # when
    summary = catalog_import_rows(rows=[bad], dry_run=True)

    # then
    [rejected] = summary.rejected
    assert rejected.reasons == [
        "track_id: 'not-an-id' is not a 22-character Spotify id",
        "track_name: missing",
        "explicit: 'maybe' is not true or false",
        "danceability: 7.0 is outside 0.0–1.0",
    ]
    assert rejected.reason == "; ".join(rejected.reasons)


def test_multi_genre_and_multi_artist_rows_make_one_track(tmp_path):
    catalog_import_file(path=write_csv(tmp_path / "t.csv", GOOD))

    track = Track.objects.get(spotify_id="AAAAAAAAAAAAAAAAAAAAA1")
    assert sorted(track.genres.values_list("slug", flat=True)) == ["import-genre", "second-genre"]
    credits = list(
        TrackArtist.objects.filter(track=track)
        .order_by("position")
        .values_list("artist__name", "position")
    )
    assert credits == [("Import Artist A", 0), ("Import Artist B", 1)]
    assert track.album.name == "Import Album"
    assert track.album.primary_artist.name == "Import Artist A"
    assert "Import Artist B" in track.search_document


def test_edited_row_is_reported_updated_and_applied(tmp_path):
    catalog_import_file(path=write_csv(tmp_path / "a.csv", GOOD))
    edited = [
        row("AAAAAAAAAAAAAAAAAAAAA1", "First Song (Remix)"),
        GOOD[1],
        row("AAAAAAAAAAAAAAAAAAAAA1", "First Song (Remix)", track_genre="second-genre"),
    ]

    summary = catalog_import_file(path=write_csv(tmp_path / "b.csv", edited))

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    assert summary.updated_ids == ["AAAAAAAAAAAAAAAAAAAAA1"]
    assert Track.objects.get(spotify_id="AAAAAAAAAAAAAAAAAAAAA1").title == "First Song (Remix)"


def test_changed_credits_count_as_update(tmp_path):
    catalog_import_file(path=write_csv(tmp_path / "a.csv", GOOD))

    summary = catalog_import_rows(
        rows=[row("AAAAAAAAAAAAAAAAAAAAA2", "Second Song", artists="Import Artist C;Guest")]
    )

    assert summary.updated == 1
    track = Track.objects.get(spotify_id="AAAAAAAAAAAAAAAAAAAAA2")
    assert list(
        track.track_artists.order_by("position").values_list("artist__name", flat=True)
    ) == [
        "Import Artist C",
        "Guest",
    ]


def test_last_row_wins_for_fields_of_a_repeated_track(tmp_path):
    rows = [
        row("AAAAAAAAAAAAAAAAAAAAA7", "Old Title", popularity="10"),
        row("AAAAAAAAAAAAAAAAAAAAA7", "New Title", popularity="90", track_genre="other-genre"),
    ]

    catalog_import_file(path=write_csv(tmp_path / "t.csv", rows))

    track = Track.objects.get(spotify_id="AAAAAAAAAAAAAAAAAAAAA7")
    assert (track.title, track.popularity) == ("New Title", 90)
    assert track.genres.count() == 2


def test_gzip_file_is_read(tmp_path):
    summary = catalog_import_file(path=write_csv(tmp_path / "t.csv.gz", GOOD, gz=True))

    assert summary.created == 2


def test_dry_run_counts_but_writes_nothing(tmp_path):
    before = table_counts()

    summary = catalog_import_file(path=write_csv(tmp_path / "t.csv", GOOD), dry_run=True)

    assert summary.created == 2
    assert table_counts() == before


def test_error_in_the_middle_leaves_nothing_half_written():
    before = table_counts()

    def rows():
        yield row("AAAAAAAAAAAAAAAAAAAAA8", "Written First")
        raise KeyboardInterrupt  # Ctrl-C in the middle of the file

    with pytest.raises(KeyboardInterrupt):
        catalog_import_rows(rows=rows())

    assert table_counts() == before
    assert not Track.objects.filter(spotify_id="AAAAAAAAAAAAAAAAAAAAA8").exists()


def test_missing_required_column_is_a_clear_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("track_id,album_name\nAAAAAAAAAAAAAAAAAAAAA1,X\n")

    with pytest.raises(ApplicationError) as excinfo:
        catalog_import_file(path=path)

    assert excinfo.value.code == "missing_columns"
    assert excinfo.value.extra["missing"] == ["track_name", "artists"]


def test_file_that_is_not_utf8_changes_nothing(tmp_path):
    path = tmp_path / "t.csv"
    good = io.StringIO()
    writer = csv.DictWriter(good, fieldnames=HEADER)
    writer.writeheader()
    writer.writerow(GOOD[0])
    path.write_bytes(good.getvalue().encode() + b"\xff\xfe broken \xff\n")
    before = table_counts()

    with pytest.raises(ApplicationError) as excinfo:
        catalog_import_file(path=path)

    assert excinfo.value.code == "file_not_utf8"
    assert table_counts() == before


def test_values_at_the_edges_of_real_data_are_accepted():
    # tempo 0, time signature 0 and 1, loudness above 0 dB all occur in the real dataset
    summary = catalog_import_rows(
        rows=[
            row("AAAAAAAAAAAAAAAAAAAAA9", "Edge", tempo="0", time_signature="0", loudness="4.532"),
            row("AAAAAAAAAAAAAAAAAAAAB1", "Edge 2", time_signature="1", duration_ms="0"),
        ]
    )

    assert summary.created == 2
    assert summary.rejected == []


def test_genres_artists_albums_are_not_duplicated(tmp_path):
    path = write_csv(tmp_path / "t.csv", GOOD)
    catalog_import_file(path=path)
    counts = (Artist.objects.count(), Album.objects.count(), Genre.objects.count())

    catalog_import_file(path=path)

    assert (Artist.objects.count(), Album.objects.count(), Genre.objects.count()) == counts


def test_command_prints_summary_and_writes_rejects(tmp_path):
    path = write_csv(tmp_path / "t.csv", GOOD + BAD)
    rejects = tmp_path / "rejects.csv"
    out = io.StringIO()

    call_command(
        "import_catalog", str(path), "--rejects", str(rejects), "--no-progress", stdout=out
    )

    text = out.getvalue()
    assert "created:          2" in text
    assert "rejected rows:    5" in text
    assert "row 7 (AAAAAAAAAAAAAAAAAAAAA4): danceability: 7.0 is outside 0.0–1.0" in text
    lines = rejects.read_text().splitlines()
    assert lines[0] == "row,track_id,reason"
    assert len(lines) == 6


def test_command_reports_a_missing_file_without_traceback(tmp_path):
    with pytest.raises(CommandError, match="Cannot open"):
        call_command("import_catalog", str(tmp_path / "nope.csv"), "--no-progress")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("popularity", 101),
        ("danceability", 1.5),
        ("energy", -0.1),
        ("tempo", 301.0),
        ("loudness", 20.0),
        ("key", 12),
        ("mode", 2),
        ("time_signature", 8),
        ("release_year", 1700),
    ],
)
def test_database_refuses_impossible_values(field, value):
    track = TrackFactory()
    setattr(track, field, value)

    with pytest.raises(IntegrityError), transaction.atomic():
        track.save(update_fields=[field])


def test_spotify_id_is_unique_when_present_but_many_tracks_may_have_none():
    TrackFactory(spotify_id="")
    TrackFactory(spotify_id="")
    taken = TrackFactory().spotify_id

    with pytest.raises(IntegrityError), transaction.atomic():
        TrackFactory(spotify_id=taken)
