"""Reads of listening-data imports: only ever the caller's own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from catalog.models import Track
from history.models import HistoryEntry, ListenImport
from musicrec.errors import ApplicationError


@dataclass(frozen=True)
class OfferedTrack:
    """A track an import offers for the history, and whether it is in the history now (it may
    have been added since the import ran)."""

    track: Track
    in_history: bool

    @property
    def artist_names(self) -> list[str]:
        return [artist.name for artist in self.track.artist_list]


def listen_import_list(*, user: User) -> QuerySet[ListenImport]:
    """The listener's imports, newest first, without the uploaded bytes."""
    return ListenImport.objects.filter(user=user).defer("data").order_by("-created_at", "-id")


def listen_import_get(*, user: User, import_id: int) -> ListenImport:
    """One of the listener's imports; another listener's id is "not found"."""
    listen_import = listen_import_list(user=user).filter(pk=import_id).first()
    if listen_import is None:
        raise ApplicationError("No import with this id.", code="not_found", status=404)
    return listen_import


def listen_import_offers(
    *, user: User, imports: Iterable[ListenImport]
) -> dict[int, list[OfferedTrack]]:
    """The offered tracks of each done import (by import id), in offer order (most played
    first). One round of queries for all the imports, however many."""
    done = [item for item in imports if item.status == ListenImport.Status.DONE]
    ids = {track_id for item in done for track_id in item.offered_track_ids or []}
    tracks = Track.objects.with_related().in_bulk(ids) if ids else {}
    in_history = set(
        HistoryEntry.objects.filter(user=user, track_id__in=ids).values_list("track_id", flat=True)
        if ids
        else []
    )
    return {
        item.pk: [
            OfferedTrack(tracks[track_id], track_id in in_history)
            for track_id in item.offered_track_ids or []
            if track_id in tracks
        ]
        for item in done
    }
