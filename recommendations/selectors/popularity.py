"""Reads of the popularity materialized views, shaped for the engine and the trending API.

The engine works in an index space: the caller passes ``track_ids``, the sorted catalog ids of
its tracks (engine index ``i`` is track ``track_ids[i]``), and gets arrays in that space. Rows of
tracks the caller does not know are ignored; the caller's tracks the views do not hold score 0.

These run in web requests. The serving layer keeps their results per process and reloads them
when :func:`popularity_generation` changes (every refresh changes it), so each is one query
returning one row per cohort or one row in all (the values travel as arrays).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from django.conf import settings
from django.db import connection

from catalog.models import Track
from recommendations.engine.data import DEMOGRAPHIC_FIELDS
from recommendations.engine.predictors import CohortTable

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: The ``level`` column of ``demographic_popularity`` (how many fields the cohort is defined
#: by) → the engine's field names, finest first: the order of the predictor's back-off.
COHORT_LEVELS: dict[int, tuple[str, ...]] = {
    4: DEMOGRAPHIC_FIELDS,
    2: ("age_band", "country"),
    1: ("age_band",),
}

#: ``popular_tracks.genre_id`` of the rows over all genres.
ALL_GENRES = 0


class TrendingTrack(NamedTuple):
    """One row of ``popular_tracks``: the time-decayed ``score`` (decayed to
    :attr:`PopularityState.scored_at`) and, over the view's window, the ``plays``, the current
    ``likes`` and the distinct ``listeners``."""

    track_id: int
    score: float
    plays: int
    likes: int
    listeners: int


@dataclass(frozen=True)
class PopularityState:
    """The last refresh: its generation, when it ran, the moment its scores are decayed to
    (``scored_at``: 00:00 UTC of that day, see migration 0002), how long it took, and the
    views' sizes."""

    generation: int
    refreshed_at: dt.datetime
    scored_at: dt.datetime
    seconds: float
    popular_tracks_rows: int
    demographic_popularity_rows: int


def popularity_state() -> PopularityState:
    """The last refresh of the popularity views (one row by primary key)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generation, refreshed_at, scored_at, seconds, popular_tracks_rows,"
            " demographic_popularity_rows"
            " FROM public.recommendations_popularity_refresh WHERE id = 1"
        )
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("recommendations_popularity_refresh is empty: run the migrations")
    return PopularityState(
        generation=int(row[0]),
        refreshed_at=row[1],
        scored_at=row[2],
        seconds=float(row[3]),
        popular_tracks_rows=int(row[4]),
        demographic_popularity_rows=int(row[5]),
    )


def popularity_generation() -> int:
    """A value that changes with every refresh of the popularity views and is never reused by
    another refresh (it comes from a sequence, which a rollback does not rewind): a cache of
    :func:`trending_scores` or :func:`cohort_tables` made at generation ``g`` is valid while
    this returns ``g``. One primary-key lookup."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generation FROM public.recommendations_popularity_refresh WHERE id = 1"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _engine_track_ids(track_ids: npt.ArrayLike) -> IntArray:
    known = np.asarray(track_ids, dtype=np.int64)
    if known.ndim != 1 or (len(known) > 1 and not bool(np.all(known[1:] > known[:-1]))):
        raise ValueError("track_ids must be a 1-d array of increasing, distinct catalog ids")
    return known


def _positions(known: IntArray, ids: npt.ArrayLike) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Where ``ids`` (catalog ids) are in ``known`` (the engine's sorted ids): ``(engine indices
    of the ids found, mask over ids of those found)``."""
    wanted = np.asarray(ids, dtype=np.int64)
    found = np.zeros(len(wanted), dtype=bool)
    if not len(known) or not len(wanted):
        return np.zeros(0, dtype=np.int64), found
    positions = np.searchsorted(known, wanted)
    inside = positions < len(known)
    found[inside] = known[positions[inside]] == wanted[inside]
    return positions[found].astype(np.int64), found


# The views' ids and scores travel as packed binary (int8send / float8send: big-endian 8-byte
# values, concatenated by string_agg): numpy reads them in one call, where psycopg would build a
# Python object per value of an array (half the time of trending_scores at 90k tracks). The two
# aggregates of one query see the same rows in the same order, so the i-th id and the i-th score
# are one row's.
PACKED_IDS = "string_agg(int8send(track_id), ''::bytea)"
PACKED_SCORES = "string_agg(float8send(score), ''::bytea)"


def _unpacked(ids: bytes | None, scores: bytes | None) -> tuple[IntArray, FloatArray]:
    return (
        np.frombuffer(ids or b"", dtype=">i8").astype(np.int64),
        np.frombuffer(scores or b"", dtype=">f8").astype(np.float64),
    )


def trending_scores(*, track_ids: npt.ArrayLike) -> FloatArray:
    """The time-decayed popularity of each engine track (``popular_tracks`` over all genres),
    float64, one value per entry of ``track_ids``; 0 for a track that does not trend."""
    known = _engine_track_ids(track_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {PACKED_IDS}, {PACKED_SCORES} FROM public.popular_tracks WHERE genre_id = %s",
            [ALL_GENRES],
        )
        row = cursor.fetchone()
    ids, values = _unpacked(*(row if row else (None, None)))
    positions, found = _positions(known, ids)
    scores = np.zeros(len(known), dtype=np.float64)
    scores[positions] = values[found]
    return scores


def cohort_tables(*, track_ids: npt.ArrayLike, min_members: int | None = None) -> list[CohortTable]:
    """The demographic predictor's tables, finest level first (age band + country + gender +
    occupation, then age band + country, then age band), in the engine's index space.

    Keys are strings as ``ListenerProfile.demographics`` holds them: the age band label of
    ``recommendations.engine.data.AGE_BANDS``, the ISO country code, the gender and occupation
    codes. ``members`` counts every active listener with those demographics (also those who
    played nothing); counts are the cohort's decayed plays and likes of its top tracks. The
    view holds cohorts of 5 listeners and more (migration 0002: ``COHORT_MIN_MEMBERS``).

    Cohorts with fewer than ``min_members`` listeners (default: the setting
    ``RECOMMENDER["predictors"]["min_cohort_size"]``, the size below which the predictor ignores a
    cohort) are left out too: web processes need not hold rows the predictor never reads.
    """
    if min_members is None:
        min_members = int(settings.RECOMMENDER["predictors"]["min_cohort_size"])
    known = _engine_track_ids(track_ids)
    with connection.cursor() as cursor:
        # one row per cohort; its columns in the order of DEMOGRAPHIC_FIELDS
        cursor.execute(
            f"""
            SELECT level, age_band, country, gender, occupation, members,
                   {PACKED_IDS}, {PACKED_SCORES}
              FROM public.demographic_popularity
             WHERE members >= %s
             GROUP BY level, age_band, country, gender, occupation, members
             ORDER BY level DESC, age_band, country, gender, occupation
            """,
            [min_members],
        )
        rows = cursor.fetchall()
    tables = []
    for level, fields in COHORT_LEVELS.items():
        cohorts = [row for row in rows if int(row[0]) == level]
        keys = [
            tuple(str(row[1 + DEMOGRAPHIC_FIELDS.index(name)]) for name in fields)
            for row in cohorts
        ]
        members = np.asarray([int(row[5]) for row in cohorts], dtype=np.int64)
        packed = [_unpacked(row[6], row[7]) for row in cohorts]
        lengths = np.asarray([len(ids) for ids, _ in packed], dtype=np.int64)
        ids = np.concatenate([ids for ids, _ in packed]) if packed else np.zeros(0, np.int64)
        scores = np.concatenate([s for _, s in packed]) if packed else np.zeros(0, np.float64)
        positions, found = _positions(known, ids)
        cohort_of = np.repeat(np.arange(len(cohorts), dtype=np.int64), lengths)[found]
        counts = sp.csr_matrix(
            (scores[found], (cohort_of, positions)),
            shape=(len(cohorts), len(known)),
            dtype=np.float64,
        )
        tables.append(CohortTable(fields=fields, keys=keys, members=members, counts=counts))
    return tables


def trending_tracks(*, genre_id: int | None, limit: int) -> list[TrendingTrack]:
    """The ``limit`` most trending tracks, best first, over all genres (``genre_id`` None) or in
    one genre (its top ``GENRE_TOP_N`` of migration 0002 at most); an unknown genre has none.
    An index range scan of ``popular_tracks`` (genre_id, score DESC, track_id)."""
    if limit < 0:
        raise ValueError("limit cannot be negative")
    if genre_id is not None and genre_id <= ALL_GENRES:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT track_id, score, plays, likes, listeners FROM public.popular_tracks"
            " WHERE genre_id = %s ORDER BY score DESC, track_id LIMIT %s",
            [ALL_GENRES if genre_id is None else genre_id, limit],
        )
        return [
            TrendingTrack(int(t), float(s), int(p), int(lk), int(n))
            for t, s, p, lk, n in cursor.fetchall()
        ]


#: ``?n=`` of ``GET /api/v1/recommendations/trending/``: default and most.
TRENDING_DEFAULT = 20
TRENDING_MAX = 100


@dataclass(frozen=True)
class TrendingItem:
    """One trending track with its row of ``popular_tracks`` and its place (1 first)."""

    position: int
    track: Track
    trend: TrendingTrack


def trending_list(*, genre_id: int | None, n: int = TRENDING_DEFAULT) -> list[TrendingItem]:
    """The ``n`` (1–:data:`TRENDING_MAX`) most trending tracks, overall (``genre_id`` None) or in
    one genre, best first, with their tracks (album, credits, genres) loaded: four queries. A
    track deleted since the last refresh is left out (the list is then shorter)."""
    if not 1 <= n <= TRENDING_MAX:
        raise ValueError(f"n must be between 1 and {TRENDING_MAX}")
    rows = trending_tracks(genre_id=genre_id, limit=n)
    tracks = Track.objects.with_related().in_bulk([row.track_id for row in rows])
    items: list[TrendingItem] = []
    for row in rows:
        if row.track_id in tracks:
            items.append(
                TrendingItem(position=len(items) + 1, track=tracks[row.track_id], trend=row)
            )
    return items
