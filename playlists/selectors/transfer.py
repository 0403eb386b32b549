"""Playlists as files (export), and which catalog tracks a file's entries are (import matching).

Export: ``playlist_export`` writes a playlist the caller has already been allowed to read
(``playlist_get``) in one of ``EXPORT_FORMATS``; a constant number of queries whatever its length.

Matching (``playlist_entries_match``) runs in the import request, so it never loads the catalog
(``history.selectors.matching.CatalogIndex`` does, and belongs in a worker). For up to
``PLAYLIST_TRACKS_MAX`` entries it costs two queries:

1. the tracks of the entries' Spotify ids (the unique index on ``spotify_id``);
2. candidates by title: for each distinct title of the file, its *stem* (the title cut before
   " (", " [", " - " or " feat": where versions, guests and remasters are written) is looked up
   as a prefix of ``lower(title)`` (the ``catalog_track_title_lower_idx`` index: one range scan
   per stem, at most ``CANDIDATES_PER_TITLE`` rows each, exact and decorated titles first);
   the same range once more per (stem, artist named in the file) for the tracks credited to
   that artist (case folded; among the first ``CANDIDATES_PER_ARTIST``), so that a common title
   ("Intro", "Home") still finds the artist's track past the first hundred; with each
   candidate's credited artists — and in the same query the tracks of links to a
   track's page here (``/tracks/<id>/``: an export's location for a track without a Spotify
   id, trusted only when that track's artist and title agree with the entry's);
3. no more: the candidates' keys are made in Python with the listening imports' own
   ``history.listen_formats.matching`` (``listen_key``: case, accents, punctuation, "feat." and
   "Remastered" folded), so both importers agree on what matches what.

An entry matches a candidate when one of its keys — all its artists together, then each alone
— is one of the candidate's keys (each credited artist alone, all of them joined with ", " and
with " & "); among several tracks of one key the most popular wins. Titles must agree up to
case and those decorations: a catalog title with an accent the file lacks is not found.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.db import connection
from django.urls import Resolver404, resolve

from catalog.models import ID_MAX, Artist, Track, TrackArtist
from history.listen_formats.matching import listen_key, normalise
from playlists.formats import ExportTrack, ParsedEntry, write_playlist
from playlists.formats.base import FORMATS
from playlists.formats.detect import KINDS
from playlists.models import Playlist
from playlists.selectors.playlists import playlist_entries

#: the formats a playlist is exported in (``?format=``)
EXPORT_FORMATS: tuple[str, ...] = FORMATS
#: catalog tracks read per distinct title stem of an imported file: enough for every version
#: of a common title ("Home", "Intro"), few enough that 500 entries read at most 50,000 rows
CANDIDATES_PER_TITLE = 100
#: … and per (title stem, artist named in the file): the tracks of that title by that artist,
#: among the first this many of the title (a title's range in a 90k catalog: a few hundred at
#: most, for "Intro")
CANDIDATES_PER_ARTIST = 2000

# (?<!\s): a run of spaces is tried from its start only (tried from each of its spaces, a long
# run backtracked quadratically: 40 ms a title, minutes a file)
_STEM_END = re.compile(r"(?<!\s)\s+(?:[\(\[]|[-–—]\s|feat\b|ft\b|featuring\b)", re.IGNORECASE)
# where a credit of several artists written as one text splits ("A, B", "A & B", "A feat. B")
_CREDIT_SPLIT = re.compile(
    r",\s*|(?<!\s)\s+&\s+|(?<!\s)\s+(?:feat|ft|featuring)\b\.?\s*", re.IGNORECASE
)
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_FILE_NAME_MAX = 80


@dataclass(frozen=True)
class Export:
    filename: str  # ASCII-safe, never a path
    content_type: str
    body: bytes
    #: the playlist's own name with the extension, for ``Content-Disposition``'s ``filename*``
    display_name: str = ""

    @property
    def content_disposition(self) -> str:
        """``attachment`` with the ASCII ``filename`` and the real name as ``filename*``
        (UTF-8, RFC 6266; slashes and control characters in it replaced with "-")."""
        shown = _UNSAFE_IN_NAME.sub("-", self.display_name or self.filename)
        return f"attachment; filename=\"{self.filename}\"; filename*=UTF-8''{quote(shown, safe='')}"


def export_file_name(name: str, extension: str) -> str:
    """An ASCII file name from a playlist's name: accents folded, anything but letters,
    digits, dots, dashes and underscores replaced with "-", never starting with a dot (no
    hidden file, no path), never empty."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    safe = _SAFE_NAME.sub("-", folded).strip("-._")[:_FILE_NAME_MAX].strip("-._")
    return f"{safe or 'playlist'}.{extension}"


def playlist_export(*, playlist: Playlist, fmt: str, base_url: str = "") -> Export:
    """The playlist as a file of ``fmt`` (one of ``EXPORT_FORMATS``; ``ValueError`` otherwise:
    the API checks the parameter first). ``base_url`` (``https://host``) makes the tracks'
    page links absolute. The caller has checked that the viewer may read the playlist."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    tracks = [
        ExportTrack(
            title=entry.track.title,
            artists=tuple(artist.name for artist in entry.track.artist_list),
            album=entry.track.album.name if entry.track.album is not None else "",
            duration_ms=entry.track.duration_ms,
            spotify_id=entry.track.spotify_id,
            url=f"{base_url.rstrip('/')}{entry.track.get_absolute_url()}",
        )
        for entry in playlist_entries(playlist=playlist)
    ]
    kind = KINDS[fmt]
    body = write_playlist(
        fmt,
        title=playlist.name,
        tracks=tracks,
        creator=playlist.owner.username,
        annotation=playlist.description,
        date=playlist.updated_at.isoformat(),
        public=playlist.is_public,
    )
    return Export(
        filename=export_file_name(playlist.name, kind.extension),
        content_type=kind.content_type,
        body=body,
        display_name=f"{playlist.name}.{kind.extension}",
    )


# ---- matching an imported file's entries ---------------------------------------------------

NOT_IN_CATALOG = "not_in_catalog"
NO_ARTIST = "no_artist"


@dataclass(frozen=True)
class EntryMatch:
    track_id: int | None
    why: str = ""  # when track_id is None: NOT_IN_CATALOG or NO_ARTIST


def title_stem(title: str) -> str:
    """The part of a title before its decorations (what the catalog lookup is a prefix of)."""
    found = _STEM_END.search(title)
    stem = title[: found.start()] if found and found.start() > 0 else title
    return stem.strip()


def _entry_keys(entry: ParsedEntry) -> list[str]:
    names = [name for name in entry.artists if normalise(name)]
    credits = [", ".join(names), *names] if len(names) > 1 else names
    return list(dict.fromkeys(listen_key(name, entry.title) for name in credits))


def page_track_id(identifier: str) -> int | None:
    """The track id of a link to a track's page on this site (``/tracks/<id>/``, with any
    host: exports carry it for tracks without a Spotify id), else None."""
    if not identifier or len(identifier) > 500:
        return None
    path = urlsplit(identifier).path
    try:
        found = resolve(path)
    except Resolver404:
        return None
    if found.view_name != "catalog:track":
        return None
    track_id = found.kwargs.get("pk")
    return track_id if isinstance(track_id, int) and 1 <= track_id <= ID_MAX else None


@dataclass
class _Candidates:
    """Catalog tracks that may be an entry: each one's keys, and the best track of each key."""

    keys_of: dict[int, set[str]]
    best: dict[str, int]


def _candidates(
    stems: Sequence[str], pairs: Sequence[tuple[str, str]], track_ids: Sequence[int]
) -> _Candidates:
    """The catalog tracks whose lowercased title starts with one of ``stems`` (the first
    ``CANDIDATES_PER_TITLE`` in title order); those credited to the artist of one of the
    ``(stem, artist)`` pairs (among the first ``CANDIDATES_PER_ARTIST`` of the title: a common
    title such as "Intro" has more tracks than the first lookup reads); and the tracks of
    ``track_ids``. With their keys, in one query (see the module docstring)."""
    candidates = _Candidates(keys_of={}, best={})
    if not stems and not track_ids:
        return candidates
    track = Track._meta.db_table
    credit = TrackArtist._meta.db_table
    artist = Artist._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT t.id, t.title, array_agg(a.name ORDER BY c.position, c.id)
              FROM (SELECT found.id
                      FROM unnest(%s::text[]) AS wanted(stem)
                     CROSS JOIN LATERAL (
                           SELECT id FROM {track}
                            WHERE lower(title) >= lower(wanted.stem)
                              AND lower(title) < lower(wanted.stem) || chr(1114111)
                            ORDER BY lower(title)
                            LIMIT %s) AS found
                    UNION
                    SELECT titled.id
                      FROM unnest(%s::text[], %s::text[]) AS pair(stem, artist)
                     CROSS JOIN LATERAL (
                           SELECT id FROM {track}
                            WHERE lower(title) >= lower(pair.stem)
                              AND lower(title) < lower(pair.stem) || chr(1114111)
                            ORDER BY lower(title)
                            LIMIT %s) AS titled
                      JOIN {credit} AS pc ON pc.track_id = titled.id
                      JOIN {artist} AS pa ON pa.id = pc.artist_id
                     WHERE lower(pa.name) = lower(pair.artist)
                    UNION
                    SELECT unnest(%s::bigint[])) AS candidate(id)
              JOIN {track} AS t ON t.id = candidate.id
              JOIN {credit} AS c ON c.track_id = t.id
              JOIN {artist} AS a ON a.id = c.artist_id
             GROUP BY t.id
             ORDER BY t.popularity DESC, t.id
            """,
            [
                list(stems),
                CANDIDATES_PER_TITLE,
                [stem for stem, _ in pairs],
                [name for _, name in pairs],
                CANDIDATES_PER_ARTIST,
                list(track_ids),
            ],
        )
        rows = cursor.fetchall()
    for track_id, title, names in rows:
        credits = [*names, ", ".join(names), " & ".join(names)] if len(names) > 1 else names
        title_key = normalise(title, is_title=True)
        keys = {f"{normalise(name)}\x1f{title_key}" for name in credits}
        candidates.keys_of[track_id] = keys
        for key in keys:
            candidates.best.setdefault(key, track_id)  # rows come most popular first
    return candidates


def playlist_entries_match(*, entries: Sequence[ParsedEntry]) -> list[EntryMatch]:
    """Which catalog track each entry is (see the module docstring): in two queries,
    whatever the number of entries.

    A link to a track's page here (what an export holds for a track without a Spotify id) is
    taken only when that track's artist and title agree with the entry's: a file from another
    site with pages at the same paths names other tracks."""
    spotify_ids = sorted({entry.spotify_id for entry in entries if entry.spotify_id})
    by_spotify = (
        dict(Track.objects.filter(spotify_id__in=spotify_ids).values_list("spotify_id", "id"))
        if spotify_ids
        else {}
    )
    by_name = [entry for entry in entries if entry.spotify_id not in by_spotify and entry.artists]
    pages = [page_track_id(entry.identifier) for entry in by_name]
    stem_of = {id(entry): title_stem(entry.title) for entry in by_name}
    stems = sorted(set(stem_of.values()) - {""})
    pairs = sorted(
        {
            (stem_of[id(entry)], name)
            for entry in by_name
            if stem_of[id(entry)]
            for artist in entry.artists
            for name in (artist, *_CREDIT_SPLIT.split(artist))
            if name.strip()
        }
    )
    candidates = _candidates(stems, pairs, sorted({page for page in pages if page is not None}))
    page_of = {id(entry): page for entry, page in zip(by_name, pages, strict=True)}
    matches = []
    for entry in entries:
        track_id = by_spotify.get(entry.spotify_id) if entry.spotify_id else None
        if track_id is None and entry.artists:
            keys = _entry_keys(entry)
            page = page_of.get(id(entry))
            if page is not None and candidates.keys_of.get(page, set()) & set(keys):
                track_id = page
            else:
                track_id = next((candidates.best[k] for k in keys if k in candidates.best), None)
        if track_id is not None:
            matches.append(EntryMatch(track_id=track_id))
        else:
            matches.append(EntryMatch(None, NOT_IN_CATALOG if entry.artists else NO_ARTIST))
    return matches
