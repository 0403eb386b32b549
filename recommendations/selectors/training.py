"""Reads for training: the listeners' confidence rows, and the model versions.

:func:`listener_rows` turns the interaction log, the opinions and the histories into the
listener × track confidence matrix of :func:`recommendations.engine.matrix.interaction_matrix`
(columns: an :class:`~recommendations.selectors.catalog.EngineCatalog`'s tracks), for every
listener (training) or a few (a fold-in after a like). What is read, per listener and track:

- plays, skips and adds to a playlist from the interaction log (a play weighs the listened
  share ``listened_ms / duration_ms``; unknown: a full play);
- likes and dislikes from ``Opinion``, the listener's *current* opinion: a like later replaced
  by a dislike counts as the dislike only (the log keeps both events; summing them would
  cancel), and opinions outlive the log's retention;
- history entries (strong, ``ConfidenceWeights.history``).

Rows are streamed from a server-side cursor in chunks straight into numpy arrays (no model
instances: 2,000 demo listeners' ~400k events cost a few MB).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from django.conf import settings
from django.db import connection
from django.utils import timezone

from recommendations.engine.matrix import EVENT_KINDS, ConfidenceWeights, interaction_matrix
from recommendations.models import ModelVersion
from recommendations.selectors.catalog import EngineCatalog

IntArray = npt.NDArray[np.int64]

#: Rows fetched per round trip from the server-side cursors.
CHUNK_ROWS = 50_000

_KIND_CODES = {kind: code for code, kind in enumerate(EVENT_KINDS)}
_KIND_NAMES = np.array(EVENT_KINDS)

# Every event as (user, track, kind code, listened share or NaN). Likes and dislikes come from
# the opinions (current value), everything else from the log; history entries are separate.
_EVENTS_SQL = f"""
    SELECT i.user_id, i.track_id,
           CASE i.kind WHEN 'play' THEN {_KIND_CODES["play"]}
                       WHEN 'skip' THEN {_KIND_CODES["skip"]}
                       ELSE {_KIND_CODES["add_to_playlist"]} END,
           COALESCE(i.listened_ms::float8 / NULLIF(t.duration_ms, 0), 'NaN'::float8)
    FROM history_interaction i JOIN catalog_track t ON t.id = i.track_id
    WHERE i.kind IN ('play', 'skip', 'add_to_playlist') {{users_i}}
    UNION ALL
    SELECT o.user_id, o.track_id,
           CASE o.value WHEN 'like' THEN {_KIND_CODES["like"]} ELSE {_KIND_CODES["dislike"]} END,
           'NaN'::float8
    FROM history_opinion o
    WHERE o.value IN ('like', 'dislike') {{users_o}}
"""
_HISTORY_SQL = "SELECT h.user_id, h.track_id FROM history_historyentry h WHERE TRUE {users_h}"


@dataclass(frozen=True)
class ListenerEvents:
    """Every event and history entry of some listeners, in the engine's index spaces:
    ``user_ids[row]`` is the listener of matrix row ``row``; events and entries of tracks
    outside the catalog are dropped."""

    user_ids: IntArray
    n_tracks: int
    event_row: IntArray
    event_track: IntArray
    event_kind: npt.NDArray[np.str_]
    listened_share: npt.NDArray[np.float64]
    history_row: IntArray
    history_track: IntArray

    @property
    def n_events(self) -> int:
        return len(self.event_row) + len(self.history_row)

    def matrix(
        self, *, keep_negative: bool = True, weights: ConfidenceWeights | None = None
    ) -> sp.csr_matrix:
        """The ``len(user_ids) × n_tracks`` confidence rows (float32 CSR)."""
        return interaction_matrix(
            n_listeners=len(self.user_ids),
            n_tracks=self.n_tracks,
            event_listener=self.event_row,
            event_track=self.event_track,
            event_kind=self.event_kind,
            listened_share=self.listened_share,
            history_listener=self.history_row,
            history_track=self.history_track,
            weights=weights,
            keep_negative=keep_negative,
        )


def _streamed(
    sql: str, params: Sequence[Any], columns: int, server_side: bool = True
) -> Iterator[npt.NDArray[np.float64]]:
    """The rows of ``sql`` as float64 arrays of ``CHUNK_ROWS`` rows, from a server-side
    cursor (ids are exact in float64 up to 2⁵³); a plain cursor when not ``server_side`` (a
    few listeners' rows: no cursor to declare, one round trip)."""
    with connection.chunked_cursor() if server_side else connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(CHUNK_ROWS)
            if not rows:
                return
            yield np.array(rows, dtype=np.float64).reshape(-1, columns)


def _read(
    sql: str, params: Sequence[Any], columns: int, server_side: bool = True
) -> npt.NDArray[np.float64]:
    chunks = list(_streamed(sql, params, columns, server_side))
    return np.concatenate(chunks) if chunks else np.zeros((0, columns))


def listener_events(
    *, user_ids: Sequence[int] | None = None, engine_catalog: EngineCatalog
) -> ListenerEvents:
    """The events of ``user_ids`` (rows in that order, each listed once), or of every listener
    with at least one event or history entry (ascending ids) when None."""
    if user_ids is None:
        filters = {"users_i": "", "users_o": "", "users_h": ""}
        params: list[Any] = []
    else:
        filters = {
            "users_i": "AND i.user_id = ANY(%s)",
            "users_o": "AND o.user_id = ANY(%s)",
            "users_h": "AND h.user_id = ANY(%s)",
        }
        wanted = [int(pk) for pk in dict.fromkeys(user_ids)]
        params = [wanted]
    events = _read(
        _EVENTS_SQL.format(users_i=filters["users_i"], users_o=filters["users_o"]),
        params * 2,
        4,
        server_side=user_ids is None,
    )
    history = _read(
        _HISTORY_SQL.format(users_h=filters["users_h"]), params, 2, server_side=user_ids is None
    )

    event_users = events[:, 0].astype(np.int64)
    history_users = history[:, 0].astype(np.int64)
    if user_ids is None:
        ids = np.unique(np.concatenate([event_users, history_users]))
        event_row = np.searchsorted(ids, event_users)
        history_row = np.searchsorted(ids, history_users)
    else:
        ids = np.array(wanted, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        event_row = order[np.searchsorted(ids[order], event_users)] if len(ids) else event_users
        history_row = (
            order[np.searchsorted(ids[order], history_users)] if len(ids) else history_users
        )

    event_track = engine_catalog.indices(events[:, 1].astype(np.int64))
    history_track = engine_catalog.indices(history[:, 1].astype(np.int64))
    known = event_track >= 0
    known_history = history_track >= 0
    return ListenerEvents(
        user_ids=ids.astype(np.int64),
        n_tracks=engine_catalog.n_tracks,
        event_row=np.asarray(event_row[known], dtype=np.int64),
        event_track=event_track[known],
        event_kind=_KIND_NAMES[events[known, 2].astype(np.int64)],
        listened_share=events[known, 3],
        history_row=np.asarray(history_row[known_history], dtype=np.int64),
        history_track=history_track[known_history],
    )


def listener_rows(
    *,
    user_ids: Sequence[int] | None = None,
    engine_catalog: EngineCatalog,
    keep_negative: bool = True,
    weights: ConfidenceWeights | None = None,
) -> tuple[IntArray, sp.csr_matrix]:
    """``(user_ids, rows)``: the confidence rows of ``user_ids`` (in the order given, once
    each; a listener with nothing gets an empty row), or of every listener with something
    (ascending ids) when None. Columns are ``engine_catalog``'s tracks.

    ``keep_negative`` (True): keep cells that sum below zero (skips, dislikes) — what ALS and
    its fold-in read; EASE reads positive cells only (``False``)."""
    events = listener_events(user_ids=user_ids, engine_catalog=engine_catalog)
    return events.user_ids, events.matrix(keep_negative=keep_negative, weights=weights)


def listeners_changed_since(*, since: dt.datetime) -> list[int]:
    """Listeners with an event, an opinion or a history entry recorded after ``since`` (the
    training snapshot), ascending. A removed history entry leaves no trace here; the fold-in
    on every change covers it."""
    sql = """
        SELECT user_id FROM history_interaction WHERE recorded_at > %s
        UNION SELECT user_id FROM history_opinion WHERE updated_at > %s
        UNION SELECT user_id FROM history_historyentry WHERE added_at > %s
        ORDER BY 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, since, since])
        return [int(row[0]) for row in cursor.fetchall()]


def tracks_created_since(*, since: dt.datetime) -> list[int]:
    """Tracks created after ``since`` (the training snapshot), ascending: the new version has
    no vector for them until they are folded in."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM catalog_track WHERE created_at > %s ORDER BY id", [since])
        return [int(row[0]) for row in cursor.fetchall()]


def model_version_active(*, with_artifact: bool = False) -> ModelVersion | None:
    """The active model version (the artifact's bytes only when asked), or None."""
    versions = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
    if not with_artifact:
        versions = versions.defer("artifact")
    return versions.first()


def model_version_is_stale(*, max_age_hours: float | None = None) -> bool:
    """Whether a training is due: no active version, or its snapshot is older than
    ``max_age_hours`` (``RECOMMENDER["retrain_after_hours"]`` by default)."""
    hours = (
        max_age_hours
        if max_age_hours is not None
        else float(settings.RECOMMENDER.get("retrain_after_hours", 24))
    )
    snapshot_at = (
        ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
        .values_list("snapshot_at", flat=True)
        .first()
    )
    if snapshot_at is None:
        return True
    return (timezone.now() - snapshot_at).total_seconds() > hours * 3600
