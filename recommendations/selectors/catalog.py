"""The catalog as the engine reads it: per-track arrays in the engine's index spaces.

Engine track ``i`` is catalog track ``track_ids[i]`` (ascending ids), artist ``a`` is
``artist_ids[a]``, genre ``g`` is ``genre_ids[g]``, album ``b`` is ``album_ids[b]``. The arrays
are read with a handful of flat queries straight into numpy (no model instances: 100k tracks
cost about 30 MB and well under a second), by the training task, the web processes (once per
catalog change) and the offline evaluation alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from django.db import connection, transaction

from catalog.models import Artist, Genre
from recommendations.engine.content import catalog_content_vectors, feature_statistics
from recommendations.engine.data import AUDIO_FEATURES, Catalog
from recommendations.engine.training import Memberships

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class EngineCatalog:
    """The engine's :class:`Catalog` with the id maps and the metadata memberships (artist:
    every credited artist; album; genre) that training stacks under the listeners."""

    track_ids: IntArray
    artist_ids: IntArray
    genre_ids: IntArray
    album_ids: IntArray
    catalog: Catalog
    #: the catalog's own popularity of each track (Spotify's 0–100): the prior of trending
    #: before the site has plays of its own
    popularity: npt.NDArray[np.float64]
    #: each genre's slug (indexed like ``genre_ids``): what a stored content vector hashes
    genre_slugs: list[str]
    memberships: dict[str, Memberships] = field(repr=False)

    @property
    def n_tracks(self) -> int:
        return len(self.track_ids)

    def indices(self, track_ids: Iterable[int]) -> IntArray:
        """Engine indices of catalog ids, -1 for an id not in the catalog."""
        return _positions(self.track_ids, np.fromiter(track_ids, dtype=np.int64))

    def content_vectors(self) -> npt.NDArray[np.float32]:
        """Every track's content vector exactly as it is stored in pgvector (standardised
        audio features beside the fixed-width genre block; ``engine.content``), computed
        from these arrays: what the content predictor scores with, on the site and in the
        offline evaluation alike. float32, as pgvector stores them."""
        features = self.catalog.features
        return catalog_content_vectors(
            features, self.catalog.genres, self.genre_slugs, feature_statistics(features)
        )

    def genre_indices(self, genre_ids: Iterable[int]) -> IntArray:
        found = _positions(self.genre_ids, np.fromiter(genre_ids, dtype=np.int64))
        return found[found >= 0]

    def artist_indices(self, artist_ids: Iterable[int]) -> IntArray:
        found = _positions(self.artist_ids, np.fromiter(artist_ids, dtype=np.int64))
        return found[found >= 0]


def _positions(sorted_ids: IntArray, wanted: IntArray) -> IntArray:
    if not len(sorted_ids) or not len(wanted):
        return np.full(len(wanted), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_ids, wanted), len(sorted_ids) - 1)
    return np.where(sorted_ids[at] == wanted, at, -1).astype(np.int64)


def _rows(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


#: Rows converted to numpy at a time by :func:`_array`.
BATCH_ROWS = 10_000


def _array(sql: str, width: int) -> npt.NDArray[np.float64]:
    """The rows of ``sql`` (``width`` numeric columns, NULL → NaN) as one float64 array, read
    through a server-side cursor ``BATCH_ROWS`` at a time: only one batch of Python tuples
    exists at once, not the whole catalog's (which would also leave the process's heap that
    much larger for good)."""
    blocks = []
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(BATCH_ROWS):
            blocks.append(np.array(rows, dtype=np.float64).reshape(-1, width))
    return np.vstack(blocks) if blocks else np.zeros((0, width))


def engine_catalog(*, play_counts: npt.ArrayLike | None = None) -> EngineCatalog:
    """The whole catalog for the engine.

    ``play_counts`` (one per track in id order) overrides the listeners who played or liked
    each track (the evaluation counts its own training data); by default they are counted from
    the interaction log and the histories."""
    columns = ", ".join(AUDIO_FEATURES)
    tracks = _array(
        f"SELECT id, album_id, popularity, {columns} FROM catalog_track ORDER BY id",
        3 + len(AUDIO_FEATURES),
    )
    n = len(tracks)
    track_ids = tracks[:, 0].astype(np.int64)
    popularity = np.nan_to_num(tracks[:, 2], nan=0.0)
    features = np.ascontiguousarray(tracks[:, 3:])
    album_raw = np.nan_to_num(tracks[:, 1], nan=-1).astype(np.int64)
    del tracks

    credits = _array("SELECT track_id, artist_id, position FROM catalog_trackartist", 3).astype(
        np.int64
    )
    artist_ids = np.unique(credits[:, 1])
    credit_track = _positions(track_ids, credits[:, 0])
    credit_artist = np.searchsorted(artist_ids, credits[:, 1]).astype(np.int64)
    # the first credited artist (lowest position, then lowest id) speaks for the track
    first = np.full(n, -1, dtype=np.int64)
    order = np.lexsort((credits[:, 1], credits[:, 2], credit_track))
    credited, at = np.unique(credit_track[order], return_index=True)
    first[credited[credited >= 0]] = credit_artist[order][at[credited >= 0]]

    pairs = _array("SELECT track_id, genre_id FROM catalog_track_genres", 2).astype(np.int64)
    genre_ids = np.array(
        [row[0] for row in _rows("SELECT id FROM catalog_genre ORDER BY id")], dtype=np.int64
    )
    genre_track = _positions(track_ids, pairs[:, 0])
    genre_column = _positions(genre_ids, pairs[:, 1])
    keep = (genre_track >= 0) & (genre_column >= 0)
    genres = sp.csr_matrix(
        (np.ones(int(keep.sum())), (genre_track[keep], genre_column[keep])),
        shape=(n, len(genre_ids)),
    )

    album_ids = np.unique(album_raw[album_raw >= 0])
    has_album = album_raw >= 0
    album_group = np.searchsorted(album_ids, album_raw[has_album]).astype(np.int64)

    if play_counts is None:
        counted = _array(
            # likes as training reads them: the listener's current opinion, not the log
            "SELECT track_id, count(DISTINCT user_id) FROM ("
            " SELECT track_id, user_id FROM history_interaction"
            " WHERE kind IN ('play', 'add_to_playlist')"
            " UNION ALL SELECT track_id, user_id FROM history_opinion WHERE value = 'like'"
            " UNION ALL SELECT track_id, user_id FROM history_historyentry) AS listened"
            " GROUP BY track_id",
            2,
        ).astype(np.int64)
        counts = np.zeros(n, dtype=np.int64)
        at = _positions(track_ids, counted[:, 0])
        counts[at[at >= 0]] = counted[at >= 0, 1]
    else:
        counts = np.asarray(play_counts, dtype=np.int64)

    names = dict(Artist.objects.filter(pk__in=artist_ids.tolist()).values_list("pk", "name"))
    genre_rows = {
        pk: (name, slug) for pk, name, slug in Genre.objects.values_list("pk", "name", "slug")
    }
    catalog = Catalog(
        artist=first,
        genres=genres,
        features=features,
        play_count=counts,
        artist_names=[names.get(int(pk), "") for pk in artist_ids],
        genre_names=[genre_rows.get(int(pk), ("", ""))[0] for pk in genre_ids],
    )
    valid = credit_track >= 0
    memberships = {
        "artist": Memberships(credit_track[valid], credit_artist[valid], len(artist_ids)),
        "album": Memberships(np.flatnonzero(has_album), album_group, len(album_ids)),
        "genre": Memberships(genre_track[keep], genre_column[keep], len(genre_ids)),
    }
    return EngineCatalog(
        track_ids=track_ids,
        artist_ids=artist_ids,
        genre_ids=genre_ids,
        album_ids=album_ids,
        catalog=catalog,
        popularity=popularity,
        genre_slugs=[genre_rows.get(int(pk), ("", ""))[1] for pk in genre_ids],
        memberships=memberships,
    )
