"""The Django side of the offline evaluation: read a listens folder and map it to the catalog.

The folder is the format of ``datasets/listens/mpd_subset`` (``playlists.csv`` and
``playlist_tracks.csv.gz``; each playlist acts as one listener). It is the user's path, read in
place and streamed row by row; nothing of it is copied into the project or written to the
database, and the site's own listeners are never read.

Tracks are matched exactly as listening imports match them (:mod:`history.selectors.matching`):
the Spotify id of the track URI first, then the normalised artist + title key
(:func:`history.listen_formats.matching.listen_key`, the one normaliser). Each distinct
``(uri, artist, title)`` is matched once, however many playlists hold it.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from catalog.models import Track
from history.listen_formats.parsers import spotify_track_id
from history.selectors.matching import CatalogIndex
from recommendations.selectors.catalog import EngineCatalog, engine_catalog

IntArray = npt.NDArray[np.int64]

PLAYLISTS = "playlists.csv"
PLAYLIST_TRACKS = "playlist_tracks.csv.gz"
#: Columns the evaluation reads; other columns are ignored.
PLAYLIST_COLUMNS = ("pid",)
TRACK_COLUMNS = ("pid", "track_uri", "track_name", "artist_name")


class ListensError(ValueError):
    """The folder is not a listens folder the evaluation reads. The message is for people."""


@dataclass(frozen=True)
class Matching:
    """What survived matching. Rows are playlist–track rows of the file; a "pair" is one
    (listener, catalog track) after de-duplication."""

    playlists: int = 0
    rows: int = 0
    rows_by_spotify_id: int = 0
    rows_by_name: int = 0
    rows_unmatched: int = 0
    distinct_tracks: int = 0
    distinct_by_spotify_id: int = 0
    distinct_by_name: int = 0
    listeners_with_a_match: int = 0
    listeners_kept: int = 0
    tracks_kept: int = 0
    pairs_kept: int = 0
    min_tracks: int = 10

    def as_dict(self) -> dict[str, float | int]:
        values: dict[str, float | int] = dict(self.__dict__)
        values["row_match_rate"] = (
            (self.rows_by_spotify_id + self.rows_by_name) / self.rows if self.rows else 0.0
        )
        values["row_match_rate_spotify_id"] = (
            self.rows_by_spotify_id / self.rows if self.rows else 0.0
        )
        values["row_match_rate_name"] = self.rows_by_name / self.rows if self.rows else 0.0
        return values


@dataclass(frozen=True)
class EvaluationListens:
    """The kept listeners' pairs in the engine's track index space of ``catalog`` (all of the
    catalog's tracks): parallel ``listener`` (0 .. listeners - 1) and ``track`` arrays, one per
    distinct pair; ``listener_ids`` the playlist ids of the rows."""

    listener: IntArray
    track: IntArray
    listener_ids: list[str]
    matching: Matching = field(default_factory=Matching)

    @property
    def n_listeners(self) -> int:
        return len(self.listener_ids)


def _open_csv(path: Path, wanted: tuple[str, ...], compressed: bool) -> Iterator[dict[str, str]]:
    if not path.is_file():
        raise ListensError(
            f"{path} is missing: a listens folder holds {PLAYLISTS} and "
            f"{PLAYLIST_TRACKS} (the mpd_subset format)"
        )
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in wanted if name not in (reader.fieldnames or [])]
            if missing:
                raise ListensError(f"{path.name} has no column {', '.join(missing)}")
            yield from reader
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as error:
        raise ListensError(f"{path.name} cannot be read: {error}") from error


def listens_read_folder(
    *, path: Path, on_row: Callable[[int], None] | None = None
) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    """The playlist ids of ``playlists.csv`` and each ``(pid, spotify_id, artist, title)`` row of
    ``playlist_tracks.csv.gz`` whose playlist is listed (streamed; ``on_row(count)`` every
    10,000 rows). Raises :class:`ListensError` for a folder that is not in this format."""
    if not path.is_dir():
        raise ListensError(f"{path} is not a folder")
    playlists = [row["pid"] for row in _open_csv(path / PLAYLISTS, PLAYLIST_COLUMNS, False)]
    known = set(playlists)
    rows: list[tuple[str, str, str, str]] = []
    for count, row in enumerate(_open_csv(path / PLAYLIST_TRACKS, TRACK_COLUMNS, True), 1):
        if row["pid"] in known:
            rows.append(
                (
                    row["pid"],
                    spotify_track_id(row["track_uri"]),
                    row["artist_name"] or "",
                    row["track_name"] or "",
                )
            )
        if on_row is not None and count % 10_000 == 0:
            on_row(count)
    return playlists, rows


def listens_match(
    *,
    path: Path,
    catalog: EngineCatalog,
    min_tracks: int = 10,
    on_row: Callable[[int], None] | None = None,
) -> EvaluationListens:
    """Read the folder at ``path``, match its tracks to ``catalog`` and keep the listeners with
    at least ``min_tracks`` distinct matched tracks (see the module docstring)."""
    playlists, rows = listens_read_folder(path=path, on_row=on_row)
    distinct: dict[tuple[str, str, str], int] = {}
    row_pid = np.empty(len(rows), dtype=np.int64)
    row_key = np.empty(len(rows), dtype=np.int64)
    pid_index = {pid: i for i, pid in enumerate(playlists)}
    for i, (pid, spotify_id, artist, title) in enumerate(rows):
        row_pid[i] = pid_index[pid]
        row_key[i] = distinct.setdefault((spotify_id, artist, title), len(distinct))
    del rows

    index = CatalogIndex.load(spotify_ids=(key[0] for key in distinct))
    key_track = np.full(len(distinct), -1, dtype=np.int64)  # catalog track id
    key_method = np.zeros(len(distinct), dtype=np.int8)  # 1 spotify id, 2 name
    for key, position in distinct.items():
        spotify_id, artist, title = key
        found = index.by_spotify_id.get(spotify_id) if spotify_id else None
        if found is not None:
            key_track[position], key_method[position] = found, 1
            continue
        found = index.match_name(artist=artist, title=title)
        if found is not None:
            key_track[position], key_method[position] = found, 2

    engine_track = np.full(len(distinct), -1, dtype=np.int64)
    matched_keys = key_track >= 0
    engine_track[matched_keys] = catalog.indices(key_track[matched_keys].tolist())
    row_track = engine_track[row_key]
    row_method = np.where(row_track >= 0, key_method[row_key], 0)

    matched = row_track >= 0
    pairs = np.unique(np.stack([row_pid[matched], row_track[matched]], axis=1), axis=0)
    per_listener = (
        np.bincount(pairs[:, 0], minlength=len(playlists))
        if len(pairs)
        else (np.zeros(len(playlists), dtype=np.int64))
    )
    kept_listeners = np.flatnonzero(per_listener >= min_tracks)
    new_index = np.full(len(playlists), -1, dtype=np.int64)
    new_index[kept_listeners] = np.arange(len(kept_listeners))
    kept = pairs[new_index[pairs[:, 0]] >= 0] if len(pairs) else pairs
    listener = new_index[kept[:, 0]].astype(np.int64) if len(kept) else np.zeros(0, np.int64)
    track = kept[:, 1].astype(np.int64) if len(kept) else np.zeros(0, np.int64)
    key_engine_method = np.where(engine_track >= 0, key_method, 0)
    matching = Matching(
        playlists=len(playlists),
        rows=len(row_track),
        rows_by_spotify_id=int((row_method == 1).sum()),
        rows_by_name=int((row_method == 2).sum()),
        rows_unmatched=int((row_method == 0).sum()),
        distinct_tracks=len(distinct),
        distinct_by_spotify_id=int((key_engine_method == 1).sum()),
        distinct_by_name=int((key_engine_method == 2).sum()),
        listeners_with_a_match=int((per_listener > 0).sum()),
        listeners_kept=len(kept_listeners),
        tracks_kept=len(np.unique(track)),
        pairs_kept=len(track),
        min_tracks=min_tracks,
    )
    return EvaluationListens(
        listener=listener,
        track=track,
        listener_ids=[playlists[i] for i in kept_listeners],
        matching=matching,
    )


def evaluation_catalog() -> EngineCatalog:
    """The whole catalog for the evaluation, with every play count 0 (the evaluation counts its
    own training data; the site's listeners are never read)."""
    return engine_catalog(play_counts=np.zeros(Track.objects.count(), dtype=np.int64))
