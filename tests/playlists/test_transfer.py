"""Exporting and importing playlists (selector and service): files read back by independent
readers, export → import round trips in each format, Exportify's and ListenBrainz's files,
refusals that store nothing, and an import's query count that does not grow with its entries."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Track
from history.models import Interaction
from history.selectors.matching import CatalogIndex
from musicrec.errors import ApplicationError
from playlists.formats import FORMATS, read_playlist
from playlists.formats.detect import KINDS
from playlists.models import Origin, Playlist
from playlists.selectors.playlists import playlist_track_ids
from playlists.selectors.transfer import (
    CANDIDATES_PER_TITLE,
    export_file_name,
    playlist_export,
    title_stem,
)
from playlists.services import transfer
from playlists.services.playlists import playlist_create
from playlists.services.transfer import playlist_import
from tests.catalog.factories import ArtistFactory, TrackFactory
from tests.playlists.exportify import exportify_csv, shared_sample

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"

AWKWARD_TITLES = [
    'Hello, "World"',
    "Line one\nline two",
    "#1 at the start",
    "東京フラッシュ",
    "Кино — Группа крови",
    "=SUM(A1:A9)",
    "Tab\tinside",
]


def _upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def awkward(listener) -> Playlist:
    """A playlist of tracks with awkward titles and several artists, without Spotify ids."""
    crosby = ArtistFactory(name="Crosby, Stills & Nash")
    young = ArtistFactory(name="Neil Young")
    tracks = [
        TrackFactory(title=title, spotify_id="", artists=[crosby, young] if i == 0 else None)
        for i, title in enumerate(AWKWARD_TITLES)
    ]
    return playlist_create(
        owner=listener,
        name="Road trip, “quoted” / ünïcode",
        description="For, the road",
        track_ids=[t.pk for t in tracks],
    )


def _demo_ids(n: int) -> list[int]:
    """Catalog tracks with a Spotify id, whose artist + title no other track shares."""
    return list(
        Track.objects.exclude(spotify_id="")
        .order_by("-popularity", "id")
        .values_list("id", flat=True)[:n]
    )


# ---- export ----------------------------------------------------------------------------------


def test_m3u_export_read_back_line_by_line(awkward):
    export = playlist_export(playlist=awkward, fmt="m3u", base_url="https://music.example")

    assert export.content_type == "audio/x-mpegurl"
    assert export.filename == "Road-trip-quoted-unicode.m3u8"
    lines = export.body.decode("utf-8").split("\n")
    assert lines[:2] == ["#EXTM3U", "#PLAYLIST:Road trip, “quoted” / ünïcode"]
    extinf = [line for line in lines if line.startswith("#EXTINF:")]
    locations = [line for line in lines if line and not line.startswith("#")]
    assert extinf[0] == '#EXTINF:200,Crosby, Stills & Nash, Neil Young - Hello, "World"'
    assert [line.split(" - ", 1)[1] for line in extinf] == [
        title.replace("\n", " ") for title in AWKWARD_TITLES
    ]
    ids = playlist_track_ids(playlist_id=awkward.pk)
    assert locations == [f"https://music.example/tracks/{track_id}/" for track_id in ids]


def test_jspf_export_has_the_structure_and_exact_titles(awkward):
    export = playlist_export(playlist=awkward, fmt="jspf")

    document = json.loads(export.body)
    playlist = document["playlist"]
    assert export.content_type == "application/json"
    assert export.filename.endswith(".jspf")
    assert playlist["title"] == awkward.name
    assert playlist["creator"] == awkward.owner.username
    assert playlist["annotation"] == "For, the road"
    assert playlist["extension"]["https://musicbrainz.org/doc/jspf#playlist"]["public"] is False
    assert [t["title"] for t in playlist["track"]] == AWKWARD_TITLES
    for track in playlist["track"]:
        assert isinstance(track["creator"], str) and track["creator"]
        assert isinstance(track["album"], str)
        assert isinstance(track["duration"], int)
        assert isinstance(track["identifier"], list)
        assert track["info"].startswith("/tracks/")


def test_csv_export_read_back_by_the_csv_module(awkward):
    export = playlist_export(playlist=awkward, fmt="csv")

    assert export.content_type == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(export.body.decode("utf-8-sig"), newline="")))
    assert [row["title"] for row in rows] == [
        "'=SUM(A1:A9)" if t.startswith("=") else t for t in AWKWARD_TITLES
    ]
    assert rows[0]["artists"] == "Crosby, Stills & Nash; Neil Young"
    assert [row["position"] for row in rows] == [str(i) for i in range(1, len(rows) + 1)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "etc-passwd.m3u8"),
        ("Café ☕ mix", "Cafe-mix.m3u8"),
        ("東京", "playlist.m3u8"),
        (".hidden", "hidden.m3u8"),
        ("a" * 300, "a" * 80 + ".m3u8"),
        ('C:\\x\\"y"', "C-x-y.m3u8"),
    ],
)
def test_export_file_names_are_ascii_and_never_a_path(name, expected):
    assert export_file_name(name, "m3u8") == expected


def test_an_empty_playlist_exports_in_every_format(listener):
    playlist = playlist_create(owner=listener, name="Nothing yet")

    for fmt in FORMATS:
        assert playlist_export(playlist=playlist, fmt=fmt).body


def test_export_costs_the_same_queries_whatever_the_length(listener, django_assert_max_num_queries):
    short = playlist_create(owner=listener, name="short", track_ids=_demo_ids(3))
    long = playlist_create(owner=listener, name="long", track_ids=_demo_ids(300))

    with CaptureQueriesContext(connection) as few:
        playlist_export(playlist=Playlist.objects.get(pk=short.pk), fmt="jspf")
    with CaptureQueriesContext(connection) as many:
        playlist_export(playlist=Playlist.objects.get(pk=long.pk), fmt="jspf")

    assert len(many) == len(few) <= 6


# ---- export → import -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_import_gives_the_same_tracks_in_the_same_order(listener, fmt):
    ids = _demo_ids(40)[::-1]
    original = playlist_create(owner=listener, name="Favourites, 2026", track_ids=ids)
    export = playlist_export(playlist=original, fmt=fmt)

    outcome = playlist_import(owner=listener, upload=_upload(export.body, export.filename))

    assert playlist_track_ids(playlist_id=outcome.playlist.pk) == ids
    assert (outcome.matched, outcome.unmatched, outcome.fmt) == (40, [], fmt)
    assert outcome.playlist.origin == Origin.IMPORT
    expected_name = "Favourites-2026" if fmt == "csv" else "Favourites, 2026"  # CSV: no title
    assert outcome.playlist.name == expected_name


@pytest.mark.parametrize("fmt", FORMATS)
def test_awkward_titles_without_spotify_ids_round_trip_by_artist_and_title(awkward, listener, fmt):
    export = playlist_export(playlist=awkward, fmt=fmt)

    outcome = playlist_import(owner=listener, upload=_upload(export.body, export.filename))

    assert playlist_track_ids(playlist_id=outcome.playlist.pk) == playlist_track_ids(
        playlist_id=awkward.pk
    )
    assert outcome.unmatched == []


def test_names_match_across_case_accents_feat_and_remaster_suffixes(listener):
    sigur = ArtistFactory(name="Sigur Rós")
    daft, pharrell = ArtistFactory(name="Daft Punk"), ArtistFactory(name="Pharrell Williams")
    hopp = TrackFactory(title="Hoppípolla", artists=[sigur], spotify_id="")
    lucky = TrackFactory(title="Get Lucky (feat. Pharrell Williams)", artists=[daft, pharrell])
    data = (
        b"#EXTM3U\n"
        + "#EXTINF:268,SIGUR ROS - HOPPÍPOLLA - Remastered 2009\nhopp.mp3\n".encode()
        + b"#EXTINF:369,Daft Punk & Pharrell Williams - Get Lucky\nlucky.mp3\n"
        b"#EXTINF:200,Pharrell Williams - get lucky\nlucky2.mp3\n"
    )

    outcome = playlist_import(owner=listener, upload=_upload(data, "mix.m3u"))

    assert playlist_track_ids(playlist_id=outcome.playlist.pk) == [hopp.pk, lucky.pk]
    assert outcome.duplicates == [
        {
            "position": 3,
            "artist": "Pharrell Williams",
            "title": "get lucky",
            "track_id": lucky.pk,
            "first_position": 2,
        }
    ]
    assert outcome.playlist.origin_parameters["duplicates"] == 1


def test_a_common_title_finds_the_named_artists_track_past_the_first_hundred(listener):
    # given more tracks titled "Intro" than the title lookup reads, the wanted one last
    TrackFactory.create_batch(CANDIDATES_PER_TITLE + 20, title="Intro", popularity=90)
    wanted = TrackFactory(title="Intro", artists=[ArtistFactory(name="The xx")], popularity=1)
    data = b"#EXTM3U\n#EXTINF:127,the XX - intro\nintro.mp3\n"

    outcome = playlist_import(owner=listener, upload=_upload(data, "x.m3u"))

    assert playlist_track_ids(playlist_id=outcome.playlist.pk) == [wanted.pk]


def test_listenbrainz_jspf_imports_and_reports_what_is_not_in_the_catalog(listener):
    sigur = ArtistFactory(name="Sigur Rós")
    hopp = TrackFactory(title="Hoppípolla", artists=[sigur])
    queen = Track.objects.get(spotify_id="4u7EnebtmKWzUH433cf5Qv")  # "… - Remastered 2011", 82

    outcome = playlist_import(
        owner=listener,
        upload=_upload((FIXTURES / "listenbrainz_playlist.jspf").read_bytes(), "lb.jspf"),
    )

    assert outcome.fmt == "jspf"
    assert outcome.playlist.name == "Top Discoveries of 2024 for rob"
    assert playlist_track_ids(playlist_id=outcome.playlist.pk) == [queen.pk, hopp.pk]
    assert outcome.unmatched == [
        {
            "position": 2,
            "artist": "Daft Punk feat. Pharrell Williams",
            "title": "Get Lucky",
            "why": "not_in_catalog",
        }
    ]
    assert outcome.playlist.origin_parameters == {
        "format": "jspf",
        "file_name": "lb.jspf",
        "entries": 3,
        "matched": 2,
        "unmatched_count": 1,
        "duplicates": 0,
        "unmatched": outcome.unmatched,
    }
    assert outcome.playlist.is_public is False


def test_an_exportify_file_imports_by_spotify_id_and_by_name_and_reports_the_rest(listener):
    tracks = list(Track.objects.with_related().exclude(spotify_id="").order_by("id")[:12])
    rows = [
        (t.spotify_id if i < 8 else "", t.title, t.album.name if t.album else "",
         [a.name for a in t.artist_list], t.duration_ms)
        for i, t in enumerate(tracks)
    ]  # fmt: skip
    rows += [("", f"No Such Song {i}", "", ["Nobody Known"], 1000) for i in range(3)]

    outcome = playlist_import(owner=listener, upload=_upload(exportify_csv(rows), "Liked.csv"))

    assert outcome.fmt == "csv"
    assert outcome.matched == 12
    assert playlist_track_ids(playlist_id=outcome.playlist.pk) == [t.pk for t in tracks]
    assert [e["title"] for e in outcome.unmatched] == [f"No Such Song {i}" for i in range(3)]
    assert all(e["why"] == "not_in_catalog" for e in outcome.unmatched)


def test_exportify_liked_songs_import_matches_by_spotify_id_and_by_name(listener):
    lines = shared_sample().read_bytes().split(b"\n")
    data = b"\n".join(lines[:501])  # the header and 500 tracks: a playlist's most

    outcome = playlist_import(owner=listener, upload=_upload(data, "Liked_Songs.csv"))

    # the listening imports' matching over the whole catalog (CatalogIndex: every key loaded)
    # finds the same tracks as the bounded lookup
    parsed = read_playlist(data, filename="Liked_Songs.csv")
    index = CatalogIndex.load(spotify_ids=[e.spotify_id for e in parsed.entries])
    expected = []
    for entry in parsed.entries:
        names = [", ".join(entry.artists), *entry.artists]
        found = [
            index.match(artist=n, title=entry.title, spotify_id=entry.spotify_id) for n in names
        ]
        expected.append(next((f for f in found if f is not None), None))
    print(
        f"Exportify sample, 500 tracks against the demo catalog: {outcome.matched} matched "
        f"(by the whole-catalog index: {sum(e is not None for e in expected)})"
    )
    assert outcome.fmt == "csv"
    assert outcome.playlist.name == "Liked_Songs"
    assert outcome.matched + len(outcome.unmatched) == 500
    assert playlist_track_ids(playlist_id=outcome.playlist.pk) == list(
        dict.fromkeys(e for e in expected if e is not None)
    )
    assert outcome.matched >= 10
    assert all(entry["why"] == "not_in_catalog" for entry in outcome.unmatched)
    assert not Interaction.objects.filter(user=listener).exists()  # an import records none


def test_the_name_is_the_given_one_then_the_files_title_then_the_file_name(listener):
    data = b"#EXTM3U\n#PLAYLIST:From the file\n#EXTINF:1,Queen - Bohemian Rhapsody\nx.mp3\n"
    plain = b"#EXTM3U\n#EXTINF:1,Queen - Bohemian Rhapsody\nx.mp3\n"

    given = playlist_import(owner=listener, upload=_upload(data, "a.m3u"), name="  Mine  ")
    titled = playlist_import(owner=listener, upload=_upload(data, "a.m3u"))
    named = playlist_import(owner=listener, upload=_upload(plain, "C:\\Users\\me\\Old mix.m3u"))

    assert [given.playlist.name, titled.playlist.name, named.playlist.name] == [
        "Mine",
        "From the file",
        "Old mix",
    ]


# ---- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.m3u", "empty"),
        (b"\x00\x01\x02binary", "x.jspf", "binary"),
        (b"{not json", "x.jspf", "not valid JSON"),
        (b'{"playlist": {"track": []}}', "x.jspf", "no tracks"),
        (b"title,album\nx,y\n", "x.csv", "no artist column"),
        (b"\xff\xfe\xfd", "x.m3u8", "UTF-8"),
        (b"hello there", "notes.doc", "not a playlist file"),
    ],
)
def test_a_bad_file_is_a_clear_400_and_nothing_is_stored(listener, data, filename, message):
    with pytest.raises(ApplicationError) as caught:
        playlist_import(owner=listener, upload=_upload(data, filename))

    assert caught.value.code == "invalid_file" and caught.value.status == 400
    assert message in caught.value.message
    assert not Playlist.objects.filter(owner=listener).exists()


def test_a_file_with_more_than_500_tracks_is_refused(listener):
    data = b"#EXTM3U\n" + b"".join(b"#EXTINF:1,A - T%d\nx%d.mp3\n" % (i, i) for i in range(501))

    with pytest.raises(ApplicationError, match="more than 500 tracks"):
        playlist_import(owner=listener, upload=_upload(data, "big.m3u"))
    assert not Playlist.objects.exists()


def test_a_file_none_of_whose_tracks_matches_makes_no_playlist(listener):
    data = b"#EXTM3U\n#EXTINF:1,Nobody - Nothing at all\nx.mp3\nno artist here.mp3\n"

    with pytest.raises(ApplicationError) as caught:
        playlist_import(owner=listener, upload=_upload(data, "x.m3u"))

    assert caught.value.code == "nothing_matched"
    assert caught.value.extra["unmatched"] == [
        {"position": 1, "artist": "Nobody", "title": "Nothing at all", "why": "not_in_catalog"},
        {"position": 2, "artist": "", "title": "no artist here", "why": "no_artist"},
    ]
    assert not Playlist.objects.exists()


def test_a_file_over_the_size_limit_is_a_413(listener, monkeypatch):
    monkeypatch.setattr(transfer, "PLAYLIST_IMPORT_MAX_BYTES", 100)
    data = b"#EXTM3U\n" + b"#EXTINF:1,Queen - Bohemian Rhapsody\nx.mp3\n" * 3

    with pytest.raises(ApplicationError) as caught:
        playlist_import(owner=listener, upload=_upload(data, "x.m3u"))

    assert (caught.value.code, caught.value.status) == ("file_too_large", 413)
    assert not Playlist.objects.exists()


# ---- cost ------------------------------------------------------------------------------------


def _m3u_of(tracks: list[Track], *, spotify: bool) -> bytes:
    lines = ["#EXTM3U"]
    for track in tracks:
        lines.append(f"#EXTINF:1,{track.artist_names} - {track.title}")
        lines.append(f"spotify:track:{track.spotify_id}" if spotify else "song.mp3")
    return "\n".join(lines).encode()


@pytest.mark.parametrize("spotify", [True, False], ids=["by-spotify-id", "by-name"])
def test_the_queries_of_an_import_do_not_grow_with_its_entries(listener, spotify):
    tracks = list(Track.objects.with_related().order_by("id")[:500])
    counts, matched = [], []
    for n in (5, 500):
        with CaptureQueriesContext(connection) as queries:
            outcome = playlist_import(
                owner=listener, upload=_upload(_m3u_of(tracks[:n], spotify=spotify), "x.m3u")
            )
        counts.append(len(queries))
        matched.append(outcome.matched)

    print(f"queries of an import of 5 and 500 entries: {counts}")
    assert counts[0] == counts[1] <= 12
    assert matched == [5, 500]  # every catalog track is found, by its id or its name


def test_title_stems_cut_versions_guests_and_remasters():
    assert title_stem("Bohemian Rhapsody - Remastered 2011") == "Bohemian Rhapsody"
    assert title_stem("Get Lucky (feat. Pharrell Williams)") == "Get Lucky"
    assert title_stem("Song feat. Someone") == "Song"
    assert title_stem("(I Can't Get No) Satisfaction") == "(I Can't Get No) Satisfaction"
    assert title_stem("A-ha") == "A-ha"


def test_every_export_format_has_a_kind():
    assert set(KINDS) == set(FORMATS)
