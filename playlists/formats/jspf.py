"""JSPF, the JSON form of XSPF, as ListenBrainz writes and reads it.

Written: ``{"playlist": {"title", "creator", "annotation", "date", "extension":
{"https://musicbrainz.org/doc/jspf#playlist": {"public", "creator", "last_modified_at"}},
"track": [{"title", "creator", "album", "duration", "identifier": [...], "info"}]}}``.
``duration`` is in milliseconds (XSPF's unit), ``creator`` the artists joined with ", ",
``identifier`` the Spotify URL when the track has one (ListenBrainz's own tracks carry
``https://musicbrainz.org/recording/<mbid>`` there), ``info`` the track's page on this site.

Read: ``playlist.title`` and each ``playlist.track[]``'s ``title`` (required), ``creator``,
``album``, ``duration`` and ``identifier`` / ``location`` / ``info`` (a string or a list of
strings; the first Spotify one gives the Spotify id, the first of all is the entry's
``identifier``). Unknown keys, extensions included, are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from playlists.formats.base import (
    DEFAULT_MAX_ENTRIES,
    JSPF,
    ExportTrack,
    FormatError,
    ParsedEntry,
    ParsedPlaylist,
    checked_text,
    decode_utf8,
    no_tracks,
    spotify_id_of,
    spotify_url,
    too_many,
)

# JSPF has no registered media type; ListenBrainz serves its JSPF as application/json, and
# every client and browser knows to parse (and pretty-print) that.
CONTENT_TYPE = "application/json"
EXTENSION = "jspf"
PLAYLIST_EXTENSION = "https://musicbrainz.org/doc/jspf#playlist"


def write(
    *,
    title: str,
    tracks: Iterable[ExportTrack],
    creator: str = "",
    annotation: str = "",
    date: str = "",
    public: bool = False,
) -> bytes:
    body: dict[str, Any] = {"title": title, "creator": creator}
    if annotation:
        body["annotation"] = annotation
    if date:
        body["date"] = date
    body["extension"] = {
        PLAYLIST_EXTENSION: {"public": public, "creator": creator, "last_modified_at": date}
    }
    body["track"] = [_track(track) for track in tracks]
    return json.dumps({"playlist": body}, ensure_ascii=False, indent=2).encode("utf-8")


def _track(track: ExportTrack) -> dict[str, Any]:
    item: dict[str, Any] = {"title": track.title, "creator": track.artist}
    if track.album:
        item["album"] = track.album
    if track.duration_ms is not None:
        item["duration"] = track.duration_ms
    item["identifier"] = [spotify_url(track.spotify_id)] if track.spotify_id else []
    if track.url:
        item["info"] = track.url
    return item


def _uris(value: Any, *, what: str, where: str) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise FormatError(f"{where}: the {what} must be a URI or a list of URIs.")
    return [v.strip() for v in values if v.strip()]


def _duration(value: object, *, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 2**31:
        raise FormatError(f"{where}: the duration must be a number of milliseconds.")
    return round(value)


def read(data: bytes, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> ParsedPlaylist:
    text = decode_utf8(data, what="A JSPF file")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError(
            f"The file is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise FormatError(f"The file is not valid JSON ({error}).") from None
    except RecursionError:
        raise FormatError(
            "The file is not a JSPF playlist: its JSON is nested too deeply."
        ) from None
    playlist = document.get("playlist") if isinstance(document, dict) else None
    if not isinstance(playlist, dict):
        raise FormatError('The file is not a JSPF playlist: it has no "playlist" object.')
    tracks = playlist.get("track")
    if tracks is None and isinstance(playlist.get("trackList"), dict):  # XSPF's nesting
        tracks = playlist["trackList"].get("track")
    if tracks is None:
        raise no_tracks()
    if not isinstance(tracks, list):
        raise FormatError('The file is not a JSPF playlist: "playlist.track" must be a list.')
    if len(tracks) > max_entries:
        raise too_many(max_entries)
    parsed = ParsedPlaylist(
        fmt=JSPF,
        title=checked_text(playlist.get("title"), what="title", where="The playlist") or None,
    )
    for number, track in enumerate(tracks, start=1):
        where = f"Track {number}"
        if not isinstance(track, dict):
            raise FormatError(f"{where} is not an object.")
        title = checked_text(track.get("title"), what="title", where=where)
        if not title:
            raise FormatError(f"{where} has no title.")
        creator = checked_text(track.get("creator"), what="creator", where=where)
        uris = [
            *_uris(track.get("identifier"), what="identifier", where=where),
            *_uris(track.get("location"), what="location", where=where),
            *_uris(track.get("info"), what="info", where=where),
        ]
        spotify_ids = [found for found in map(spotify_id_of, uris) if found]
        parsed.entries.append(
            ParsedEntry(
                title=title,
                artists=(creator,) if creator else (),
                album=checked_text(track.get("album"), what="album", where=where),
                duration_ms=_duration(track.get("duration"), where=where),
                spotify_id=spotify_ids[0] if spotify_ids else "",
                identifier=uris[0] if uris else "",
            )
        )
    if not parsed.entries:
        raise no_tracks()
    return parsed


def looks_like(text_start: str) -> bool:
    return text_start.lstrip("\ufeff \t\r\n").startswith("{")
