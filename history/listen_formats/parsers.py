"""Reading listening exports: pure Python, no Django.

``detect_format(data)`` names the format from the content (never the file name) and reads the
whole file through, raising ``ExportError`` for anything unknown or corrupt: it runs at upload
time, so a file with a bad row anywhere is refused before anything is stored. ``iter_listens(data,
fmt)`` then yields one entry per row of the file: a ``Listen``, or ``None`` for a row that is not a
listen (see below), which the service counts as skipped.

Memory: nothing is streamed from disk. The upload is held as bytes (bounded by the upload size
limit) and decoded to one string; CSV rows and ``.scrobbler.log`` lines are then parsed one at a
time from that string, while JSON (an array or JSON lines) is decoded whole into Python objects
before its first entry is yielded. A ZIP is read one member at a time: each JSON member is
decompressed, decoded and parsed once per call and dropped before the next member is read.

What is not a listen (``None``)
-------------------------------
* Spotify plays shorter than 30 seconds (``msPlayed`` / ``ms_played`` below 30 000, including 0):
  Spotify itself only counts a stream after 30 s. A play whose duration is missing is kept.
* Listens timed before 2000-01-01 UTC or more than a day after now: a player whose clock was not
  set (Unix time ``2020`` is 1970-01-01 00:33), not a reason to refuse the whole file.
* Podcast episodes and audiobooks, ``.scrobbler.log`` rows rated ``S``, rows without an artist or
  a title.

A row whose time cannot be read at all is corrupt: the whole file is refused.

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

``zip`` — a ZIP archive (as Spotify delivers) holding any of the JSON formats above; other
members (``Userdata.json``, playlists, video history …) are ignored, but a member that is not
valid JSON, or a listening file with a bad entry, makes the archive corrupt. Members must be
stored or deflated (what Spotify, ListenBrainz and every common zip tool write).

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

import csv
import io
import itertools
import json
import math
import re
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

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

# A ZIP's JSON members may unpack to at most this much in all. Each member is decoded whole
# (bytes, then str, then Python objects: up to ~6× the size of its text for tiny entries), one
# member at a time, in the upload request and again in the worker. A ten-year Spotify extended
# history is about 100 MB of JSON (yearly files of 5–15 MB); a larger archive is refused, and its
# JSON files can be uploaded one by one (the listens of overlapping files are stored once).
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
# zipfile bounds what one read of a deflated member inflates to, but not of bzip2/LZMA members,
# which could inflate far past the declared size before being cut: only these two are read.
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
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
_LEADING_SPACE_RE = re.compile(r"\s*")
_UNKNOWN_FORMAT = (
    "Unknown file format. We read Last.fm scrobble CSV, Spotify streaming history "
    "(JSON or the ZIP), ListenBrainz listens (JSON / JSON lines) and .scrobbler.log."
)


class ExportError(ValueError):
    """The file is not a listening export we read, or it is corrupt. The message is for people."""


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


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError("The file is not UTF-8 text, nor a ZIP archive.") from None


def _drain(listens: Iterable[Listen | None]) -> None:
    deque(listens, maxlen=0)


# ------------------------------------------------------------------------------------ entry points
def detect_format(data: bytes) -> str:
    """The format of an export, from its content, after reading every row of it (so a file that
    is corrupt anywhere is refused at upload). Raises ExportError (unknown or corrupt)."""
    if not data or data.isspace():
        raise ExportError("The file is empty.")
    if data[:4] == b"PK\x03\x04":
        _drain(_zip_listens(data))
        return ZIP
    fmt, listens = _text_listens(_decode(data))
    _drain(listens)
    return fmt


def iter_listens(data: bytes, fmt: str) -> Iterator[Listen | None]:
    """Every entry of the export in file order: a Listen, or None for an entry that is not a
    listen (see the module docstring). Raises ExportError when corrupt."""
    if fmt == ZIP:
        return _zip_listens(data)
    if fmt not in FORMAT_LABELS:
        raise ExportError(f"Unknown format {fmt!r}.")
    found, listens = _text_listens(_decode(data))
    if found != fmt:
        raise ExportError(f"The file is not {FORMAT_LABELS[fmt]} but {FORMAT_LABELS[found]}.")
    return listens


def _text_listens(text: str) -> tuple[str, Iterator[Listen | None]]:
    """The format of a text export and its entries (lazily, except that JSON is decoded here)."""
    spaces = _LEADING_SPACE_RE.match(text)  # finds where the text starts, without a copy
    start = spaces.end() if spaces else 0
    if text.startswith("#AUDIOSCROBBLER/", start):
        return SCROBBLER_LOG, _scrobbler_log_listens(text)
    if text.startswith(("[", "{"), start):
        entries = _json_entries(_json_value(text))
        if entries is None:
            raise ExportError("The JSON file holds no list of listens.")
        if not entries:
            raise ExportError("The file holds no listens.")
        kind = _json_kind(entries[0])
        if kind is None:
            raise ExportError(
                "This JSON is not a listening export we read (Spotify streaming history, "
                "Spotify extended history or ListenBrainz listens)."
            )
        return kind, _json_listens(kind, entries)
    return LASTFM_CSV, _lastfm_listens(text)


# ------------------------------------------------------------------------------------ JSON
def _json_value(text: str) -> Any:
    """Decode a JSON document, or JSON lines into a list. Raises ExportError when neither."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ExportError("The JSON is nested too deeply to be a listening export.") from None
    except ValueError as whole_error:  # JSONDecodeError, or an integer of over 4,300 digits
        return _json_lines(text, whole_error)


def _json_lines(text: str, whole_error: ValueError) -> list[Any]:
    items = []
    # io.StringIO splits at "\n" only: str.splitlines() would also split inside a JSON string
    # holding U+2028 or U+0085 unescaped
    for number, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except RecursionError:
            raise ExportError(
                f"Line {number} is JSON nested too deeply to be a listening export."
            ) from None
        except ValueError:
            if items:
                raise ExportError(
                    f"Line {number} is not valid JSON; the file may be truncated."
                ) from None
            if isinstance(whole_error, json.JSONDecodeError):
                where = f"line {whole_error.lineno}: {whole_error.msg}"
            else:
                where = str(whole_error)
            raise ExportError(
                f"The file is not valid JSON ({where}); it may be truncated."
            ) from None
    return items


def _json_entries(document: Any) -> list[Any] | None:
    """The list of entries of a decoded document (an array, one object, or the API's
    ``{"payload": {"listens": [...]}}``); None when it holds no list."""
    if isinstance(document, dict):
        payload = document.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("listens"), list):
            return payload["listens"]
        return [document]
    return document if isinstance(document, list) else None


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


def _json_listens(kind: str, entries: list[Any]) -> Iterator[Listen | None]:
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
def _zip_listens(data: bytes) -> Iterator[Listen | None]:
    """The entries of every listening file in a ZIP, member by member (sorted by name). Each
    member is decompressed, decoded and parsed once, and dropped before the next is read."""
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
    found = False
    for info in members:
        name = info.filename
        text = _zip_member_text(archive, info)
        try:
            entries = _json_entries(_json_value(text))
            del text
        except ExportError as error:
            raise ExportError(f"{name}: {error}") from None
        # no kind: Userdata.json, Playlist1.json …, not listens
        if entries and (kind := _json_kind(entries[0])) is not None:
            found = True
            try:
                yield from _json_listens(kind, entries)
            except ExportError as error:
                raise ExportError(f"{name}: {error}") from None
        del entries
    if not found:
        raise ExportError("The ZIP archive holds no Spotify or ListenBrainz listening files.")


def _zip_member_text(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """One member, decompressed (at most its declared size) and decoded. Raises ExportError."""
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
    try:
        with archive.open(info) as member:
            # Reading a declared size bounds what a deflated member inflates to at once; a
            # member that is longer than it says fails its CRC check.
            raw = member.read(info.file_size)
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
        raise ExportError(f"The ZIP archive is corrupt ({name}: {error}).") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError(f"{name} in the ZIP archive is not UTF-8 text.") from None


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


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number in the file where the row starts, cells) of each non-blank CSV row.

    Comment lines (``+ACM-``, ``#``) and blank lines are skipped only before the first row."""
    lines = io.StringIO(text)  # splits at "\n" only, as editors count lines
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


def _lastfm_listens(text: str) -> Iterator[Listen | None]:
    rows = _csv_rows(text)
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
def _scrobbler_log_listens(text: str) -> Iterator[Listen | None]:
    latest = _latest()
    in_header = True
    for number, line in enumerate(io.StringIO(text), start=1):  # at "\n" only, as editors count
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
