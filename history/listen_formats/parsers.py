"""Reading listening exports: pure Python, no Django.

Two entry points, both streaming:

* ``detect_format(data)`` names the format from the content (never the file name) after reading a
  **bounded sample**: the first ``SAMPLE_ENTRIES`` entries of the file (for a ZIP: the structure of
  the archive — member names, declared sizes, compression ratios — and the first entries of each
  JSON member until a listening file is found). It runs in the upload request, so what it reads is
  bounded whatever the file holds; an error in the sample refuses the upload (``ExportError``).
* ``iter_listens(data, fmt)`` yields one entry per row of the whole file — a ``Listen``, or
  ``None`` for a row that is not a listen (see below), which the service counts as skipped — and
  raises ``ExportError`` (saying what is wrong and where) at the first corrupt entry. It runs in
  the worker; an error past the sample fails the import there.

Memory: the upload is held as bytes (bounded by the upload size limit) and never decoded or
decompressed whole. JSON is read with ijson's C backend (yajl) in chunks of ``CHUNK_BYTES``, one
entry built at a time; CSV and ``.scrobbler.log`` lines are decoded chunk by chunk; ZIP members
are inflated as they are read. ``Limits`` bound the rest: at most ``max_entries`` entries per file
and ``max_entry_bytes`` per entry (a JSON entry or a line), so a ``[[],[],…]`` bomb, a 50 MB line
or a deeply nested value is refused after reading a little more than one entry, never built whole.

What is not a listen (``None``)
-------------------------------
* Spotify plays shorter than 30 seconds (``msPlayed`` / ``ms_played`` below 30 000, including 0):
  Spotify itself only counts a stream after 30 s. A play whose duration is missing is kept.
* Listens timed before 2000-01-01 UTC or more than a day after now: a player whose clock was not
  set (Unix time ``2020`` is 1970-01-01 00:33), not a reason to refuse the whole file.
* Podcast episodes and audiobooks, ``.scrobbler.log`` rows rated ``S``, rows without an artist or
  a title.

A row whose time cannot be read at all is corrupt: the whole file is refused (at upload when the
row is in the sample, else the import fails in the worker with the message).

Formats accepted
----------------
``lastfm_csv`` — Last.fm scrobble CSV, UTF-8 (a BOM is fine). Layouts:

* with a header row naming the columns, in any order and case: an artist column (``artist``,
  ``artist name``, ``artist_name``), a track column (``track``, ``title``, ``track name``,
  ``name``), optionally ``album``, and a time column (``uts`` / ``timestamp`` / ``time`` /
  ``date`` / ``utc_time`` / ``played_at``). This covers lastfm.ghan.nl and benjaminbenben's
  exporter (``uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid``) and Libre.fm
  (``Artist,Track,Album,Time``);
* without a header: ``artist,album,track,date`` — the classic lastfm-to-csv layout, with
  ``date`` as ``31 Jan 2020 12:34``.

  Comment lines — Libre.fm's UTF-7 ``+ACM-`` lines and lines starting with ``#`` — are skipped
  only before the first row (header or data): after it, a row whose artist is ``#1 Dads`` is a
  row. Line numbers in messages are the file's own line numbers.

  Times may be Unix seconds (or milliseconds), ISO 8601, ``31 Jan 2020 12:34``,
  ``31 Jan 2020, 12:34`` or ``2020-01-31 12:34[:56]``; times without a zone are UTC.

``spotify_short`` — Spotify account data ``StreamingHistory*.json``:
``[{"endTime": "2020-01-05 21:44", "artistName", "trackName", "msPlayed"}, …]`` (UTC).

``spotify_extended`` — Spotify extended streaming history ``Streaming_History_Audio_*.json`` and
the older ``endsong_*.json``: ``ts``, ``ms_played``, ``spotify_track_uri``,
``master_metadata_track_name``, ``master_metadata_album_artist_name`` …

``zip`` — a ZIP archive (as Spotify and ListenBrainz deliver) holding any of the JSON formats
above; other members (``Userdata.json``, playlists, video history …: JSON whose first entry is not
a listen, or is larger than a listening entry can be) are ignored, but a member that is not valid
JSON, or a listening file with a bad entry, makes the archive corrupt. Members must be stored or
deflated (what Spotify, ListenBrainz and every common zip tool write). An archive is refused from
its directory alone, before anything is inflated, when it has more than ``MAX_ZIP_MEMBERS``
members, its JSON declares more than ``MAX_UNZIPPED_BYTES`` in all, or a large member is
compressed more than ``MAX_ZIP_RATIO`` to 1 (JSON listening data compresses about 10 to 1; a
``[[],[],…]`` bomb about 1000 to 1).

``listenbrainz`` — ListenBrainz listens export, a JSON array or JSON lines of
``{"listened_at", "track_metadata": {"artist_name", "track_name", "additional_info":
{"spotify_id", "duration_ms", …}}}``; the ``{"payload": {"listens": [...]}}`` API shape is accepted
too. ``duration_ms`` is the track's length, not how long it was heard: the listened time stays
unknown (as for ``.scrobbler.log``).

``scrobbler_log`` — Audioscrobbler 1.1 ``.scrobbler.log`` (Rockbox and portable players). Its
times are Unix-style seconds: UTC when the header says ``#TZ/UTC``; with ``#TZ/UNKNOWN`` they are
the device's local clock in a zone the file does not name, and are still read as UTC (so they may
be off by the device's UTC offset). ``#`` header lines are skipped before the first row.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import ijson

LASTFM_CSV = "lastfm_csv"
SPOTIFY_SHORT = "spotify_short"
SPOTIFY_EXTENDED = "spotify_extended"
LISTENBRAINZ = "listenbrainz"
SCROBBLER_LOG = "scrobbler_log"
ZIP = "zip"

FORMAT_LABELS = {
    LASTFM_CSV: "Last.fm scrobbles (CSV)",
    SPOTIFY_SHORT: "Spotify streaming history",
    SPOTIFY_EXTENDED: "Spotify extended streaming history",
    LISTENBRAINZ: "ListenBrainz listens",
    SCROBBLER_LOG: "Audioscrobbler .scrobbler.log",
    ZIP: "ZIP of Spotify / ListenBrainz files",
}

# How many entries the upload request reads (detect_format): enough to tell the format and to
# catch a file that is wrong from its start, few enough that the request costs the same for a
# 1 kB and a 50 MB file. Errors further in fail the import in the worker.
SAMPLE_ENTRIES = 50
# What the parsers read at a time: of the upload, of a ZIP member (inflated), of text to decode.
CHUNK_BYTES = 16 * 1024
# A ZIP's JSON members may declare at most this much in all: what the worker inflates (streamed,
# never whole). A ten-year Spotify extended history is about 100 MB of JSON (yearly files of
# 5–15 MB); a larger archive is refused, and its files can be uploaded one by one (the listens of
# overlapping files are stored once).
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
# Spotify's archives hold a few dozen files, a ListenBrainz export one per month listened.
MAX_ZIP_MEMBERS = 1000
# JSON listening data deflates about 10 to 1; a member over ZIP_RATIO_FROM bytes compressed
# further than this is a decompression bomb, refused from the directory without inflating it.
MAX_ZIP_RATIO = 100
ZIP_RATIO_FROM = 1024 * 1024
# zipfile bounds what one read of a deflated member inflates to, but not of bzip2/LZMA members,
# which could inflate far past the declared size before being cut: only these two are read.
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
# A listening entry nests three or four levels deep (ListenBrainz's track_metadata →
# additional_info → artist_mbids); deeper is not a listen.
MAX_JSON_DEPTH = 16
# Spotify counts a stream once it has played for 30 seconds; shorter plays are not listens.
MIN_SPOTIFY_PLAY_MS = 30_000
# Listens before this, or later than a day from now, are a device clock that was not set.
EARLIEST_LISTEN = datetime(2000, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(days=1)
# No time format we read is longer; longer text is not a time (and is not parsed).
_MAX_TIME_CHARS = 64
_CSV_COMMENTS = ("+ACM-", "#")  # "#" in UTF-7 (Libre.fm's comment lines), and "#"
_SPOTIFY_ID_RE = re.compile(
    r"(?:spotify:track:|open\.spotify\.com/(?:intl-[a-z]+/)?track/)?"
    r"([0-9A-Za-z]{22})(?:[?#].*)?$"
)
_CONTENT_RE = re.compile(rb"\S")  # the first byte that is not ASCII whitespace
_BOM = codecs.BOM_UTF8
_UNKNOWN_FORMAT = (
    "Unknown file format. We read Last.fm scrobble CSV, Spotify streaming history "
    "(JSON or the ZIP), ListenBrainz listens (JSON / JSON lines) and .scrobbler.log."
)
_NOT_LISTENING_JSON = (
    "This JSON is not a listening export we read (Spotify streaming history, "
    "Spotify extended history or ListenBrainz listens)."
)


@dataclass(frozen=True)
class Limits:
    """Caps on one export (the service sets them from ``LISTEN_IMPORT_MAX_ENTRIES`` and
    ``LISTEN_IMPORT_MAX_ENTRY_BYTES``): entries (rows, JSON entries, listens or not) per file,
    and bytes per entry (a JSON entry, a line of text)."""

    max_entries: int = 1_000_000
    max_entry_bytes: int = 64 * 1024


DEFAULT_LIMITS = Limits()


class ExportError(ValueError):
    """The file is not a listening export we read, or it is corrupt. The message is for people."""


class _FirstEntryUnfit(ExportError):
    """The first entry of a JSON file is too large or too deep to be a listen (in a ZIP: the
    member is not a listening file)."""


class _ArchiveError(ExportError):
    """The ZIP archive itself is corrupt (its message names the member)."""


def _unfit(count: int, message: str) -> ExportError:
    """The error for an entry too large or too deep, after ``count`` entries."""
    return _FirstEntryUnfit(message) if count == 0 else ExportError(message)


class Listen(NamedTuple):
    occurred_at: datetime
    artist: str
    title: str
    spotify_id: str  # "" when the export has none
    ms_played: int | None


# ------------------------------------------------------------------------------------ helpers
def spotify_track_id(value: Any) -> str:
    """The 22-character id from an id, a ``spotify:track:`` URI or an open.spotify.com URL."""
    if not isinstance(value, str) or not value:
        return ""
    found = _SPOTIFY_ID_RE.search(value.strip())
    return found.group(1) if found else ""


_TIME_FORMATS = (
    "%d %b %Y %H:%M",
    "%d %b %Y, %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
)


def parse_time(value: Any) -> datetime:
    """A listen time as an aware UTC datetime; raises ValueError (and only ValueError) when it is
    not one, including numbers and dates too large for a datetime (``inf``, ``1e300``)."""
    try:
        return _parse_time(value)
    except (OverflowError, OSError) as error:
        raise ValueError(f"time out of range ({error})") from None


def _parse_time(value: Any) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_TIME_CHARS:
            raise ValueError(f"not a time: {text[:40]!r}…")
        try:
            number = float(text)
        except ValueError:
            return _parse_time_text(text)
    else:
        raise ValueError(f"not a time: {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError(f"not a time: {number}")
    if number > 1e11:  # milliseconds
        number /= 1000
    if number <= 0:
        raise ValueError("time is zero or negative")
    return datetime.fromtimestamp(int(number), tz=UTC)


def _parse_time_text(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"not a time: {text[:40]!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _latest() -> datetime:
    """The latest plausible listen time, for one pass over a file."""
    return datetime.now(UTC) + _FUTURE_SLACK


def _plausible(occurred_at: datetime, latest: datetime) -> bool:
    return EARLIEST_LISTEN <= occurred_at <= latest


def _ms(value: Any) -> int | None:
    try:
        ms = int(value)
    except (TypeError, ValueError, OverflowError):  # None, "abc", inf, nan
        return None
    return ms if ms >= 0 else None


def _text(value: Any) -> str:
    """A name fit to store: stripped, without NUL (PostgreSQL refuses it in text and jsonb) and
    without lone surrogates (JSON ``"\\ud800"``; they cannot be encoded as UTF-8)."""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if "\x00" in value:
        value = value.replace("\x00", "").strip()
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _kb(size: int) -> str:
    return f"{size // 1024} KB" if size >= 1024 else f"{size} bytes"


def _chunks(data: bytes, start: int = 0) -> Iterator[bytes]:
    """``data`` from ``start`` in pieces of ``CHUNK_BYTES`` (copies of one piece at a time)."""
    view = memoryview(data)
    for offset in range(start, len(view), CHUNK_BYTES):
        yield bytes(view[offset : offset + CHUNK_BYTES])


def _counted(listens: Iterator[Listen | None], limits: Limits) -> Iterator[Listen | None]:
    for number, listen in enumerate(listens, start=1):
        if number > limits.max_entries:
            raise ExportError(
                f"The file holds more than {limits.max_entries:,} entries; split it and upload "
                "the parts one by one."
            )
        yield listen


# ------------------------------------------------------------------------------------ entry points
def detect_format(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> str:
    """The format of an export, from its content, after reading a bounded sample of it (the
    first ``SAMPLE_ENTRIES`` entries; for a ZIP its directory and the first entries of its JSON
    members until a listening file is found). Raises ExportError (unknown, or corrupt in the
    sample)."""
    if not data or data.isspace():
        raise ExportError("The file is empty.")
    fmt, listens = _listens(data, limits)
    for _listen in itertools.islice(listens, SAMPLE_ENTRIES):
        pass
    return fmt


def iter_listens(
    data: bytes, fmt: str, *, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Listen | None]:
    """Every entry of the export in file order: a Listen, or None for an entry that is not a
    listen (see the module docstring). Streams; raises ExportError at the first corrupt entry."""
    if fmt not in FORMAT_LABELS:
        raise ExportError(f"Unknown format {fmt!r}.")
    if not data or data.isspace():
        raise ExportError("The file is empty.")
    found, listens = _listens(data, limits)
    if found != fmt:
        raise ExportError(f"The file is not {FORMAT_LABELS[fmt]} but {FORMAT_LABELS[found]}.")
    return listens


def _listens(data: bytes, limits: Limits) -> tuple[str, Iterator[Listen | None]]:
    """The format of an export and its entries (lazily: nothing is read past what is asked)."""
    if data[:4] == b"PK\x03\x04":
        return ZIP, _counted(_zip_listens(data, limits), limits)
    start = len(_BOM) if data[: len(_BOM)] == _BOM else 0
    content = _CONTENT_RE.search(data, start)
    first = content.start() if content else start
    if data.startswith(b"#AUDIOSCROBBLER/", first):
        return SCROBBLER_LOG, _counted(_scrobbler_log_listens(_lines(data, limits)), limits)
    if data[first : first + 1] in (b"[", b"{"):
        values = _json_values(_chunks(data, first), limits)
        try:
            kind, listens = _json_file_listens(values)
        except _FirstEntryUnfit as error:  # only a ZIP's other members may be like that
            raise ExportError(str(error)) from None
        if kind is None:
            raise ExportError(_NOT_LISTENING_JSON)
        return kind, _counted(listens, limits)
    return LASTFM_CSV, _counted(_lastfm_listens(_lines(data, limits)), limits)


# ------------------------------------------------------------------------------------ JSON
# Where the event loop of _json_values stands when it is not inside an entry.
_TOP, _ARRAY, _MAP_START, _WRAPPER, _PAYLOAD, _LISTENS = range(6)
_STARTS = {"start_map": dict, "start_array": list}
_NOTHING = object()
# The reason in a yajl message ("parse error: trailing garbage\n   [1] x\n   (right here) …",
# sometimes as the repr of bytes)
_YAJL_REASON = re.compile(r"(?:parse|lexical) error: (.*?)\.?(?:\\n|\n|'|$)")
_ENDS = frozenset({"end_map", "end_array"})


def _json_values(chunks: Iterator[bytes], limits: Limits) -> Iterator[Any]:
    """The entries of a JSON export, built one at a time from ijson events: the items of a
    top-level array; each top-level value of JSON lines (or of a file of one object); the listens
    of ListenBrainz's ``{"payload": {"listens": [...]}}``.

    Raises ExportError for invalid JSON, an entry larger than ``limits.max_entry_bytes`` (once
    more than that many bytes went by without an entry ending: a ``[[[…`` or a 50 MB string is
    never built) or nested deeper than ``MAX_JSON_DEPTH``. Expects ``chunks`` to start at the
    first byte of content.
    """
    # Pieces of at most ``step`` bytes, so that the size check below is within a piece of the
    # limit however the caller chunks.
    step = min(CHUNK_BYTES, max(limits.max_entry_bytes // 4, 256))
    chunks = (piece[n : n + step] for piece in chunks for n in range(0, len(piece), step))
    pending = next(chunks, b"")
    events = ijson.sendable_list()
    # "[": one array, strictly; "{": JSON lines (one or more values, separated by whitespace)
    lines = pending[:1] != b"["
    parser = ijson.basic_parse_coro(events, use_float=True, multiple_values=lines)
    count = 0  # entries completed
    fed = 0  # bytes given to the parser
    boundary = 0  # bytes fed when the last entry ended (or the list of entries began)
    room = limits.max_entry_bytes + step  # see the size check below
    state = _TOP
    expect = ""  # in the payload wrapper: what the value after the last key is
    skipping = 0  # depth inside a value of the wrapper that is not the list of listens
    stack: list[Any] = []  # containers of the entry being built, outermost first
    keys: list[Any] = []  # the key each map of ``stack`` is waiting to fill
    found_list = False
    final = False
    while not final:
        chunk = pending
        pending = next(chunks, b"") if chunk else b""
        error: Exception | None = None
        try:
            if chunk:
                parser.send(chunk)
                fed += len(chunk)
            else:
                final = True
                parser.close()
        except (ijson.JSONError, ValueError, SystemError) as exc:  # yajl: invalid JSON
            error = exc
        for event, value in events:
            if stack:  # ------------------------------------------------ inside an entry
                if event == "map_key":
                    keys[-1] = value
                    continue
                if event in _ENDS:
                    done = stack.pop()
                    keys.pop()
                    if stack:
                        continue
                    value = done
                else:
                    container = _STARTS.get(event)
                    parent = stack[-1]
                    item = value if container is None else container()
                    if keys[-1] is None:
                        parent.append(item)
                    else:
                        parent[keys[-1]] = item
                    if container is not None:
                        stack.append(item)
                        keys.append(None)
                        if len(stack) > MAX_JSON_DEPTH:
                            raise _unfit(
                                count,
                                f"Entry {count + 1} of the file is nested too deeply to be a "
                                "listening entry.",
                            )
                    continue
            elif skipping:  # ---------------------------- a value of the wrapper we ignore
                if event in _STARTS:
                    skipping += 1
                elif event in _ENDS:
                    skipping -= 1
                continue
            elif state == _MAP_START:  # -------------- a top-level object: wrapper or entry
                if event == "map_key" and value == "payload":
                    state, expect = _WRAPPER, "payload"
                    continue
                if event == "map_key":
                    stack.append({})
                    keys.append(value)
                    continue
                value = {}  # "{}": an empty entry
                state = _TOP
            elif state in (_WRAPPER, _PAYLOAD):  # ---------------- {"payload": {"listens": …
                if event == "map_key":
                    expect = value if value in ("payload", "listens") else ""
                    if state == _PAYLOAD and expect == "payload":
                        expect = ""
                    continue
                if event == "end_map":
                    state = _TOP if state == _WRAPPER else _WRAPPER
                    continue
                wanted = "payload" if state == _WRAPPER else "listens"
                if expect == wanted:
                    if event != ("start_map" if state == _WRAPPER else "start_array"):
                        raise ExportError("The JSON file holds no list of listens.")
                    if state == _WRAPPER:
                        state = _PAYLOAD
                    else:
                        state, found_list, boundary = _LISTENS, True, fed
                elif event in _STARTS:
                    skipping = 1
                continue
            else:  # -------------------------------------- _TOP, _ARRAY or _LISTENS
                if event in _ENDS:  # the end of the list of entries
                    state = _TOP if state == _ARRAY else _PAYLOAD
                    continue
                if state == _TOP and event == "start_array" and not lines:
                    state, found_list, boundary = _ARRAY, True, fed
                    continue
                if state == _TOP and event == "start_map":
                    state = _MAP_START
                    continue
                container = _STARTS.get(event)
                if container is not None:  # an entry begins
                    stack.append(container())
                    keys.append(None)
                    continue
                # else a scalar entry (not an object: refused by the caller)
            # an entry ended: ``value``
            if fed - boundary > room:  # it ended in this piece, but began long before
                raise _unfit(count, _too_large(count, limits))
            count += 1
            boundary = fed
            if state == _MAP_START:
                state = _TOP
            yield value
        del events[:]
        if error is not None:
            if "premature EOF" in str(error):
                raise ExportError(
                    f"The JSON ends inside entry {count + 1}; the file may be truncated."
                ) from None
            found = _YAJL_REASON.search(str(error))
            reason = found.group(1) if found else "unreadable"
            raise ExportError(f"Entry {count + 1} of the file is not valid JSON ({reason}).")
        # No entry ended within the last ``room`` bytes: the one in progress is larger than the
        # limit (give or take the whitespace before it). Nothing more of it is read.
        if fed - boundary > room:
            raise _unfit(count, _too_large(count, limits))
    if count == 0 and not found_list:
        raise ExportError("The JSON file holds no list of listens.")


def _too_large(count: int, limits: Limits) -> str:
    return (
        f"Entry {count + 1} of the file is larger than {_kb(limits.max_entry_bytes)}, more than "
        "a listening entry can be."
    )


def _json_kind(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    if "endTime" in item and "trackName" in item and "artistName" in item:
        return SPOTIFY_SHORT
    if "ts" in item and "ms_played" in item and "master_metadata_track_name" in item:
        return SPOTIFY_EXTENDED
    if "listened_at" in item and isinstance(item.get("track_metadata"), dict):
        return LISTENBRAINZ
    return None


def _json_file_listens(values: Iterator[Any]) -> tuple[str | None, Iterator[Listen | None]]:
    """The kind of a JSON file (from its first entry; None: not listening data) and its
    listens. Reads the first entry now."""
    first = next(values, _NOTHING)
    if first is _NOTHING:
        raise ExportError("The file holds no listens.")
    kind = _json_kind(first)
    if kind is None:
        return None, iter(())
    return kind, _json_listens(kind, itertools.chain([first], values))


def _json_listens(kind: str, entries: Iterable[Any]) -> Iterator[Listen | None]:
    latest = _latest()
    for number, item in enumerate(entries, start=1):
        if _json_kind(item) != kind:
            if not isinstance(item, dict):
                raise ExportError(f"Entry {number} of the file is not an object.")
            raise ExportError(f"Entry {number} of the file is not a {FORMAT_LABELS[kind]} entry.")
        yield _json_listen(kind, item, number, latest)


def _json_listen(kind: str, item: dict[str, Any], number: int, latest: datetime) -> Listen | None:
    spotify_uri: Any = None
    if kind == SPOTIFY_SHORT:
        artist, title = _text(item["artistName"]), _text(item["trackName"])
        when, ms = item["endTime"], _ms(item.get("msPlayed"))
    elif kind == SPOTIFY_EXTENDED:
        # no track name: a podcast episode or an audiobook
        title = _text(item["master_metadata_track_name"])
        artist = _text(item.get("master_metadata_album_artist_name"))
        when, ms = item["ts"], _ms(item["ms_played"])
        spotify_uri = item.get("spotify_track_uri")
    else:
        metadata = item["track_metadata"]  # a dict: _json_kind checked
        artist, title = _text(metadata.get("artist_name")), _text(metadata.get("track_name"))
        info = metadata.get("additional_info")
        info = info if isinstance(info, dict) else {}
        when, spotify_uri = item["listened_at"], info.get("spotify_id")
        ms = None  # its duration_ms is the track's length, not how long it was heard
    if not artist or not title:
        return None
    try:
        occurred_at = parse_time(when)
    except ValueError as error:
        raise ExportError(f"Entry {number} of the file has no valid time ({error}).") from None
    if not _plausible(occurred_at, latest):
        return None
    if kind != LISTENBRAINZ and ms is not None and ms < MIN_SPOTIFY_PLAY_MS:
        return None
    return Listen(occurred_at, artist, title, spotify_track_id(spotify_uri), ms)


# ------------------------------------------------------------------------------------ ZIP
def _zip_members(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive and its JSON members (sorted by name), after the checks that need only its
    directory: member count, declared sizes, compression ratios, encryption and methods."""
    # Counted before zipfile reads the directory: a million tiny members would be a million
    # ZipInfo objects. (A signature inside compressed data only makes the count larger.)
    if data.count(b"PK\x01\x02") > MAX_ZIP_MEMBERS:
        raise ExportError(
            f"The ZIP archive holds more than {MAX_ZIP_MEMBERS} files; upload its listening "
            "files one by one."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = sorted(
            (
                info
                for info in archive.infolist()
                if info.filename.lower().endswith((".json", ".jsonl"))  # not a folder
                and "__MACOSX" not in info.filename
            ),
            key=lambda info: info.filename,
        )
    # RuntimeError covers NotImplementedError ("zip file version 17.2")
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, ValueError) as error:
        raise ExportError(f"The ZIP archive is corrupt ({error}).") from None
    if sum(info.file_size for info in members) > MAX_UNZIPPED_BYTES:
        raise ExportError(
            f"The ZIP archive unpacks to more than {MAX_UNZIPPED_BYTES // 2**20} MB of JSON."
        )
    for info in members:
        name = info.filename
        if info.flag_bits & 0x1:
            raise ExportError(
                f"{name} in the ZIP archive is encrypted (password-protected); upload the archive "
                "without a password."
            )
        if info.compress_type not in _ZIP_METHODS:
            raise ExportError(
                f"{name} in the ZIP archive uses a compression method we do not read (method "
                f"{info.compress_type}); make the ZIP again with standard (deflate) compression."
            )
        if info.file_size > ZIP_RATIO_FROM and info.file_size > MAX_ZIP_RATIO * max(
            info.compress_size, 1
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ExportError(
                f"{name} in the ZIP archive unpacks to {ratio} times its size "
                f"({info.file_size // 2**20} MB): a decompression bomb, not listening data "
                f"(which never compresses more than {MAX_ZIP_RATIO} to 1)."
            )
    return archive, members


def _member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """One member, inflated a chunk at a time (at most its declared size: a member longer than
    it says fails its CRC check). Raises ExportError."""
    name = info.filename
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK_BYTES):
                yield chunk
    # zlib.error: a corrupt deflate stream; NotImplementedError (a RuntimeError): what only the
    # member's local header flags, such as strong encryption or "patched data"
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        ValueError,
    ) as error:
        raise _ArchiveError(f"The ZIP archive is corrupt ({name}: {error}).") from None


def _content_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` from the first byte of content on (after a BOM and whitespace); nothing when
    there is none."""
    start = True
    for chunk in chunks:
        if start:
            if chunk[: len(_BOM)] == _BOM:
                chunk = chunk[len(_BOM) :]
            content = _CONTENT_RE.search(chunk)
            if content is None:
                continue
            chunk, start = chunk[content.start() :], False
        yield chunk


def _zip_listens(data: bytes, limits: Limits) -> Iterator[Listen | None]:
    """The entries of every listening file in a ZIP, member by member (sorted by name), each
    member inflated and parsed as it is read."""
    archive, members = _zip_members(data)
    found = False
    for info in members:
        name = info.filename
        chunks = _content_chunks(_member_chunks(archive, info))
        first = next(chunks, None)
        if first is None:  # an empty file
            continue
        if first[:1] not in (b"[", b"{"):
            raise ExportError(f"{name}: the file is not JSON.")
        values = _json_values(itertools.chain([first], chunks), limits)
        try:
            kind, listens = _json_file_listens(values)
            if kind is None:  # Userdata.json, Playlist1.json …: not listens
                continue
            found = True
            yield from listens
        except _FirstEntryUnfit:
            continue  # too large or deep to be a listen: not a listening file
        except _ArchiveError as error:
            raise ExportError(str(error)) from None
        except ExportError as error:
            raise ExportError(f"{name}: {error}") from None
    if not found:
        raise ExportError("The ZIP archive holds no Spotify or ListenBrainz listening files.")


# ------------------------------------------------------------------------------------ text
def _lines(data: bytes, limits: Limits) -> Iterator[str]:
    """The lines of a UTF-8 text file (a BOM is dropped), split at "\\n" only, as editors count
    them (``str.splitlines`` would also split at U+2028 inside a quoted cell), each kept with its
    line end; decoded a chunk at a time. Raises ExportError for a line that is not UTF-8 or is
    longer than ``limits.max_entry_bytes``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    number = 0  # lines yielded
    for chunk in itertools.chain(_chunks(data), [b""]):
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            line = number + 1 + pending.count("\n") + chunk.count(b"\n", 0, max(error.start, 0))
            raise ExportError(
                f"Line {line} of the file is not UTF-8 text (nor is the file a ZIP archive)."
            ) from None
        if "\n" in text:
            lines = (pending + text).split("\n")
            pending = lines.pop()
            for line in lines:
                number += 1
                if len(line) > limits.max_entry_bytes:
                    raise _line_too_long(number, limits)
                yield line + "\n"
        else:
            pending += text
        if len(pending) > limits.max_entry_bytes:
            raise _line_too_long(number + 1, limits)
    if pending:
        yield pending


def _line_too_long(number: int, limits: Limits) -> ExportError:
    return ExportError(
        f"Line {number} of the file is longer than {_kb(limits.max_entry_bytes)}, more than a "
        "listen can be."
    )


# ------------------------------------------------------------------------------------ Last.fm CSV
_ARTIST_COLUMNS = ("artist", "artist name", "artist_name", "artistname")
_TRACK_COLUMNS = ("track", "title", "track name", "track_name", "trackname", "name", "song")
_ALBUM_COLUMNS = ("album", "album name", "album_name")
_TIME_COLUMNS = ("uts", "timestamp", "time", "date", "utc_time", "played_at", "date #2")


class _CsvLayout(NamedTuple):
    header: bool
    artist: int
    track: int
    time: int


def _csv_rows(lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number in the file where the row starts, cells) of each non-blank CSV row.

    Comment lines (``+ACM-``, ``#``) and blank lines are skipped only before the first row."""
    skipped = 0
    for first in lines:
        if first.startswith(_CSV_COMMENTS) or not first.strip():
            skipped += 1
            continue
        break
    else:
        return
    reader = csv.reader(itertools.chain([first], lines), strict=True)
    read = 0  # lines the reader has consumed: a quoted cell may span several
    try:
        for row in reader:
            start, read = skipped + read + 1, reader.line_num
            if row and any(cell.strip() for cell in row):
                yield start, row
    except csv.Error as error:
        line = skipped + reader.line_num
        raise ExportError(f"The CSV is corrupt near line {line}: {error}.") from None


def _pick(header: list[str], names: Iterable[str]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _lastfm_layout(row: list[str]) -> _CsvLayout:
    """The layout, from the first row: a header naming the columns, or four unnamed columns."""
    header = [cell.strip().lower() for cell in row]
    artist, track = _pick(header, _ARTIST_COLUMNS), _pick(header, _TRACK_COLUMNS)
    time = _pick(header, _TIME_COLUMNS)
    if artist is not None and track is not None:
        if time is None:
            raise ExportError("The CSV has artist and track columns but no time column.")
        return _CsvLayout(True, artist, track, time)
    if len(row) == 4:
        return _CsvLayout(False, 0, 2, 3)
    raise ExportError(_UNKNOWN_FORMAT)


def _lastfm_listens(lines: Iterator[str]) -> Iterator[Listen | None]:
    rows = _csv_rows(lines)
    first = next(rows, None)
    if first is None:
        raise ExportError("The file holds no listens.")
    layout = _lastfm_layout(first[1])
    latest = _latest()
    if not layout.header:
        yield _lastfm_listen(layout, *first, latest)
    for line, cells in rows:
        yield _lastfm_listen(layout, line, cells, latest)


def _lastfm_listen(
    layout: _CsvLayout, line: int, cells: list[str], latest: datetime
) -> Listen | None:
    try:
        artist, title, when = cells[layout.artist], cells[layout.track], cells[layout.time]
    except IndexError:
        raise ExportError(f"Line {line} of the CSV has too few columns.") from None
    artist, title = _text(artist), _text(title)
    if not artist or not title:
        return None
    try:
        occurred_at = parse_time(when)
    except ValueError:
        raise ExportError(f"Line {line} of the CSV has no valid time ({when[:40]!r}).") from None
    if not _plausible(occurred_at, latest):
        return None
    return Listen(occurred_at, artist, title, "", None)


# ------------------------------------------------------------------------------ .scrobbler.log
def _scrobbler_log_listens(lines: Iterator[str]) -> Iterator[Listen | None]:
    latest = _latest()
    in_header = True
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not line.strip() or (in_header and line.startswith("#")):
            continue
        in_header = False
        cells = line.split("\t")
        if len(cells) < 7:
            raise ExportError(f"Line {number} of the .scrobbler.log has too few fields.")
        artist, title, rating, when = _text(cells[0]), _text(cells[2]), cells[5], cells[6]
        if rating.strip().upper() == "S" or not artist or not title:
            yield None
            continue
        try:
            occurred_at = parse_time(when)
        except ValueError:
            raise ExportError(f"Line {number} of the .scrobbler.log has no valid time.") from None
        # LENGTH is the track's length, not how long it was heard: listened_ms stays unknown.
        yield (
            Listen(occurred_at, artist, title, "", None)
            if _plausible(occurred_at, latest)
            else None
        )
