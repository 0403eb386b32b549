"""The listening-export parsers on hostile and edge-case input: pure Python, no database."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta

import ijson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    # (ijson's prefix-tracking parsers use memory quadratic in the depth: the streaming reader
    # works on its basic events and stops at MAX_JSON_DEPTH)
    assert _refusal(data) == "Entry 1 of the file is nested too deeply to be a listening entry."


def test_a_json_integer_too_long_to_read_is_a_corrupt_file():
    data = b'[{"listened_at": ' + b"1" * 5000 + b', "track_metadata": {}}]'
    assert _refusal(data) == "Entry 1 of the file is not valid JSON (integer overflow)."


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
# detect_format (the upload request) reads a sample: the first SAMPLE_ENTRIES entries. A bad
# entry in it refuses the upload; one further in is found by iter_listens (the worker), which
# fails the import with the same message.
def _worker_refusal(data: bytes) -> str:
    """The message iter_listens stops with, for a file detect_format accepts."""
    fmt = detect_format(data)
    with pytest.raises(ExportError) as refused:
        for _listen in iter_listens(data, fmt):
            pass
    assert type(refused.value) is ExportError
    return str(refused.value)


def _bad_csv_at(line: int) -> bytes:
    rows = "".join(
        f"Air,Moon Safari,All I Need,05 Jan 2020 21:{n % 60:02d}\n" for n in range(1, line)
    )
    return (rows + "A,B,C,soon\n").encode()


def test_a_csv_with_a_bad_date_in_the_sample_is_refused_at_detection():
    assert parsers.SAMPLE_ENTRIES == 50
    assert _refusal(_bad_csv_at(50)) == "Line 50 of the CSV has no valid time ('soon')."


def test_a_csv_with_a_bad_date_past_the_sample_is_refused_by_the_full_read():
    assert _worker_refusal(_bad_csv_at(61)) == "Line 61 of the CSV has no valid time ('soon')."


def test_a_json_entry_that_is_not_an_object_is_refused_by_the_full_read():
    entries: list = [_short() for _ in range(499)] + ["oops"]
    assert _worker_refusal(_json(entries)) == "Entry 500 of the file is not an object."
    assert _refusal(_json(entries[-2:])) == "Entry 2 of the file is not an object."


def test_a_json_entry_of_another_kind_is_refused_by_the_full_read():
    entries = [_brainz() for _ in range(99)] + [_short()]
    assert _worker_refusal(_jsonl(entries)) == (
        "Entry 100 of the file is not a ListenBrainz listens entry."
    )


def test_a_zip_member_with_a_bad_entry_is_refused_in_the_sample_or_by_the_full_read():
    first = {"MyData/StreamingHistory0.json": _json([_short()])}
    bad = {"MyData/StreamingHistory1.json": _json([_short(), _short(endTime="soon")])}
    message = (
        "MyData/StreamingHistory1.json: Entry 2 of the file has no valid time (not a time: 'soon')."
    )
    assert _refusal(_zip(first | bad)) == message  # entries 2 and 3 of the archive
    sampled_past = {"MyData/StreamingHistory0.json": _json([_short()] * 60)}
    assert _worker_refusal(_zip(sampled_past | bad)) == message


def test_a_zip_member_that_is_not_valid_json_is_refused_at_detection():
    data = _zip({"MyData/StreamingHistory0.json": _json([_short()])[:-20]})
    assert _refusal(data) == (
        "MyData/StreamingHistory0.json: The JSON ends inside entry 1; the file may be truncated."
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


# ------------------------------------------------------------------------------------ 9. bounds
def _peak_while(work) -> int:
    """Peak bytes Python allocated while ``work()`` ran."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_json_is_read_with_the_c_backend_of_ijson():
    assert ijson.backend == "yajl2_c"


def test_a_bomb_of_empty_arrays_is_refused_at_its_first_entry_without_being_built():
    bomb = b"[" + b"[]," * 3_000_000 + b"[]]"  # 9 MB; json.loads would build 3 million lists

    peak = _peak_while(lambda: _refusal(bomb))

    assert _refusal(bomb) == (
        "This JSON is not a listening export we read (Spotify streaming history, Spotify "
        "extended history or ListenBrainz listens)."
    )
    assert peak < 2 * 2**20


@pytest.mark.parametrize(
    "entry",
    [b'{"a": [' + b"[]," * 400_000 + b"[]]}", b'"' + b"x" * 2_000_000 + b'"'],
    ids=["many-values", "long-string"],
)
def test_an_entry_over_the_size_limit_is_refused_before_it_is_built(entry):
    data = b"[" + entry + b"]"
    limit = parsers.DEFAULT_LIMITS.max_entry_bytes

    peak = _peak_while(lambda: _refusal(data))

    assert _refusal(data) == (
        "Entry 1 of the file is larger than 64 KB, more than a listening entry can be."
    )
    assert limit == 64 * 1024
    assert peak < 8 * 2**20  # about the first 80 kB of the entry, as Python objects


def test_a_later_entry_over_the_size_limit_fails_the_full_read():
    big = _short(trackName="x" * 100_000)
    assert _worker_refusal(_json([_short()] * 60 + [big])) == (
        "Entry 61 of the file is larger than 64 KB, more than a listening entry can be."
    )


def test_the_size_limit_is_a_setting_of_the_caller():
    data = _json([_short(trackName="x" * 5_000)])
    small = parsers.Limits(max_entry_bytes=1_000)

    with pytest.raises(ExportError, match="Entry 1 of the file is larger than 1000 bytes"):
        detect_format(data, limits=small)
    assert detect_format(data) == "spotify_short"


@pytest.mark.parametrize(
    "data",
    [
        _json([_short()] * 4),
        _jsonl([_brainz()] * 4),
        f"artist,track,uts\n{'A,B,1700000000' + chr(10)}{'A,B,1700000001' + chr(10) * 1}"
        "A,B,1700000002\nA,B,1700000003\n".encode(),
        _zip({"a.json": _json([_short()] * 2), "b.json": _json([_short()] * 2)}),
    ],
    ids=["json", "jsonl", "csv", "zip"],
)
def test_a_file_over_the_entry_limit_fails_the_full_read(data):
    fmt = detect_format(data)
    three, four = parsers.Limits(max_entries=3), parsers.Limits(max_entries=4)

    assert len(list(iter_listens(data, fmt, limits=four))) == 4
    with pytest.raises(ExportError) as refused:
        list(iter_listens(data, fmt, limits=three))
    assert str(refused.value) == (
        "The file holds more than 3 entries; split it and upload the parts one by one."
    )


def test_a_csv_line_over_the_size_limit_is_refused():
    data = f"artist,track,uts\nA,{'B' * 70_000},{GOOD_TIME}\n".encode()
    assert _refusal(data) == ("Line 2 of the file is longer than 64 KB, more than a listen can be.")


def test_a_text_file_that_is_not_utf8_names_the_line():
    data = f"artist,track,uts\nA,B,{GOOD_TIME}\nA,\xe9t\xe9,{GOOD_TIME}\n".encode("latin-1")
    assert _refusal(data) == (
        "Line 3 of the file is not UTF-8 text (nor is the file a ZIP archive)."
    )


def _refusal_without_inflating(data: bytes, monkeypatch) -> str:
    def no_open(*args, **kwargs):
        raise AssertionError("a member was inflated")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_open)
    return _refusal(data)


def test_a_zip_bomb_is_refused_from_its_directory_without_inflating(monkeypatch):
    bomb = _zip({"MyData/StreamingHistory0.json": b"[" + b"[]," * 2_000_000 + b"[]]"})
    assert len(bomb) < 20_000

    message = _refusal_without_inflating(bomb, monkeypatch)

    assert message.startswith("MyData/StreamingHistory0.json in the ZIP archive unpacks to ")
    assert "a decompression bomb, not listening data" in message


def test_a_zip_of_too_many_members_is_refused_before_its_directory_is_read(monkeypatch):
    monkeypatch.setattr(parsers, "MAX_ZIP_MEMBERS", 3)
    data = _zip({f"MyData/StreamingHistory{n}.json": _json([_short()]) for n in range(4)})

    assert _refusal_without_inflating(data, monkeypatch) == (
        "The ZIP archive holds more than 3 files; upload its listening files one by one."
    )


def test_zip_members_whose_first_entry_cannot_be_a_listen_are_ignored():
    data = _zip(
        {
            "MyData/Playlist1.json": json.dumps({"playlists": [{"name": "x" * 200_000}]}).encode(),
            "MyData/StreamingHistory0.json": _json([_short()]),
            "MyData/Userdata.json": b'{"username": "x"}',
            "MyData/Deep.json": b"[" * 1_000 + b"]" * 1_000,
            "MyData/Empty.json": b"  \n",
        }
    )
    assert _listens(data) == [
        Listen(datetime(2020, 1, 5, 21, 44, tzinfo=UTC), "A", "B", "", 125_000)
    ]


def test_the_listenbrainz_api_payload_is_streamed_whatever_its_key_order():
    listens = [_brainz(), _brainz(GOOD_TIME + 60)]
    shapes = [
        {"payload": {"count": 2, "listens": listens, "user_id": "x"}},
        {"payload": {"user_id": {"nested": [1, {"a": []}]}, "listens": listens, "count": 2}},
    ]
    for shape in shapes:
        assert len(_listens(json.dumps(shape).encode())) == 2
    assert _refusal(b'{"payload": {"count": 0}}') == "The JSON file holds no list of listens."
    assert _refusal(b'{"payload": 5}') == "The JSON file holds no list of listens."


_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    entries=st.lists(_JSON_VALUES, min_size=1, max_size=8),
    lines=st.booleans(),
    cut=st.integers(min_value=1, max_value=40),
)
def test_the_streaming_reader_builds_what_json_loads_builds(entries, lines, cut):
    # given a JSON array (or JSON lines) cut into pieces of any size
    if lines:
        entries = [
            entry for entry in entries if not (isinstance(entry, dict) and "payload" in entry)
        ]
        text = "\n".join(json.dumps(entry) for entry in entries)
    else:
        text = json.dumps(entries)
    data = text.encode()
    if lines and (not entries or data[:1] == b"["):
        return  # a first line that is an array reads as one array
    pieces = iter([data[n : n + cut] for n in range(0, len(data), cut)])
    # when
    built = list(parsers._json_values(pieces, parsers.DEFAULT_LIMITS))
    # then
    assert built == entries


_SEEDS = [
    _json([_short(), _short(ms=40_000)]),
    _jsonl([_brainz(), _brainz(GOOD_TIME + 1, spotify_id="1eT2CjXwFXNx6oY5ydvzKU")]),
    json.dumps({"payload": {"listens": [_brainz()]}}).encode(),
    f"artist,track,uts\nA,B,{GOOD_TIME}\n".encode(),
    f"#AUDIOSCROBBLER/1.1\nA\tX\tB\t1\t200\tL\t{GOOD_TIME}\t\n".encode(),
    SPOTIFY_ZIP,
]


@settings(max_examples=300, deadline=None)
@given(
    seed=st.sampled_from(_SEEDS),
    cuts=st.lists(
        st.tuples(st.integers(min_value=0, max_value=600), st.binary(max_size=8)), max_size=4
    ),
    tail=st.integers(min_value=0, max_value=700),
)
def test_damaged_files_are_refused_with_an_export_error_only(seed, cuts, tail):
    # given a valid export with bytes replaced and maybe cut short
    data = bytearray(seed)
    for at, replacement in cuts:
        data[at : at + len(replacement)] = replacement
    data = bytes(data[: len(data) - tail] if tail < len(data) else data)
    # when it is read as the request and the worker read it, then only ExportError comes out
    try:
        fmt = detect_format(data)
        for _listen in iter_listens(data, fmt):
            pass
    except ExportError as error:
        assert str(error)
