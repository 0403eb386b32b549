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

logger = logging.getLogger(__name__)

#: Refreshed in this order, in one transaction: readers see both views and the generation change
#: together, at the commit.
POPULARITY_VIEWS = ("popular_tracks", "demographic_popularity")

# The advisory lock's key: a 64-bit hash of this name (pg_try_advisory_xact_lock(bigint)).
LOCK_NAME = "recommendations.refresh_popularity"


@dataclass(frozen=True)
class PopularityRefresh:
    """What a refresh did: ``skipped`` when another one held the lock (then nothing else is
    set); else the rows of each view, the new ``generation`` and the seconds it took."""

    skipped: bool
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    generation: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "rows": dict(self.rows),
            "generation": self.generation,
        }


def refresh_popularity(*, on_view: Callable[[str], None] | None = None) -> PopularityRefresh:
    """Refresh both popularity views and bump the popularity generation.

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
        for view in POPULARITY_VIEWS:
            if view not in populated:
                raise RuntimeError(f"materialized view {view} is missing: run the migrations")
            # CONCURRENTLY refuses a view that was never populated (REFRESH … WITH NO DATA);
            # a plain refresh then blocks its readers, who could not read it anyway.
            how = "CONCURRENTLY " if populated[view] else ""
            cursor.execute(f"REFRESH MATERIALIZED VIEW {how}public.{view}")
            cursor.execute(f"SELECT count(*) FROM public.{view}")
            counted = cursor.fetchone()
            rows[view] = int(counted[0]) if counted else 0
            if on_view is not None:
                on_view(view)
        seconds = time.perf_counter() - started
        cursor.execute(
            """
            UPDATE public.recommendations_popularity_refresh
               SET generation = nextval('public.recommendations_popularity_generation'),
                   refreshed_at = now(),
                   seconds = %s,
                   popular_tracks_rows = %s,
                   demographic_popularity_rows = %s
             WHERE id = 1
         RETURNING generation
            """,
            [seconds, rows["popular_tracks"], rows["demographic_popularity"]],
        )
        bumped = cursor.fetchone()
    summary = PopularityRefresh(
        skipped=False,
        seconds=time.perf_counter() - started,
        rows=rows,
        generation=int(bumped[0]) if bumped else None,
    )
    logger.info(
        "popularity views refreshed in %.2f s: %s (generation %s)",
        summary.seconds,
        ", ".join(f"{view} {count} rows" for view, count in rows.items()),
        summary.generation,
    )
    return summary
