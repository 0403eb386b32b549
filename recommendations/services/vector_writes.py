"""Writing many vectors at once: binary COPY into a staging table, then one upsert.

``bulk_create`` of 100k vectors costs ~14 s (SETUP-NOTES); a binary COPY sends each vector as
its 4 + 4·d bytes and takes a fraction of that. The upsert writes only the rows whose vector
changed: an HNSW index pays for every write, and a daily refresh of an unchanged catalog should
write nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
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
) -> int:
    """Insert or update ``table``'s rows keyed by ``key_columns`` (bigint columns, parallel
    arrays in ``keys``) with their ``vector``; return how many rows were written.

    ``vectors`` narrower than ``dimensions`` are padded with zeros (cosine distances do not
    change). ``timestamp_column`` is set to ``now()`` on every row written; an unchanged vector
    is not written at all. ``where``: a condition on the staged rows (``track_id IN (SELECT id
    FROM catalog_track)``, so a track deleted meanwhile is skipped instead of failing the
    whole batch on its foreign key).
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
    with connection.cursor() as cursor:
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
    return written
