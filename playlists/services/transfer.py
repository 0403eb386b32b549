"""Importing a playlist file (M3U, JSPF, CSV — ours, ListenBrainz's, Exportify's).

All in the request, and bounded: the upload is at most ``PLAYLIST_IMPORT_MAX_BYTES`` (held in
memory by ``musicrec.uploads``, never on disk; read here in one bounded read), at most
``PLAYLIST_TRACKS_MAX`` entries, matched in three queries (``playlist_entries_match``), and the
playlist made by ``playlist_create`` in one transaction. A bad file is an ``ApplicationError``
400 ``invalid_file`` with the reader's message (what is wrong, where), a file none of whose
tracks the catalog has a 400 ``nothing_matched`` (an empty playlist helps nobody; the body lists
what did not match); either way nothing is stored.

A track named twice in the file is in the playlist once (at its first place), and reported
(``duplicates``). An import records no interaction: like a generator's picks, a file of 500
tracks is not 500 decisions of the listener's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from accounts.models import User
from musicrec.errors import ApplicationError
from playlists.formats import FormatError, ParsedEntry, read_playlist
from playlists.models import NAME_MAX, PLAYLIST_TRACKS_MAX, Origin, Playlist
from playlists.selectors.transfer import playlist_entries_match
from playlists.services.playlists import playlist_create

#: the largest playlist file taken: 500 entries of ListenBrainz's JSPF (with its extensions,
#: ~1 kB a track) fit, as do 500 rows of Exportify's CSV (~250 bytes a row)
PLAYLIST_IMPORT_MAX_BYTES = 1024 * 1024
#: how many of the unmatched entries the playlist keeps in ``origin_parameters`` (the answer to
#: the import lists them all)
UNMATCHED_KEPT = 100
DEFAULT_NAME = "Imported playlist"


@dataclass
class ImportOutcome:
    playlist: Playlist
    matched: int  # entries of the file matched to a catalog track (duplicates included)
    #: the entries not matched: ``{"position", "artist", "title", "why"}`` (position: 1-based
    #: place in the file; why: ``not_in_catalog``, or ``no_artist`` for an entry without one)
    unmatched: list[dict[str, Any]]
    fmt: str
    #: entries naming a track already placed earlier in the file: ``{"position", "artist",
    #: "title", "track_id", "first_position"}``
    duplicates: list[dict[str, Any]] = field(default_factory=list)


def _read_upload(upload: UploadedFile) -> bytes:
    limit = PLAYLIST_IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise _too_large(limit)
    upload.seek(0)
    data: bytes = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    return data


def _too_large(limit: int) -> ApplicationError:
    return ApplicationError(
        f"The file is larger than {limit // 1024} kB; a playlist file of "
        f"{PLAYLIST_TRACKS_MAX} tracks is far smaller.",
        code="file_too_large",
        status=413,
        extra={"max_bytes": limit},
    )


def _described(entry: ParsedEntry, position: int) -> dict[str, Any]:
    return {"position": position, "artist": entry.artist, "title": entry.title}


def _name(*, given: str | None, title: str | None, filename: str) -> str:
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.rpartition(".")[0] or stem
    for candidate in (given, title, stem):
        if candidate and candidate.strip():
            return " ".join(candidate.split())[:NAME_MAX]
    return DEFAULT_NAME


def playlist_import(*, owner: User, upload: UploadedFile, name: str | None = None) -> ImportOutcome:
    """A new private playlist of ``owner``'s from an uploaded file, named ``name``, else the
    file's title, else the file's name. Refusals (nothing stored): ``file_too_large`` 413,
    ``invalid_file`` 400 (the message says what is wrong), ``nothing_matched`` 400 (with
    ``unmatched``), and ``playlist_create``'s (``playlist_limit_reached``, a bad name)."""
    data = _read_upload(upload)
    filename = getattr(upload, "name", "") or ""
    try:
        parsed = read_playlist(data, filename=filename, max_entries=PLAYLIST_TRACKS_MAX)
    except FormatError as error:
        raise ApplicationError(str(error), code="invalid_file") from None
    matches = playlist_entries_match(entries=parsed.entries)
    track_ids: list[int] = []
    first_position: dict[int, int] = {}
    unmatched: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    for position, (entry, match) in enumerate(zip(parsed.entries, matches, strict=True), 1):
        if match.track_id is None:
            unmatched.append({**_described(entry, position), "why": match.why})
        elif match.track_id in first_position:
            duplicates.append(
                {
                    **_described(entry, position),
                    "track_id": match.track_id,
                    "first_position": first_position[match.track_id],
                }
            )
        else:
            first_position[match.track_id] = position
            track_ids.append(match.track_id)
    if not track_ids:
        raise ApplicationError(
            f"None of the {len(parsed.entries)} tracks of the file is in our catalog, so no "
            "playlist was made.",
            code="nothing_matched",
            extra={"unmatched": unmatched},
        )
    matched = len(parsed.entries) - len(unmatched)
    playlist = playlist_create(
        owner=owner,
        name=_name(given=name, title=parsed.title, filename=filename),
        origin=Origin.IMPORT,
        origin_parameters={
            "format": parsed.fmt,
            "file_name": filename[:255],
            "entries": len(parsed.entries),
            "matched": matched,
            "unmatched_count": len(unmatched),
            "duplicates": len(duplicates),
            "unmatched": unmatched[:UNMATCHED_KEPT],
        },
        track_ids=track_ids,
    )
    return ImportOutcome(
        playlist=playlist,
        matched=matched,
        unmatched=unmatched,
        fmt=parsed.fmt,
        duplicates=duplicates,
    )
