"""Reading listening exports: pure Python, no Django.

``detect_format(data)`` names the format from the content (never the file name) and raises
``ExportError`` for anything unknown or corrupt; ``iter_listens(data, fmt)`` then yields one
``Listen`` per play, streaming where the format allows (CSV and JSON lines row by row; a JSON
array has to be decoded whole, which the upload size limit bounds).

Formats accepted
----------------
``lastfm_csv`` — Last.fm scrobble CSV, UTF-8 (a BOM is fine). Layouts:

* with a header row naming the columns, in any order and case: an artist column (``artist``,
  ``artist name``, ``artist_name``), a track column (``track``, ``title``, ``track name``,
  ``name``), optionally ``album``, and a time column (``uts`` / ``timestamp`` / ``time`` /
  ``date`` / ``utc_time`` / ``played_at``). This covers lastfm.ghan.nl and benjaminbenben's
  exporter (``uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid``) and Libre.fm
  (``Artist,Track,Album,Time``; its UTF-7 ``+ACM-`` comment lines are skipped);
* without a header: ``artist,album,track,date`` — the classic lastfm-to-csv layout, with
  ``date`` as ``31 Jan 2020 12:34``.

  Times may be Unix seconds (or milliseconds), ISO 8601, ``31 Jan 2020 12:34``,
  ``31 Jan 2020, 12:34`` or ``2020-01-31 12:34[:56]``; times without a zone are UTC.

``spotify_short`` — Spotify account data ``StreamingHistory*.json``:
``[{"endTime": "2020-01-05 21:44", "artistName", "trackName", "msPlayed"}, …]`` (UTC).

``spotify_extended`` — Spotify extended streaming history ``Streaming_History_Audio_*.json`` and
the older ``endsong_*.json``: ``ts``, ``ms_played``, ``spotify_track_uri``,
``master_metadata_track_name``, ``master_metadata_album_artist_name`` … Podcast episodes and
audiobooks (no track name) are skipped.

``zip`` — a ZIP archive (as Spotify delivers) holding any of the JSON formats above; other
members (``Userdata.json``, playlists, video history …) are ignored.

``listenbrainz`` — ListenBrainz listens export, a JSON array or JSON lines of
``{"listened_at", "track_metadata": {"artist_name", "track_name", "additional_info":
{"spotify_id", …}}}``; the ``{"payload": {"listens": [...]}}`` API shape is accepted too.

``scrobbler_log`` — Audioscrobbler 1.1 ``.scrobbler.log`` (Rockbox and portable players);
rows rated ``S`` (skipped) are not plays and are skipped.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
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

# A ZIP may unpack to at most this much JSON (a small "zip bomb" must not exhaust a worker).
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
# How many CSV rows detection reads to check the layout (the rest is checked while processing).
_SNIFF_ROWS = 50
_SPOTIFY_ID_RE = re.compile(
    r"(?:spotify:track:|open\.spotify\.com/(?:intl-[a-z]+/)?track/)?"
    r"([0-9A-Za-z]{22})(?:[?#].*)?$"
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
    """A listen time as an aware UTC datetime; raises ValueError when it is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            number = None  # type: ignore[assignment]
        if number is None:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                parsed = None  # type: ignore[assignment]
                for fmt in _TIME_FORMATS:
                    try:
                        parsed = datetime.strptime(text, fmt)
                        break
                    except ValueError:
                        continue
            if parsed is None:
                raise ValueError(f"not a time: {text[:40]!r}")
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if number > 1e11:  # milliseconds
        number /= 1000
    if number <= 0:
        raise ValueError("time is zero or negative")
    return datetime.fromtimestamp(int(number), tz=UTC)


def _ms(value: Any) -> int | None:
    try:
        ms = int(value)
    except (TypeError, ValueError):
        return None
    return ms if ms >= 0 else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError("The file is not UTF-8 text, nor a ZIP archive.") from None


# ------------------------------------------------------------------------------------ detection
def detect_format(data: bytes) -> str:
    """The format of an export, from its content. Raises ExportError (unknown or corrupt)."""
    if not data.strip():
        raise ExportError("The file is empty.")
    if data[:4] == b"PK\x03\x04":
        _zip_members(data)  # raises when it holds nothing we read
        return ZIP
    text = _decode(data)
    return _detect_text(text)


def _detect_text(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith("#AUDIOSCROBBLER/"):
        return SCROBBLER_LOG
    if stripped.startswith(("[", "{")):
        return _detect_json(stripped)
    _lastfm_layout(text)  # raises ExportError when the CSV is not one we read
    return LASTFM_CSV


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


def _json_items(text: str) -> tuple[str, list[Any]]:
    """Decode a JSON array/document or JSON lines into (kind, items)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as whole_error:
        # JSON lines: one object per line
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError:
                raise ExportError(
                    f"The file is not valid JSON (line {whole_error.lineno}: "
                    f"{whole_error.msg}); it may be truncated."
                    if number == 1 or len(items) == 0
                    else f"Line {number} is not valid JSON; the file may be truncated."
                ) from None
        document = items
    if isinstance(document, dict):
        payload = document.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("listens"), list):
            document = payload["listens"]
        else:
            document = [document]
    if not isinstance(document, list):
        raise ExportError("The JSON file holds no list of listens.")
    if not document:
        raise ExportError("The file holds no listens.")
    kind = _json_kind(document[0])
    if kind is None:
        raise ExportError(
            "This JSON is not a listening export we read (Spotify streaming history, "
            "Spotify extended history or ListenBrainz listens)."
        )
    return kind, document


def _detect_json(text: str) -> str:
    kind, _ = _json_items(text)
    return kind


def _zip_members(data: bytes) -> list[tuple[str, str]]:
    """(member name, format) of the listening files in a ZIP archive."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [
            info.filename
            for info in archive.infolist()
            if not info.is_dir()
            and info.filename.lower().endswith((".json", ".jsonl"))
            and "__MACOSX" not in info.filename
        ]
        unpacked = sum(archive.getinfo(name).file_size for name in names)
        if unpacked > MAX_UNZIPPED_BYTES:
            raise ExportError(
                f"The ZIP archive unpacks to more than {MAX_UNZIPPED_BYTES // 2**20} MB of JSON."
            )
        members = []
        for name in sorted(names):
            text = archive.read(name).decode("utf-8-sig", errors="strict")
            if not text.strip():
                continue
            try:
                members.append((name, _detect_json(text.lstrip())))
            except ExportError:
                continue  # Userdata.json, Playlist1.json …: not listens
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, UnicodeDecodeError) as error:
        raise ExportError(f"The ZIP archive is corrupt ({error}).") from None
    if not members:
        raise ExportError("The ZIP archive holds no Spotify or ListenBrainz listening files.")
    return members


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
    lines = (line for line in io.StringIO(text) if not line.startswith(("+ACM-", "#")))
    reader = csv.reader(lines, strict=True)
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as error:
        raise ExportError(f"The CSV is corrupt near line {reader.line_num}: {error}.") from None


def _pick(header: list[str], names: Iterable[str]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _lastfm_layout(text: str) -> _CsvLayout:
    rows = _csv_rows(text)
    first = next(rows, None)
    if first is None:
        raise ExportError("The file holds no listens.")
    _, row = first
    header = [cell.strip().lower() for cell in row]
    artist, track = _pick(header, _ARTIST_COLUMNS), _pick(header, _TRACK_COLUMNS)
    time = _pick(header, _TIME_COLUMNS)
    if artist is not None and track is not None:
        if time is None:
            raise ExportError("The CSV has artist and track columns but no time column.")
        layout = _CsvLayout(True, artist, track, time)
    elif len(row) == 4:
        layout = _CsvLayout(False, 0, 2, 3)
        rows = _csv_rows(text)
    else:
        raise ExportError(
            "Unknown file format. We read Last.fm scrobble CSV, Spotify streaming history "
            "(JSON or the ZIP), ListenBrainz listens (JSON / JSON lines) and .scrobbler.log."
        )
    for count, (line, cells) in enumerate(rows):
        if count >= _SNIFF_ROWS:
            break
        _lastfm_listen(layout, line, cells)
    return layout


def _lastfm_listen(layout: _CsvLayout, line: int, cells: list[str]) -> Listen | None:
    try:
        artist, title, when = cells[layout.artist], cells[layout.track], cells[layout.time]
    except IndexError:
        raise ExportError(f"Line {line} of the CSV has too few columns.") from None
    artist, title = artist.strip(), title.strip()
    if not artist or not title:
        return None
    try:
        occurred_at = parse_time(when)
    except ValueError:
        raise ExportError(f"Line {line} of the CSV has no valid time ({when[:40]!r}).") from None
    return Listen(occurred_at, artist, title, "", None)


def _iter_lastfm(text: str) -> Iterator[Listen | None]:
    layout = _lastfm_layout(text)
    rows = _csv_rows(text)
    if layout.header:
        next(rows, None)
    for line, cells in rows:
        yield _lastfm_listen(layout, line, cells)


# ------------------------------------------------------------------------------------ JSON kinds
def _json_listen(kind: str, item: Any, number: int) -> Listen | None:
    if not isinstance(item, dict):
        raise ExportError(f"Entry {number} of the file is not an object.")
    try:
        if kind == SPOTIFY_SHORT:
            artist, title = _text(item.get("artistName")), _text(item.get("trackName"))
            if not artist or not title:
                return None
            return Listen(parse_time(item["endTime"]), artist, title, "", _ms(item.get("msPlayed")))
        if kind == SPOTIFY_EXTENDED:
            title = _text(item.get("master_metadata_track_name"))
            artist = _text(item.get("master_metadata_album_artist_name"))
            if not artist or not title:
                return None  # podcast episode, audiobook
            return Listen(
                parse_time(item["ts"]),
                artist,
                title,
                spotify_track_id(item.get("spotify_track_uri")),
                _ms(item.get("ms_played")),
            )
        metadata = item.get("track_metadata") or {}
        artist, title = _text(metadata.get("artist_name")), _text(metadata.get("track_name"))
        if not artist or not title:
            return None
        info = metadata.get("additional_info") or {}
        spotify = spotify_track_id(info.get("spotify_id")) if isinstance(info, dict) else ""
        duration = _ms(info.get("duration_ms")) if isinstance(info, dict) else None
        return Listen(parse_time(item["listened_at"]), artist, title, spotify, duration)
    except (KeyError, ValueError, TypeError, OverflowError, OSError) as error:
        raise ExportError(f"Entry {number} of the file has no valid time ({error}).") from None


def _iter_json(text: str) -> Iterator[Listen | None]:
    kind, items = _json_items(text.lstrip())
    for number, item in enumerate(items, start=1):
        if _json_kind(item) != kind:
            raise ExportError(f"Entry {number} of the file is not a {FORMAT_LABELS[kind]} entry.")
        yield _json_listen(kind, item, number)


def _iter_scrobbler_log(text: str) -> Iterator[Listen | None]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 7:
            raise ExportError(f"Line {number} of the .scrobbler.log has too few fields.")
        artist, title, rating, when = cells[0].strip(), cells[2].strip(), cells[5], cells[6]
        if rating.strip().upper() == "S" or not artist or not title:
            yield None
            continue
        try:
            occurred_at = parse_time(when)
        except ValueError:
            raise ExportError(f"Line {number} of the .scrobbler.log has no valid time.") from None
        # LENGTH is the track's length, not how long it was heard: listened_ms stays unknown.
        yield Listen(occurred_at, artist, title, "", None)


def _iter_zip(data: bytes) -> Iterator[Listen | None]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name, _kind in _zip_members(data):
        try:
            yield from _iter_json(archive.read(name).decode("utf-8-sig"))
        except ExportError as error:
            raise ExportError(f"{name}: {error}") from None


def iter_listens(data: bytes, fmt: str) -> Iterator[Listen | None]:
    """Every entry of the export in file order: a Listen, or None for an entry that is not a
    play of a song (podcast, skipped scrobble, blank artist). Raises ExportError when corrupt."""
    if fmt == ZIP:
        return _iter_zip(data)
    text = _decode(data)
    if fmt == LASTFM_CSV:
        return _iter_lastfm(text)
    if fmt in (SPOTIFY_SHORT, SPOTIFY_EXTENDED, LISTENBRAINZ):
        return _iter_json(text)
    if fmt == SCROBBLER_LOG:
        return _iter_scrobbler_log(text)
    raise ExportError(f"Unknown format {fmt!r}.")
