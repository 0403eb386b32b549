"""CSV: our columns, and reading Exportify's (and other tools' with similar headers).

Written (UTF-8 with a byte order mark, so that spreadsheet programs read it as UTF-8; RFC 4180
quoting, so commas, quotes and line breaks in a title need nothing more):
``position,title,artists,album,duration_ms,spotify_uri,url`` — ``artists`` joined with "; "
(Exportify's separator), ``spotify_uri`` as ``spotify:track:<id>``, ``url`` the track's page here.
A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
leading ``'`` so that a spreadsheet shows it as text instead of running it as a formula (CSV
injection); the reader drops that ``'`` again, so such titles round-trip.

Read: a header row naming, in any order and case, a title column (``title``, ``track name``,
``track``, ``name``) and an artist column (``artists``, ``artist``, ``artist name(s)``,
``artist name``, ``creator``); optionally ``album`` / ``album name``, ``duration_ms`` /
``duration (ms)``, ``spotify_uri`` / ``track uri`` / ``spotify_id`` / ``uri``, and ``url`` (the
entry's ``identifier`` when there is no Spotify column value). Artists are
split at ";". Exportify's export (``Track URI,Track Name,Album Name,Artist Name(s),…,Duration
(ms),…``) is read as is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from playlists.formats.base import (
    CSV,
    DEFAULT_MAX_ENTRIES,
    MAX_FIELD_CHARS,
    ExportTrack,
    FormatError,
    ParsedEntry,
    ParsedPlaylist,
    checked_text,
    decode_utf8,
    no_tracks,
    spotify_id_of,
    too_many,
)

CONTENT_TYPE = "text/csv; charset=utf-8"
EXTENSION = "csv"
COLUMNS = ("position", "title", "artists", "album", "duration_ms", "spotify_uri", "url")
ARTIST_SEPARATOR = ";"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HEADERS = {
    "title": ("title", "track name", "track", "name", "track_name", "track title"),
    "artists": ("artists", "artist", "artist name(s)", "artist name", "artist_name", "creator"),
    "album": ("album", "album name", "album_name", "release"),
    "duration_ms": ("duration_ms", "duration (ms)"),
    "url": ("url", "link", "track url"),
    "spotify": ("spotify_uri", "track uri", "spotify_id", "spotify id", "uri", "spotify_track_uri"),
}


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


def write(*, tracks: Iterable[ExportTrack]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for position, track in enumerate(tracks, start=1):
        writer.writerow(
            [
                position,
                _cell(track.title),
                _cell(f"{ARTIST_SEPARATOR} ".join(track.artists)),
                _cell(track.album),
                "" if track.duration_ms is None else track.duration_ms,
                f"spotify:track:{track.spotify_id}" if track.spotify_id else "",
                _cell(track.url),
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def _columns(header: list[str]) -> dict[str, int]:
    names = [name.strip().lower() for name in header]
    found: dict[str, int] = {}
    for key, accepted in _HEADERS.items():
        for name in accepted:
            if name in names:
                found[key] = names.index(name)
                break
    return found


def looks_like(header_line: str) -> bool:
    """Whether a first line is a header this reader knows (a title and an artist column)."""
    try:
        header = next(csv.reader([header_line]))
    except (csv.Error, StopIteration):
        return False
    columns = _columns(header)
    return "title" in columns and "artists" in columns


def read(data: bytes, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> ParsedPlaylist:
    text = decode_utf8(data, what="A CSV file")
    # a cell longer than csv.field_size_limit() (128 kB) is a csv.Error: malformed
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    parsed = ParsedPlaylist(fmt=CSV)
    try:
        header = next(reader, None)
        if header is None:
            raise no_tracks()
        columns = _columns(header)
        missing = [key for key in ("title", "artists") if key not in columns]
        if missing:
            raise FormatError(
                "The CSV's first row must name its columns, among them a title column "
                "(title, track name) and an artist column (artists, artist name(s)); "
                f"it has no {' and no '.join(missing).replace('artists', 'artist')} column."
            )
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = f"Line {reader.line_num}"
            if len(parsed.entries) >= max_entries:
                raise too_many(max_entries)
            parsed.entries.append(_entry(row, columns, where=where))
    except csv.Error as error:
        raise FormatError(f"Line {reader.line_num} of the CSV is malformed ({error}).") from None
    if not parsed.entries:
        raise no_tracks()
    return parsed


def _entry(row: list[str], columns: dict[str, int], *, where: str) -> ParsedEntry:
    def cell(key: str, what: str) -> str:
        index = columns.get(key)
        if index is None or index >= len(row):
            return ""
        raw = row[index]
        if len(raw) > MAX_FIELD_CHARS + 1:
            raise FormatError(f"{where}: the {what} is longer than {MAX_FIELD_CHARS} characters.")
        return checked_text(_uncell(raw.strip()), what=what, where=where)

    title = cell("title", "title")
    if not title:
        raise FormatError(f"{where} has no title.")
    artists = tuple(
        name.strip() for name in cell("artists", "artist").split(ARTIST_SEPARATOR) if name.strip()
    )
    duration = cell("duration_ms", "duration")
    spotify = cell("spotify", "Spotify URI")
    digits = duration.isascii() and duration.isdigit() and len(duration) < 10
    return ParsedEntry(
        title=title,
        artists=artists,
        album=cell("album", "album"),
        duration_ms=int(duration) if digits else None,
        spotify_id=spotify_id_of(spotify, bare=True),
        identifier=spotify or cell("url", "url"),
    )
