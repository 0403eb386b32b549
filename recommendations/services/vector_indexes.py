"""One HNSW index per model version over its collaborative vectors (partial indexes).

A table-wide HNSW index over ``TrackVector`` / ``ListenerVector`` makes a training pay for
inserting each of its 90k new rows into a graph that also holds the active version's rows
(245 s at catalog scale, docs/recommendations.md), and the drop-and-rebuild of
:mod:`.vector_writes` would lock the active version's readers out for the whole build. So each
version gets its own partial index, ``… USING hnsw (vector vector_cosine_ops) WHERE
model_version_id = N``:

- training COPYs the new version's rows with no HNSW index to maintain, then builds the
  version's indexes with ``CREATE INDEX CONCURRENTLY`` (readers and the fold-ins' writes to the
  active version go on meanwhile) BEFORE the swap, so the version is searchable the moment it
  becomes active;
- a fold-in (a listener's like, a new track) inserts a few rows into the active version's index
  as usual;
- the clean-up drops retired and failed versions' indexes (``DROP INDEX CONCURRENTLY``) before
  their rows are deleted.

A query reaches the index only when its ``WHERE`` names the version as a literal the planner
can match to the index predicate: Django's psycopg 3 backend binds parameters on the client
(``server_side_binding`` off, the default here), so ``filter(model_version_id=n)`` does
(``tests/recommendations/test_vector_indexes.py`` checks the plan).

Inside a transaction (tests; a caller's ``atomic``) ``CONCURRENTLY`` is impossible and the
plain statements are used: they hold their lock until that transaction ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection

from recommendations.models import ListenerVector, TrackVector

#: The tables whose rows belong to a model version, each with one HNSW index per version.
VERSIONED_TABLES = (TrackVector._meta.db_table, ListenerVector._meta.db_table)

#: Connections per graph node (pgvector's default; the table-wide indexes had the same).
HNSW_M = 16

_NAME = re.compile(r"^(?P<table>.+)_hnsw_v(?P<version>\d+)$")


def version_index_name(*, table: str, version_id: int) -> str:
    """``recommendations_trackvector_hnsw_v12``: the name says the table and the version."""
    return f"{table}_hnsw_v{int(version_id)}"


def _build_settings() -> tuple[str, int, int]:
    options = settings.RECOMMENDER.get("vectors", {})
    return (
        str(options.get("index_build_memory", "512MB")),
        int(options.get("index_build_workers", 1)),
        int(options.get("index_ef_construction", 128)),
    )


def version_indexes_build(*, version_id: int) -> list[str]:
    """Build the HNSW index of ``version_id``'s rows in each versioned table (``ANALYZE`` first,
    so the planner knows how many rows the version has); return the index names.

    Outside a transaction: ``CREATE INDEX CONCURRENTLY`` (no lock that stops readers or
    writers; it waits for transactions already writing to the table), with
    ``maintenance_work_mem`` raised so the graph is built in memory and
    ``max_parallel_maintenance_workers`` (pgvector ≥ 0.6 builds HNSW in parallel) for this
    session, both reset afterwards. Run it before the version is swapped in."""
    memory, workers, ef_construction = _build_settings()
    concurrently = not connection.in_atomic_block
    names = []
    with connection.cursor() as cursor:
        if not concurrently:
            # the rows' foreign-key checks are deferred to the commit (Django's FKs are
            # DEFERRABLE INITIALLY DEFERRED) and PostgreSQL builds no index over a table with
            # pending checks: run them now, then defer again what was deferred
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # session-wide outside a transaction (reset below), else for the transaction only
        for name, value in (
            ("maintenance_work_mem", memory),
            ("max_parallel_maintenance_workers", str(workers)),
        ):
            cursor.execute("SELECT set_config(%s, %s, %s)", [name, value, not concurrently])
        try:
            for table in VERSIONED_TABLES:
                name = version_index_name(table=table, version_id=version_id)
                cursor.execute(f"ANALYZE {table}")
                cursor.execute(
                    f"CREATE INDEX {'CONCURRENTLY ' if concurrently else ''}{name} ON {table} "
                    f"USING hnsw (vector vector_cosine_ops) "
                    f"WITH (m = {HNSW_M}, ef_construction = {ef_construction}) "
                    f"WHERE model_version_id = {int(version_id)}"
                )
                names.append(name)
        finally:
            if concurrently:
                cursor.execute("RESET maintenance_work_mem")
                cursor.execute("RESET max_parallel_maintenance_workers")
    return names


def version_indexes_drop(*, version_ids: Iterable[int]) -> int:
    """Drop the HNSW indexes of these versions (an index left invalid by an interrupted build
    too); how many were dropped. ``DROP INDEX CONCURRENTLY`` outside a transaction: a reader of
    the active version never waits for it."""
    wanted = {int(v) for v in version_ids}
    if not wanted:
        return 0
    concurrently = not connection.in_atomic_block
    dropped = 0
    with connection.cursor() as cursor:
        for name, version_id in _version_indexes(cursor):
            if version_id in wanted:
                cursor.execute(
                    f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS {name}"
                )
                dropped += 1
    return dropped


def version_indexes_present() -> dict[int, list[str]]:
    """The per-version HNSW indexes that exist, by version id (valid or not)."""
    found: dict[int, list[str]] = {}
    with connection.cursor() as cursor:
        for name, version_id in _version_indexes(cursor):
            found.setdefault(version_id, []).append(name)
    return found


def _version_indexes(cursor: Any) -> list[tuple[str, int]]:
    cursor.execute(
        "SELECT indexname, tablename FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = ANY(%s)",
        [list(VERSIONED_TABLES)],
    )
    result = []
    for name, table in cursor.fetchall():
        match = _NAME.match(str(name))
        if match and match["table"] == table:
            result.append((str(name), int(match["version"])))
    return result
