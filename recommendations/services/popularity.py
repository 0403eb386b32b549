"""Refreshing the popularity materialized views (``popular_tracks``, ``demographic_popularity``,
created by migration 0002; docs/recommendations.md).

``REFRESH MATERIALIZED VIEW CONCURRENTLY`` computes the new contents beside the old ones and
applies the difference, so readers are never blocked and see the whole old or the whole new
view. It needs a unique index over plain columns of every row (each view has one) and a view
that was populated once (the migration creates them WITH DATA; an unpopulated one gets a plain
refresh).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

logger = logging.getLogger(__name__)

#: Refreshed in this order, in one transaction: readers see both views and the generation change
#: together, at the commit.
POPULARITY_VIEWS = ("popular_tracks", "demographic_popularity")

# The advisory lock's key: a 64-bit hash of this name (pg_try_advisory_xact_lock(bigint)).
LOCK_NAME = "recommendations.refresh_popularity"


@dataclass(frozen=True)
class PopularityRefresh:
    """What a refresh did: ``skipped`` when another one held the lock (then nothing else is
    set); else the rows of each view, the rows each refresh ``written`` (deleted + inserted by
    the concurrent refresh's diff: a new row once, a changed one twice), the ``generation``
    (new when anything was written) and the seconds it took."""

    skipped: bool
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    generation: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "rows": dict(self.rows),
            "written": dict(self.written),
            "generation": self.generation,
        }


def refresh_popularity(*, on_view: Callable[[str], None] | None = None) -> PopularityRefresh:
    """Refresh both popularity views; bump the popularity generation when their contents
    changed.

    Locks: a transaction-level advisory lock (``pg_try_advisory_xact_lock``) keyed on
    ``LOCK_NAME``. A second refresh while one runs does not wait and does not overlap: it returns
    ``skipped`` at once (and logs it). The transaction-level variant is released by the commit
    or rollback, so an error or a killed worker can never leave it held. The views' own
    ``ExclusiveLock`` (taken by the refresh) blocks no reader.

    ``on_view(name)`` is called after each view is refreshed (a progress bar). Safe to run twice:
    each run recomputes the views from the current data.
    """
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [LOCK_NAME])
        row = cursor.fetchone()
        if row is None or not row[0]:
            logger.info("popularity refresh skipped: another refresh is running")
            return PopularityRefresh(skipped=True)
        cursor.execute(
            "SELECT matviewname, ispopulated FROM pg_catalog.pg_matviews"
            " WHERE schemaname = 'public' AND matviewname = ANY(%s)",
            [list(POPULARITY_VIEWS)],
        )
        populated = dict(cursor.fetchall())
        rows: dict[str, int] = {}
        written: dict[str, int] = {}
        for view in POPULARITY_VIEWS:
            if view not in populated:
                raise RuntimeError(f"materialized view {view} is missing: run the migrations")
            before = _written(cursor, view)
            # CONCURRENTLY refuses a view that was never populated (REFRESH … WITH NO DATA);
            # a plain refresh then blocks its readers, who could not read it anyway.
            how = "CONCURRENTLY " if populated[view] else ""
            cursor.execute(f"REFRESH MATERIALIZED VIEW {how}public.{view}")
            written[view] = _written(cursor, view) - before
            cursor.execute(f"SELECT count(*) FROM public.{view}")
            counted = cursor.fetchone()
            rows[view] = int(counted[0]) if counted else 0
            if on_view is not None:
                on_view(view)
        cursor.execute("SELECT current_setting('track_counts')::bool")
        counting = cursor.fetchone()
        # Unchanged contents keep their generation, so the web processes' caches stay valid.
        # Without track_counts (or after a plain refresh) a change cannot be seen: assume one.
        changed = (
            not (counting and counting[0]) or not all(populated.values()) or any(written.values())
        )
        seconds = time.perf_counter() - started
        cursor.execute(
            """
            UPDATE public.recommendations_popularity_refresh
               SET generation = CASE WHEN %s
                                     THEN nextval('public.recommendations_popularity_generation')
                                     ELSE generation END,
                   refreshed_at = now(),
                   -- the views' decay reference (REFERENCE in migration 0002)
                   scored_at = date_trunc('day', now(), 'UTC'),
                   seconds = %s,
                   popular_tracks_rows = %s,
                   demographic_popularity_rows = %s
             WHERE id = 1
         RETURNING generation
            """,
            [changed, seconds, rows["popular_tracks"], rows["demographic_popularity"]],
        )
        bumped = cursor.fetchone()
    summary = PopularityRefresh(
        skipped=False,
        seconds=time.perf_counter() - started,
        rows=rows,
        written=written,
        generation=int(bumped[0]) if bumped else None,
    )
    logger.info(
        "popularity views refreshed in %.2f s: %s (generation %s)",
        summary.seconds,
        ", ".join(f"{view} {rows[view]} rows, {written[view]} written" for view in rows),
        summary.generation,
    )
    return summary


def _written(cursor: CursorWrapper, view: str) -> int:
    """Rows inserted + deleted in ``view`` by the current transaction so far."""
    cursor.execute(
        "SELECT pg_stat_get_xact_tuples_inserted(%s::regclass)"
        " + pg_stat_get_xact_tuples_deleted(%s::regclass)",
        [f"public.{view}", f"public.{view}"],
    )
    row = cursor.fetchone()
    return int(row[0]) if row else 0
