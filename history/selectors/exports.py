"""The history app's part of a listener's data export (registered in ``HistoryConfig.ready``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from accounts.models import User
from history.models import HistoryEntry, Interaction, ListenImport, Opinion

# Events are read from a server-side cursor this many at a time: the export of a log of any
# length holds one batch in memory.
EXPORT_BATCH_SIZE = 2_000


def _interactions(user: User) -> Iterator[dict[str, Any]]:
    events = (
        Interaction.objects.filter(user=user)
        .order_by("occurred_at", "id")
        .values_list(
            "track_id", "kind", "occurred_at", "recorded_at", "listened_ms", "mood", "activity"
        )
    )
    for track_id, kind, occurred_at, recorded_at, listened_ms, mood, activity in events.iterator(
        chunk_size=EXPORT_BATCH_SIZE
    ):
        yield {
            "track_id": track_id,
            "kind": kind,
            "occurred_at": occurred_at.isoformat(),
            "recorded_at": recorded_at.isoformat(),
            "listened_ms": listened_ms,
            "mood": mood or None,
            "activity": activity or None,
        }


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
