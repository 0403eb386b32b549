"""Extended M3U: ``#EXTM3U``, ``#PLAYLIST:<name>``, then per track ``#EXTINF:<seconds>,<artist>
- <title>`` (``-1`` seconds when unknown), ``#EXTALB:<album>`` and a location line.

The location is the track's Spotify URL (``https://open.spotify.com/track/<id>``: opens in
Spotify or a browser, and identifies the track exactly when the file comes back), or, for a
track without one, the track's page on this site. A reader takes a Spotify URI or URL on a
location line as the track's Spotify id.

An M3U line cannot hold a line break: a line break (CR, LF, or another character a reader may
split lines at: VT, FF, FS, GS, RS, NEL, U+2028, U+2029) inside a name or a title is written as
one space. Commas, quotes, tabs and ``#`` need nothing: the text follows ``#EXTINF:<seconds>,``
on its line, and no written line starts with the text.

Reading: ``#EXTINF`` text is split at its first " - " into artist and title (no " - ": a title
alone, without an artist); a location without ``#EXTINF`` before it (a plain M3U of files)
gives its file name without the extension, split the same way. Other ``#`` lines are comments.
Encodings: ``.m3u8`` is UTF-8; ``.m3u`` is UTF-8 when it decodes as such, else Windows-1252
(Latin-1 with the printable characters Windows puts in 0x80–0x9F).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from playlists.formats.base import (
    DEFAULT_MAX_ENTRIES,
    M3U,
    ExportTrack,
    FormatError,
    ParsedEntry,
    ParsedPlaylist,
    checked_text,
    no_tracks,
    refuse_binary,
    refuse_control,
    spotify_id_of,
    too_many,
)

CONTENT_TYPE = "audio/x-mpegurl"
EXTENSION = "m3u8"  # UTF-8, what the extension says

_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_LINES = re.compile(r"\r\n|\r|\n")
# "#EXTINF:<duration>[ attributes],<text>": split at the first comma (a pattern that let the
# duration and the attributes share the digits backtracked quadratically: a minute for a
# 200 kB line), the duration read from the start of the part before it, attributes (IPTV
# lists have them) skipped
_DURATION = re.compile(r"\s*(-?\d+(?:\.\d+)?)")


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text)


def write(*, title: str, tracks: Iterable[ExportTrack]) -> bytes:
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(title)}"]
    for track in tracks:
        seconds = -1 if track.duration_ms is None else round(track.duration_ms / 1000)
        text = f"{track.artist} - {track.title}" if track.artists else track.title
        lines.append(f"#EXTINF:{seconds},{_one_line(text)}")
        if track.album:
            lines.append(f"#EXTALB:{_one_line(track.album)}")
        lines.append(_one_line(track.location))
    return ("\n".join(lines) + "\n").encode("utf-8")


def decode(data: bytes, *, utf8_only: bool) -> str:
    """The text of an M3U file: UTF-8 (a BOM dropped), or for ``.m3u`` Windows-1252."""
    refuse_binary(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if utf8_only:
            line = data[: error.start].count(b"\n") + 1
            raise FormatError(
                f"An .m3u8 file must be UTF-8 text; line {line} has a byte that is not "
                f"(0x{data[error.start]:02x})."
            ) from None
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise FormatError(
                "The file is neither UTF-8 nor Latin-1 (Windows-1252) text."
            ) from None
    refuse_control(text)
    return text


def _split(text: str) -> tuple[tuple[str, ...], str]:
    artist, separator, title = text.partition(" - ")
    if not separator:
        return (), text.strip()
    artist = artist.strip()
    return ((artist,) if artist else ()), title.strip()


def _from_location(location: str) -> str:
    """The file name of a location without its folders and extension ("" for a URL)."""
    if "://" in location or location.startswith("spotify:"):
        return ""
    name = re.split(r"[\\/]", unquote(urlsplit(location).path if ":" in location else location))[-1]
    stem, dot, _extension = name.rpartition(".")
    return stem if dot and stem else name


def read(
    data: bytes, *, utf8_only: bool = False, max_entries: int = DEFAULT_MAX_ENTRIES
) -> ParsedPlaylist:
    text = decode(data, utf8_only=utf8_only)
    playlist = ParsedPlaylist(fmt=M3U)
    info: tuple[str, int | None] | None = None  # the pending #EXTINF text and duration
    album = ""
    for number, raw in enumerate(_LINES.split(text), start=1):
        line = raw.strip()
        where = f"Line {number}"
        if not line:
            continue
        if line.startswith("#"):
            upper = line[:10].upper()
            if upper.startswith("#EXTINF:"):
                head, comma, text = line[len("#EXTINF:") :].partition(",")
                if not comma:
                    raise FormatError(f"{where}: #EXTINF needs a duration, a comma and a name.")
                found = _DURATION.match(head)
                seconds = float(found.group(1)) if found else -1.0
                duration = round(seconds * 1000) if 0 <= seconds < 100_000 else None
                info = (text, duration)
            elif upper.startswith("#PLAYLIST:"):
                playlist.title = checked_text(line[10:], what="playlist name", where=where) or None
            elif upper.startswith("#EXTALB:"):
                album = line[8:]
            continue
        if len(playlist.entries) >= max_entries:
            raise too_many(max_entries)
        location = checked_text(line, what="location", where=where)
        if info is not None:
            artists, title = _split(info[0])
            duration = info[1]
        else:
            artists, title = _split(_from_location(location))
            duration = None
        playlist.entries.append(
            ParsedEntry(
                title=checked_text(title, what="title", where=where),
                artists=tuple(checked_text(a, what="artist", where=where) for a in artists),
                album=checked_text(album, what="album", where=where),
                duration_ms=duration,
                spotify_id=spotify_id_of(location),
                identifier=location,
            )
        )
        info, album = None, ""
    if not playlist.entries:
        raise no_tracks()
    return playlist


def looks_like(text_start: str) -> bool:
    return text_start.lstrip("\ufeff \t\r\n").upper().startswith(("#EXTM3U", "#EXTINF"))
