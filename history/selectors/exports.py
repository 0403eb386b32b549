"""The history app's part of a listener's data export (registered in ``HistoryConfig.ready``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.models import Q

from accounts.models import User
from history.models import HistoryEntry, Interaction, ListenImport, Opinion

# Events are read this many at a time, each batch its own query continuing after the last
# event of the one before (keyset pagination on the (user, occurred_at) index): the export of a
# log of any length holds one batch in memory, and no cursor stays open while a slow client reads.
EXPORT_BATCH_SIZE = 2_000


def _interactions(user: User) -> Iterator[dict[str, Any]]:
    events = Interaction.objects.filter(user=user).order_by("occurred_at", "id")
    fields = ("id", "track_id", "kind", "occurred_at", "recorded_at", "listened_ms", "mood")
    after: tuple[Any, int] | None = None
    while True:
        page = events
        if after is not None:
            page = page.filter(
                Q(occurred_at__gt=after[0]) | Q(occurred_at=after[0], id__gt=after[1])
            )
        batch = list(page.values_list(*fields, "activity")[:EXPORT_BATCH_SIZE])
        _release_connection()
        for _pk, track_id, kind, occurred_at, recorded_at, listened_ms, mood, activity in batch:
            yield {
                "track_id": track_id,
                "kind": kind,
                "occurred_at": occurred_at.isoformat(),
                "recorded_at": recorded_at.isoformat(),
                "listened_ms": listened_ms,
                "mood": mood or None,
                "activity": activity or None,
            }
        if len(batch) < EXPORT_BATCH_SIZE:
            return
        after = (batch[-1][3], batch[-1][0])


def _release_connection() -> None:
    """Between batches, hand the connection back (to the pool): a client that reads slowly
    must not hold one of the process's connections for the whole download. Not inside a
    transaction (tests), which a close would break."""
    if not connection.in_atomic_block:
        connection.close()


def _imports(user: User) -> list[dict[str, Any]]:
    """The listener's imports: what was uploaded and what came of it (never the raw upload)."""
    fields = (
        "id", "format", "file_name", "file_size", "status", "error", "created_at",
        "finished_at", "listens", "skipped", "matched", "unmatched", "created", "duplicates",
        "over_limit", "top_unmatched", "offered_track_ids",
    )  # fmt: skip
    imports = ListenImport.objects.filter(user=user).order_by("created_at", "id").values(*fields)
    return [
        {
            **item,
            "created_at": item["created_at"].isoformat(),
            "finished_at": item["finished_at"].isoformat() if item["finished_at"] else None,
            "top_unmatched": list(item["top_unmatched"] or []),
            "offered_track_ids": list(item["offered_track_ids"] or []),
        }
        for item in imports
    ]


def listener_history_export(user: User) -> dict[str, Any]:
    """History entries, the interaction log (streamed), opinions and listening imports."""
    return {
        "history": [
            {"track_id": e.track_id, "slot": e.slot, "added_at": e.added_at.isoformat()}
            for e in HistoryEntry.objects.filter(user=user).order_by("slot")
        ],
        "interactions": _interactions(user),
        "opinions": [
            {"track_id": o.track_id, "value": o.value, "updated_at": o.updated_at.isoformat()}
            for o in Opinion.objects.filter(user=user).order_by("track_id")
        ],
        "imports": _imports(user),
    }
