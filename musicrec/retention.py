"""Deleting old rows in batches: what the retention tasks (interactions, served lists) share."""

from __future__ import annotations

import datetime as dt

from django.db import connection, models, transaction


def rows_delete_before(
    *, model: type[models.Model], column: str, cutoff: dt.datetime, batch_size: int
) -> int:
    """Delete ``model``'s rows whose ``column`` is before ``cutoff``, ``batch_size`` at a time;
    return how many were deleted.

    Each batch is its own statement and transaction (no long lock, no huge WAL burst). Safe to
    run twice or concurrently: the cut-off is fixed by the caller and ``SKIP LOCKED`` lets two
    runs share the work instead of waiting on each other's rows."""
    table = connection.ops.quote_name(model._meta.db_table)
    field = connection.ops.quote_name(model._meta.get_field(column).column)
    pk = connection.ops.quote_name(model._meta.pk.column)
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE {pk} IN ("
                f" SELECT {pk} FROM {table} WHERE {field} < %s LIMIT %s FOR UPDATE SKIP LOCKED)",
                [cutoff, batch_size],
            )
            batch = int(cursor.rowcount)
        deleted += batch
        if batch < batch_size:
            return deleted
