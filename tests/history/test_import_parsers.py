"""The listening-export parsers on hostile and edge-case input: pure Python, no database."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from history.listen_formats import parsers
from history.listen_formats.parsers import (
    ExportError,
    Listen,
    detect_format,
    iter_listens,
    parse_time,
)

GOOD_TIME = 1_700_000_000  # 2023-11-14 22:13:20 UTC
AT = datetime.fromtimestamp(GOOD_TIME, tz=UTC)


def _short(ms: int = 125_000, **fields: object) -> dict[str, object]:
    entry = {"endTime": "2020-01-05 21:44", "artistName": "A", "trackName": "B", "msPlayed": ms}
    return entry | fields


def _extended(ms: int = 125_000) -> dict[str, object]:
    return {
        "ts": "2023-03-19T18:31:37Z",
        "ms_played": ms,
        "master_metadata_track_name": "B",
        "master_metadata_album_artist_name": "A",
        "spotify_track_uri": "spotify:track:1eT2CjXwFXNx6oY5ydvzKU",
    }


def _brainz(listened_at: object = GOOD_TIME, artist: str = "A", **info: object) -> dict:
    return {
        "listened_at": listened_at,
        "track_metadata": {"artist_name": artist, "track_name": "B", "additional_info": info},
    }


def _json(entries: list) -> bytes:
    return json.dumps(entries).encode()


def _jsonl(entries: list) -> bytes:
    return "\n".join(json.dumps(entry) for entry in entries).encode()


def _listens(data: bytes) -> list[Listen | None]:
    return list(iter_listens(data, detect_format(data)))


def _refusal(data: bytes) -> str:
    """The message detect_format refuses the file with."""
    with pytest.raises(ExportError) as refused:
        detect_format(data)
    assert type(refused.value) is ExportError
    return str(refused.value)


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def _patch_headers(data: bytes, *, local: int, central: int, value: int, fmt: str) -> bytes:
    """Overwrite one field of the (single) member's local header and central directory entry."""
    patched = bytearray(data)
    struct.pack_into(fmt, patched, patched.find(b"PK\x03\x04") + local, value)
    struct.pack_into(fmt, patched, patched.find(b"PK\x01\x02") + central, value)
    return bytes(patched)


SPOTIFY_ZIP = _zip({"MyData/StreamingHistory0.json": _json([_short()])})


# ------------------------------------------------------------------------------------ 1. no 500s
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("inf", "not a time: inf"),
        ("-inf", "not a time: -inf"),
        ("nan", "not a time: nan"),
        (float("inf"), "not a time: inf"),
        ("1e300", "time out of range (timestamp out of range for platform time_t)"),
        (1e300, "time out of range (timestamp out of range for platform time_t)"),
        pytest.param(
            10**400, "time out of range (int too large to convert to float)", id="10**400"
        ),
        ("9999-12-31T23:59:59-14:00", "time out of range (date value out of range)"),
    ],
)
def test_parse_time_refuses_huge_and_infinite_times_with_a_value_error(value, message):
    with pytest.raises(ValueError) as refused:
        parse_time(value)
    assert type(refused.value) is ValueError
    assert str(refused.value) == message


@pytest.mark.parametrize("when", ["1e300", "inf", "9999-12-31T23:59:59-14:00"])
def test_a_csv_time_too_large_for_a_datetime_is_a_corrupt_file(when):
    assert (
        _refusal(f"artist,track,timestamp\nA,B,{when}\n".encode())
        == f"Line 2 of the CSV has no valid time ({when!r})."
    )


@pytest.mark.parametrize("data", [b"[" * 100_000, b'{"a":' * 100_000])
def test_deeply_nested_json_is_a_corrupt_file(data):
    assert _refusal(data) == "The JSON is nested too deeply to be a listening export."


def test_a_json_integer_too_long_to_read_is_a_corrupt_file():
    data = b'[{"listened_at": ' + b"1" * 5000 + b', "track_metadata": {}}]'
    assert _refusal(data) == (
        "The file is not valid JSON (Exceeds the limit (4300 digits) for integer string "
        "conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the "
        "limit); it may be truncated."
    )


def test_a_zip_member_with_a_corrupt_deflate_stream_is_a_corrupt_archive():
    data = bytearray(SPOTIFY_ZIP)
    start = data.find(b"PK\x03\x04") + 30 + len("MyData/StreamingHistory0.json")
    data[start : start + 6] = b"\xff" * 6
    for read in (detect_format, lambda data: list(iter_listens(data, "zip"))):
        with pytest.raises(ExportError) as refused:
            read(bytes(data))
        assert str(refused.value) == (
            "The ZIP archive is corrupt (MyData/StreamingHistory0.json: "
            "Error -3 while decompressing data: invalid block type)."
        )


def test_an_encrypted_zip_member_is_refused_with_a_clear_message():
    data = _patch_headers(SPOTIFY_ZIP, local=6, central=8, value=0x1, fmt="<H")
    for read in (detect_format, lambda data: list(iter_listens(data, "zip"))):
        with pytest.raises(ExportError) as refused:
            read(data)
        assert str(refused.value) == (
            "MyData/StreamingHistory0.json in the ZIP archive is encrypted (password-protected); "
            "upload the archive without a password."
        )


@pytest.mark.parametrize(
    ("data", "method"),
    [
        (_patch_headers(SPOTIFY_ZIP, local=8, central=10, value=99, fmt="<H"), 99),
        (_zip({"MyData/StreamingHistory0.json": b"[]"}, method=zipfile.ZIP_BZIP2), 12),
    ],
    ids=["unknown", "bzip2"],
)
def test_a_zip_member_compressed_with_another_method_is_refused(data, method):
    for read in (detect_format, lambda data: list(iter_listens(data, "zip"))):
        with pytest.raises(ExportError) as refused:
            read(data)
        assert str(refused.value) == (
            "MyData/StreamingHistory0.json in the ZIP archive uses a compression method we do "
            f"not read (method {method}); make the ZIP again with standard (deflate) compression."
        )


def test_a_zip_whose_directory_names_an_unknown_zip_version_is_corrupt():
    # "version needed to extract" of the central directory entry: zipfile raises
    # NotImplementedError for one it does not know
    data = bytearray(SPOTIFY_ZIP)
    data[data.find(b"PK\x01\x02") + 6] = 172  # version 17.2
    assert _refusal(bytes(data)) == "The ZIP archive is corrupt (zip file version 17.2)."


def test_names_with_nul_or_lone_surrogates_are_made_storable():
    data = (
        b'{"listened_at": 1700000000, "track_metadata": '
        b'{"artist_name": "A\\u0000B", "track_name": "T\\ud800"}}'
    )
    assert _listens(data) == [Listen(AT, "AB", "T?", "", None)]


# ------------------------------------------------------------------------------------ 2. whole file
def test_a_csv_with_a_bad_date_past_the_first_rows_is_refused_at_detection():
    rows = "".join(f"Air,Moon Safari,All I Need,05 Jan 2020 21:{n:02d}\n" for n in range(60))
    assert _refusal((rows + "A,B,C,soon\n").encode()) == (
        "Line 61 of the CSV has no valid time ('soon')."
    )


def test_a_json_entry_that_is_not_an_object_is_refused_at_detection():
    entries: list = [_short() for _ in range(499)] + ["oops"]
    assert _refusal(_json(entries)) == "Entry 500 of the file is not an object."


def test_a_json_entry_of_another_kind_is_refused_at_detection():
    entries = [_brainz() for _ in range(99)] + [_short()]
    assert _refusal(_jsonl(entries)) == (
        "Entry 100 of the file is not a ListenBrainz listens entry."
    )


def test_a_zip_member_with_a_bad_entry_is_refused_at_detection():
    data = _zip(
        {
            "MyData/StreamingHistory0.json": _json([_short()]),
            "MyData/StreamingHistory1.json": _json([_short(), _short(endTime="soon")]),
        }
    )
    assert _refusal(data) == (
        "MyData/StreamingHistory1.json: Entry 2 of the file has no valid time (not a time: 'soon')."
    )


def test_a_zip_member_that_is_not_valid_json_is_refused_at_detection():
    data = _zip({"MyData/StreamingHistory0.json": _json([_short()])[:-20]})
    assert _refusal(data) == (
        "MyData/StreamingHistory0.json: The file is not valid JSON (line 1: Expecting property "
        "name enclosed in double quotes); it may be truncated."
    )


def test_each_zip_member_is_decompressed_once_per_call(monkeypatch):
    # given an archive of two listening files and one other JSON file
    data = _zip(
        {
            "MyData/StreamingHistory0.json": _json([_short()]),
            "MyData/StreamingHistory1.json": _json([_short(), _short()]),
            "MyData/Userdata.json": b'{"username": "x"}',
        }
    )
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def counting_open(archive, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(archive, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    # when / then
    assert detect_format(data) == "zip"
    assert sorted(opened) == [
        "MyData/StreamingHistory0.json",
        "MyData/StreamingHistory1.json",
        "MyData/Userdata.json",
    ]
    opened.clear()
    assert len(list(iter_listens(data, "zip"))) == 3
    assert len(opened) == 3


# ------------------------------------------------------------------------------------ 3. ZIP limit
def test_a_zip_declaring_more_than_100_mb_of_json_is_refused_before_reading_it():
    declared = 100 * 2**20 + 1
    data = _patch_headers(SPOTIFY_ZIP, local=22, central=24, value=declared, fmt="<I")
    assert _refusal(data) == "The ZIP archive unpacks to more than 100 MB of JSON."


# ------------------------------------------------------------------------------------ 4. 30 s rule
def test_spotify_plays_shorter_than_30_seconds_are_not_listens():
    short = _listens(_json([_short(ms) for ms in (0, 29_999, 30_000)]))
    extended = _listens(_json([_extended(ms) for ms in (0, 29_999, 30_000)]))

    at = datetime(2020, 1, 5, 21, 44, tzinfo=UTC)
    assert short == [None, None, Listen(at, "A", "B", "", 30_000)]
    at = datetime(2023, 3, 19, 18, 31, 37, tzinfo=UTC)
    assert extended == [None, None, Listen(at, "A", "B", "1eT2CjXwFXNx6oY5ydvzKU", 30_000)]


def test_listenbrainz_duration_is_the_track_length_not_the_time_heard():
    assert _listens(_jsonl([_brainz(duration_ms=1_000)])) == [Listen(AT, "A", "B", "", None)]


# ------------------------------------------------------------------------------------ 5. time range
def test_listens_before_2000_or_over_a_day_ahead_are_skipped_not_refused():
    now = datetime.now(UTC)
    soon, later = int((now + timedelta(hours=12)).timestamp()), (now + timedelta(days=2))
    entries = [
        _brainz(2020),  # 1970-01-01 00:33:40
        _brainz("1999-12-31T23:59:59Z"),
        _brainz("2000-01-01T00:00:00Z"),
        _brainz(soon),
        _brainz(int(later.timestamp())),
    ]
    assert _listens(_jsonl(entries)) == [
        None,
        None,
        Listen(datetime(2000, 1, 1, tzinfo=UTC), "A", "B", "", None),
        Listen(datetime.fromtimestamp(soon, tz=UTC), "A", "B", "", None),
        None,
    ]
    csv = f"artist,track,uts\nA,B,2020\nA,B,{GOOD_TIME}\n".encode()
    assert _listens(csv) == [None, Listen(AT, "A", "B", "", None)]
    log = b"#AUDIOSCROBBLER/1.1\n#TZ/UTC\nA\tX\tB\t1\t200\tL\t2020\t\n"
    assert _listens(log) == [None]


# ------------------------------------------------------------------------------------ 6. # lines
def test_a_row_starting_with_a_hash_after_the_first_row_is_a_listen():
    data = f"Air,Moon Safari,All I Need,{GOOD_TIME}\n#1 Dads,About Face,So Soldier,{GOOD_TIME}\n"
    assert _listens(data.encode()) == [
        Listen(AT, "Air", "All I Need", "", None),
        Listen(AT, "#1 Dads", "So Soldier", "", None),
    ]


def test_leading_comment_lines_are_skipped_and_messages_name_the_real_line():
    data = (
        "+ACM- Data export from Libre.fm,,,\n"
        "# another comment,,,\n"
        "Artist,Track,Album,Time\n"
        f'The Horrors,"New Ice\nAge",Primary Colours,{GOOD_TIME}\n'
        f"#1 Dads,So Soldier,About Face,{GOOD_TIME}\n"
        "Oasis,Wonderwall,Morning Glory,yesterday\n"
    )
    assert _refusal(data.encode()) == "Line 7 of the CSV has no valid time ('yesterday')."
    assert _listens(data.rsplit("Oasis", 1)[0].encode()) == [
        Listen(AT, "The Horrors", "New Ice\nAge", "", None),
        Listen(AT, "#1 Dads", "So Soldier", "", None),
    ]


def test_a_scrobbler_log_row_starting_with_a_hash_after_the_header_is_a_listen():
    data = (
        "#AUDIOSCROBBLER/1.1\n#TZ/UNKNOWN\n#CLIENT/Rockbox\n"
        f"Air\tMoon Safari\tAll I Need\t1\t200\tL\t{GOOD_TIME}\t\n"
        f"#1 Dads\tAbout Face\tSo Soldier\t1\t200\tL\t{GOOD_TIME}\t\n"
    )
    assert _listens(data.encode()) == [
        Listen(AT, "Air", "All I Need", "", None),
        Listen(AT, "#1 Dads", "So Soldier", "", None),
    ]


# ------------------------------------------------------------------------------------ 7, 8: docs
def test_scrobbler_log_times_of_unknown_zone_are_read_as_utc():
    data = f"#AUDIOSCROBBLER/1.1\n#TZ/UNKNOWN\nA\tX\tB\t1\t200\tL\t{GOOD_TIME}\t\n".encode()
    assert _listens(data) == [Listen(AT, "A", "B", "", None)]
    assert "#TZ/UNKNOWN" in (parsers.__doc__ or "")


def test_json_lines_are_split_at_newlines_only():
    # U+2028 is a line break to str.splitlines() but may stand unescaped in a JSON string
    data = json.dumps(_brainz(artist="A\u2028B"), ensure_ascii=False).encode()
    assert _listens(data + b"\n" + data) == [Listen(AT, "A\u2028B", "B", "", None)] * 2
