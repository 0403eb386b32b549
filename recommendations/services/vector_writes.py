"""Writing many vectors at once: binary COPY into a staging table, then one upsert.

``bulk_create`` of 100k vectors costs ~14 s (SETUP-NOTES); a binary COPY sends each vector as
its 4 + 4·d bytes and takes a fraction of that. The upsert writes only the rows whose vector
changed: an HNSW index pays for every write, and a daily refresh of an unchanged catalog should
write nothing.

Inserting into an HNSW index row by row is what costs at scale: 90k content vectors took 210 s
that way here, where building the index afresh over the same rows takes a fraction of it
(``scripts/bench_vectors.py``, docs/benchmarks.md). So when at least ``rebuild_index_from``
rows change, the table's HNSW indexes are dropped, the rows written, and the indexes built
again, all in the caller's transaction: readers of that table wait for it to commit (a bulk
import or the nightly refresh), and never see it without its index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo

STAGE = "vector_stage"


def _raw_cursor(cursor: Any) -> Any:
    """The psycopg cursor under Django's wrapper(s), with pgvector's adapters registered on it
    alone (the connection's other cursors, and Django's VectorField, keep reading text)."""
    raw = cursor.cursor
    info = TypeInfo.fetch(raw.connection, "vector")
    register_vector_info(raw, info)
    return raw


def vectors_upsert(
    *,
    table: str,
    key_columns: Sequence[str],
    keys: Sequence[npt.ArrayLike],
    vectors: npt.ArrayLike,
    dimensions: int,
    timestamp_column: str | None = None,
    where: str = "",
    rebuild_index_from: int | None = None,
) -> int:
    """Insert or update ``table``'s rows keyed by ``key_columns`` (bigint columns, parallel
    arrays in ``keys``) with their ``vector``; return how many rows were written.

    ``vectors`` narrower than ``dimensions`` are padded with zeros (cosine distances do not
    change). ``timestamp_column`` is set to ``now()`` on every row written; an unchanged vector
    is not written at all. ``where``: a condition on the staged rows (``track_id IN (SELECT id
    FROM catalog_track)``, so a track deleted meanwhile is skipped instead of failing the
    whole batch on its foreign key). ``rebuild_index_from``: from this many changed rows on,
    rebuild the table's HNSW indexes instead of inserting into them (see the module docstring).
    """
    values = np.asarray(vectors, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] > dimensions:
        raise ValueError(f"vectors must be n × at most {dimensions}")
    if values.shape[1] < dimensions:
        values = np.hstack(
            [values, np.zeros((len(values), dimensions - values.shape[1]), dtype=np.float32)]
        )
    columns = [np.asarray(key, dtype=np.int64) for key in keys]
    if len(columns) != len(key_columns) or any(len(c) != len(values) for c in columns):
        raise ValueError("one key array per key column, one key per vector")
    if not len(values):
        return 0
    names = ", ".join(key_columns)
    stamped = [timestamp_column] if timestamp_column else []
    insert_columns = ", ".join([*key_columns, "vector", *stamped])
    select_values = ", ".join([*key_columns, "vector", *(["now()"] if stamped else [])])
    updates = ", ".join(["vector = EXCLUDED.vector", *(f"{c} = EXCLUDED.{c}" for c in stamped)])
    condition = f"WHERE {where}" if where else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        key_definitions = ", ".join(f"{name} bigint NOT NULL" for name in key_columns)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} ({key_definitions}, vector vector({dimensions}))"
        )
        raw = _raw_cursor(cursor)
        with raw.copy(f"COPY {STAGE} ({names}, vector) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([*(["int8"] * len(key_columns)), "vector"])
            for row in range(len(values)):
                copy.write_row([*(int(c[row]) for c in columns), values[row]])
        indexes: list[tuple[str, str]] = []
        if rebuild_index_from is not None and len(values) >= rebuild_index_from:
            joined = " AND ".join(f"t.{name} = s.{name}" for name in key_columns)
            cursor.execute(
                f"SELECT count(*) FROM {STAGE} s LEFT JOIN {table} t ON {joined} "
                f"WHERE t.vector IS DISTINCT FROM s.vector"
            )
            if int(cursor.fetchone()[0]) >= rebuild_index_from:
                indexes = _hnsw_indexes(cursor, table)
                for name, _ in indexes:
                    cursor.execute(f"DROP INDEX {name}")
        cursor.execute(
            f"""
            INSERT INTO {table} ({insert_columns})
            SELECT {select_values} FROM {STAGE} {condition}
            ON CONFLICT ({names}) DO UPDATE SET {updates}
            WHERE {table}.vector IS DISTINCT FROM EXCLUDED.vector
            """
        )
        written = int(cursor.rowcount)
        cursor.execute(f"DROP TABLE {STAGE}")
        if indexes:
            # the rows' foreign-key checks are deferred to the commit (Django's FKs are
            # DEFERRABLE INITIALLY DEFERRED), and PostgreSQL builds no index over a table with
            # pending checks: run them now, then defer again what was deferred
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
            for _, definition in indexes:
                cursor.execute(definition)
    return written


#: maintenance_work_mem while an HNSW index is rebuilt (SETUP-NOTES: 100k × 64-d built in 38 s
#: with 512 MB against 60 s with the default 64 MB; 90k × 128-d float32 is ~46 MB of vectors).
INDEX_BUILD_MEMORY = "256MB"


def _hnsw_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """The HNSW indexes of ``table`` as (name, CREATE INDEX statement): exactly what the
    migrations made, to make again."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = %s AND indexdef ILIKE %s",
        [table, "% USING hnsw %"],
    )
    return [(str(name), str(definition)) for name, definition in cursor.fetchall()]
