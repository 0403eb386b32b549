"""The playlist file formats (pure Python): what each writer writes, read back by an independent
reader (the csv and json modules, M3U lines), and each reader's answers to good and bad files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from playlists.formats import (
    FORMATS,
    ExportTrack,
    FormatError,
    csvfile,
    jspf,
    m3u,
    read_playlist,
    write_playlist,
)
from playlists.formats.base import spotify_id_of
from playlists.formats.detect import KINDS, detect_format
from tests.playlists.exportify import exportify_csv, shared_sample

FIXTURES = Path(__file__).parent / "fixtures"

AWKWARD = [
    ExportTrack(
        title='Hello, "World"',
        artists=("Crosby, Stills & Nash", "Young"),
        album="Déjà Vu",
        duration_ms=215_400,
        spotify_id="4uLU6hMCjMI75M1A2tKUQC",
        url="/tracks/1/",
    ),
    ExportTrack(
        title="Line one\nline two", artists=("Ünïcode",), duration_ms=1000, url="/tracks/2/"
    ),
    ExportTrack(title="#1 at the start", artists=("Tab\tband",), url="/tracks/3/"),
    ExportTrack(title="東京フラッシュ", artists=("Vaundy",), album="strobo", url="/tracks/4/"),
    ExportTrack(title="Кино — Группа крови", artists=("Кино",), url="/tracks/5/"),
    ExportTrack(title="=SUM(A1:A9)", artists=("@handle",), album="+44", url="/tracks/6/"),
    ExportTrack(title="Song - Live at Wembley", artists=("Queen",), url="/tracks/7/"),
]


def _m3u_one_line(text: str) -> str:
    return text.replace("\n", " ")


# ---- M3U -------------------------------------------------------------------------------------


def test_m3u_is_extended_m3u_with_one_extinf_and_one_location_per_track():
    body = m3u.write(title="Mix, #2\nsecond line", tracks=AWKWARD).decode("utf-8")
    lines = body.split("\n")

    assert lines[0] == "#EXTM3U"
    assert lines[1] == "#PLAYLIST:Mix, #2 second line"  # a newline cannot be in an M3U line
    extinf = [line for line in lines if line.startswith("#EXTINF:")]
    locations = [line for line in lines if line and not line.startswith("#")]
    assert len(extinf) == len(locations) == len(AWKWARD)
    assert extinf[0] == '#EXTINF:215,Crosby, Stills & Nash, Young - Hello, "World"'
    assert extinf[1] == "#EXTINF:1,Ünïcode - Line one line two"
    assert extinf[2] == "#EXTINF:-1,Tab\tband - #1 at the start"  # unknown duration: -1
    assert locations[0] == "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"
    assert locations[1] == "/tracks/2/"  # no Spotify id: the track's page
    assert "#EXTALB:Déjà Vu" in lines


def test_m3u_round_trips_awkward_titles_with_newlines_as_spaces():
    parsed = m3u.read(m3u.write(title="Mix", tracks=AWKWARD), utf8_only=True)

    assert parsed.title == "Mix"
    assert [e.title for e in parsed.entries] == [_m3u_one_line(t.title) for t in AWKWARD]
    assert [e.artist for e in parsed.entries] == [t.artist for t in AWKWARD]
    assert parsed.entries[0].spotify_id == "4uLU6hMCjMI75M1A2tKUQC"
    assert parsed.entries[0].album == "Déjà Vu"
    assert parsed.entries[0].duration_ms == 215_000  # whole seconds in M3U


def test_m3u_latin1_file_is_read_but_an_m3u8_must_be_utf8():
    text = "#EXTM3U\n#EXTINF:200,Mot\xf6rhead - Ace of Spades\nC:\\Music\\ace.mp3\n"
    data = text.encode("cp1252")

    parsed = read_playlist(data, filename="old.m3u")

    assert parsed.entries[0].artists == ("Motörhead",)
    with pytest.raises(FormatError, match=r"m3u8 file must be UTF-8.*line 2"):
        read_playlist(data, filename="old.m3u8")


def test_plain_m3u_of_files_takes_artist_and_title_from_the_file_names():
    data = (
        b"Music/Queen/Bohemian Rhapsody.mp3\r\n# comment\r\n"
        b"/home/me/Queen - Don't Stop Me Now.flac\r\n"
    )

    parsed = read_playlist(data, filename="list.m3u")

    assert [(e.artists, e.title) for e in parsed.entries] == [
        ((), "Bohemian Rhapsody"),
        (("Queen",), "Don't Stop Me Now"),
    ]


def test_m3u_extinf_with_iptv_attributes_and_spotify_uri_locations():
    data = (
        b'#EXTM3U\n#EXTINF:-1 tvg-id="x",Daft Punk - One More Time\n'
        b"spotify:track:0DiWol3AO6WpXZgp0goxAV\n"
    )

    entry = read_playlist(data).entries[0]

    assert (entry.artists, entry.title) == (("Daft Punk",), "One More Time")
    assert entry.duration_ms is None
    assert entry.spotify_id == "0DiWol3AO6WpXZgp0goxAV"


# ---- JSPF ------------------------------------------------------------------------------------


def _check_jspf_structure(document: object) -> None:
    """The JSPF structure (as ListenBrainz reads it), key by key with its type."""
    assert isinstance(document, dict) and set(document) == {"playlist"}
    playlist = document["playlist"]
    assert isinstance(playlist["title"], str)
    assert isinstance(playlist["creator"], str)
    extension = playlist["extension"]["https://musicbrainz.org/doc/jspf#playlist"]
    assert isinstance(extension["public"], bool)
    assert isinstance(playlist["track"], list)
    for track in playlist["track"]:
        assert isinstance(track["title"], str) and track["title"]
        assert isinstance(track["creator"], str)
        assert isinstance(track.get("album", ""), str)
        assert isinstance(track.get("duration", 0), int) and track.get("duration", 0) >= 0
        assert isinstance(track["identifier"], list)
        assert all(isinstance(uri, str) and "://" in uri for uri in track["identifier"])
        assert set(track) <= {"title", "creator", "album", "duration", "identifier", "info"}


def test_jspf_follows_the_structure_and_keeps_every_title_exactly():
    body = jspf.write(
        title="Mix\n“two”", tracks=AWKWARD, creator="ana", annotation="For, the road", public=True
    )
    document = json.loads(body.decode("utf-8"))

    _check_jspf_structure(document)
    tracks = document["playlist"]["track"]
    assert [t["title"] for t in tracks] == [t.title for t in AWKWARD]
    assert tracks[0]["creator"] == "Crosby, Stills & Nash, Young"
    assert tracks[0]["duration"] == 215_400
    assert tracks[0]["identifier"] == ["https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"]
    assert tracks[1]["identifier"] == [] and tracks[1]["info"] == "/tracks/2/"
    assert document["playlist"]["annotation"] == "For, the road"

    parsed = jspf.read(body)
    assert parsed.title == "Mix\n“two”"
    assert [(e.title, e.artist, e.album) for e in parsed.entries] == [
        (t.title, t.artist, t.album) for t in AWKWARD
    ]


def test_listenbrainz_jspf_is_read():
    parsed = read_playlist((FIXTURES / "listenbrainz_playlist.jspf").read_bytes())

    assert parsed.fmt == "jspf"
    assert parsed.title == "Top Discoveries of 2024 for rob"
    assert [(e.artist, e.title) for e in parsed.entries] == [
        ("Queen", "Bohemian Rhapsody"),
        ("Daft Punk feat. Pharrell Williams", "Get Lucky"),
        ("Sigur Rós", "Hoppípolla"),
    ]
    assert parsed.entries[0].identifier.startswith("https://musicbrainz.org/recording/")
    assert parsed.entries[0].spotify_id == ""
    assert parsed.entries[0].duration_ms == 354_000


# ---- CSV -------------------------------------------------------------------------------------


def test_csv_is_read_back_by_the_csv_module_with_every_field_intact():
    body = csvfile.write(tracks=AWKWARD)

    assert body.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets read it as UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(csvfile.COLUMNS)
    assert len(rows) == len(AWKWARD) + 1
    assert rows[1] == [
        "1",
        'Hello, "World"',
        "Crosby, Stills & Nash; Young",
        "Déjà Vu",
        "215400",
        "spotify:track:4uLU6hMCjMI75M1A2tKUQC",
        "/tracks/1/",
    ]
    assert rows[2][1] == "Line one\nline two"
    assert rows[6][1:4] == ["'=SUM(A1:A9)", "'@handle", "'+44"]  # never a formula


def test_csv_round_trips_awkward_titles_and_formula_like_text():
    parsed = csvfile.read(csvfile.write(tracks=AWKWARD))

    assert [(e.title, e.artists, e.album) for e in parsed.entries] == [
        (t.title, t.artists, t.album) for t in AWKWARD
    ]
    assert parsed.entries[0].spotify_id == "4uLU6hMCjMI75M1A2tKUQC"
    assert parsed.entries[0].duration_ms == 215_400


def test_exportify_csv_is_read_with_its_columns():
    data = exportify_csv(
        [
            ("34m26K64fX2OtUVov3z1Ej", "Everywhere I Go", "Everywhere I Go", ["Tay-K"], 87_120),
            ("", 'Say "Hi", Again', "Part 3", ["42 Dugg", "EST Gee"], 155_557),
            ("7pneXkALm3yPh5juOMlsbC", "Déjà vu — 日本語", "", ["Ünïcode"], 1),
        ]
    )

    parsed = read_playlist(data, filename="Liked_Songs.csv")

    assert parsed.fmt == "csv" and len(parsed.entries) == 3
    second = parsed.entries[1]
    assert second.title == 'Say "Hi", Again'
    assert second.artists == ("42 Dugg", "EST Gee")
    assert second.album == "Part 3"
    assert second.duration_ms == 155_557
    assert not second.spotify_id
    assert parsed.entries[0].spotify_id == "34m26K64fX2OtUVov3z1Ej"
    assert parsed.entries[2].title == "Déjà vu — 日本語"


def test_the_real_exportify_sample_is_read_with_its_columns():
    lines = shared_sample().read_bytes().split(b"\n")

    parsed = read_playlist(b"\n".join(lines[:301]), filename="Liked_Songs.csv")

    assert parsed.fmt == "csv" and len(parsed.entries) == 300
    fourth = parsed.entries[3]
    assert fourth.title == "No Fakin (with EST Gee)"
    assert fourth.artists == ("42 Dugg", "EST Gee")
    assert fourth.spotify_id == "7pneXkALm3yPh5juOMlsbC"


def test_an_exportify_file_longer_than_a_playlist_is_refused():
    rows = [(f"{i:022d}", f"Song {i}", "Album", ["Someone"], 1000) for i in range(501)]

    with pytest.raises(FormatError, match="more than 500 tracks"):
        read_playlist(exportify_csv(rows), filename="Liked_Songs.csv")


# ---- every format ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_is_detected_from_its_own_export_whatever_the_file_name(fmt):
    body = write_playlist(fmt, title="x", tracks=AWKWARD[:2])

    assert detect_format(body, filename=f"x.{KINDS[fmt].extension}") == fmt
    assert read_playlist(body, filename="upload").fmt == fmt
    assert len(read_playlist(body, filename="upload").entries) == 2


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.m3u", "empty"),
        (b"   \n", "a.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "cover.png", "not a text file"),
        (b"PK\x03\x04\x14\x00\x00\x00", "a.jspf", "not a text file"),
        (bytes(range(1, 32)) * 4, "a.m3u", "control character"),
        (b"just some words\nand more", "notes", "not a playlist file"),
        (b'{"playlist": {"title": "x", "track": [', "a.jspf", "not valid JSON"),
        (b'{"title": "x"}', "a.jspf", 'no "playlist" object'),
        (b'[{"title": "x"}]', "a.json", 'no "playlist" object'),
        (b'{"playlist": {"title": "x", "track": {"title": "y"}}}', "a.jspf", "must be a list"),
        (b'{"playlist": {"title": "x", "track": []}}', "a.jspf", "no tracks"),
        (b'{"playlist": {"title": "x"}}', "a.jspf", "no tracks"),
        (b'{"playlist": {"track": ["y"]}}', "a.jspf", "Track 1 is not an object"),
        (b'{"playlist": {"track": [{"creator": "y"}]}}', "a.jspf", "Track 1 has no title"),
        (b'{"playlist": {"track": [{"title": 5}]}}', "a.jspf", "title must be text"),
        (b'{"playlist": {"track": [{"title": "a", "duration": "5"}]}}', "a.jspf", "milliseconds"),
        (b'{"playlist": {"track": [{"title": "a", "identifier": [1]}]}}', "a.jspf", "URI"),
        (b"[" * 100_000 + b"]" * 100_000, "a.json", "nested too deeply"),
        (
            b'{"playlist": {"track": [{"title": "a", "duration": ' + b"9" * 5000 + b"}]}}",
            "a.jspf",
            "not valid JSON",
        ),
        (b"title,artist\n" + b"x" * 200_000 + b",y\n", "a.csv", "malformed"),
        (b'{"playlist": {"track": [{"title": "\xff"}]}}', "a.jspf", "UTF-8"),
        (b"title,artist\n\xe9t\xe9,x\n", "a.csv", "must be UTF-8 text; line 2"),
        (b"name;singer\nx;y\n", "a.csv", "no title"),
        (b"title,album\nx,y\n", "a.csv", "no artist column"),
        (b"title,artist\n", "a.csv", "no tracks"),
        (b"title,artist\n,Queen\n", "a.csv", "Line 2 has no title"),
        (b'title,artist\n"unclosed,x\n', "a.csv", "malformed"),
        (b"#EXTM3U\n#EXTINF:abc\nx.mp3\n", "a.m3u", "Line 2"),
        (b"#EXTM3U\n# only comments\n", "a.m3u", "no tracks"),
        (b"\x81\x8d\x8f\x90", "a.m3u", "neither UTF-8 nor Latin-1"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(data, filename, message):
    with pytest.raises(FormatError, match=message):
        read_playlist(data, filename=filename)


@pytest.mark.parametrize("fmt", FORMATS)
def test_more_entries_than_a_playlist_holds_is_refused(fmt):
    tracks = [ExportTrack(title=f"t{i}", artists=("a",), url=f"/t/{i}/") for i in range(11)]

    with pytest.raises(FormatError, match="more than 10 tracks"):
        read_playlist(write_playlist(fmt, title="x", tracks=tracks), max_entries=10)
    ten = read_playlist(write_playlist(fmt, title="x", tracks=tracks[:10]), max_entries=10)
    assert len(ten.entries) == 10


def test_a_field_longer_than_any_catalog_text_is_refused():
    data = ("title,artist\n" + "x" * 1001 + ",y\n").encode()

    with pytest.raises(FormatError, match="Line 2: the title is longer than 1000"):
        read_playlist(data, filename="a.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("spotify:track:4uLU6hMCjMI75M1A2tKUQC", "4uLU6hMCjMI75M1A2tKUQC"),
        ("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=abc", "4uLU6hMCjMI75M1A2tKUQC"),
        ("https://open.spotify.com/intl-de/track/4uLU6hMCjMI75M1A2tKUQC", "4uLU6hMCjMI75M1A2tKUQC"),
        ("https://open.spotify.com/album/4uLU6hMCjMI75M1A2tKUQC", ""),
        ("https://musicbrainz.org/recording/b1a9c0e9-d987-4042-ae91-78d6a3267d69", ""),
        ("4uLU6hMCjMI75M1A2tKUQC", ""),  # a bare id only where a column says it is one
    ],
)
def test_spotify_ids_are_found_in_uris_and_urls(text, expected):
    assert spotify_id_of(text) == expected
