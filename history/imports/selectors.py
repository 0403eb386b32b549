"""Reads of listening-data imports: only ever the caller's own."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from catalog.models import Track, TrackArtist
from history.models import HistoryEntry, ListenImport
from musicrec.errors import ApplicationError


def listen_import_list(*, user: User) -> QuerySet[ListenImport]:
    """The listener's imports, newest first, without the uploaded bytes."""
    return ListenImport.objects.filter(user=user).defer("data").order_by("-created_at", "-id")


def listen_import_get(*, user: User, import_id: int) -> ListenImport:
    """One of the listener's imports; another listener's id is "not found"."""
    listen_import = listen_import_list(user=user).filter(pk=import_id).first()
    if listen_import is None:
        raise ApplicationError("No import with this id.", code="not_found", status=404)
    return listen_import


def listen_import_offered_tracks(
    *, user: User, listen_import: ListenImport
) -> list[tuple[Track, bool]]:
    """The offered tracks in offer order (most played first), each with whether it is in the
    listener's history now (it may have been added since the import ran)."""
    ids = list(listen_import.offered_track_ids or [])
    if not ids:
        return []
    tracks = Track.objects.prefetch_related(
        Prefetch(
            "track_artists",
            queryset=TrackArtist.objects.select_related("artist").order_by("position"),
        )
    ).in_bulk(ids)
    in_history = set(
        HistoryEntry.objects.filter(user=user, track_id__in=ids).values_list("track_id", flat=True)
    )
    return [(tracks[track_id], track_id in in_history) for track_id in ids if track_id in tracks]


def track_artist_names(track: Track) -> list[str]:
    return [credit.artist.name for credit in track.track_artists.all()]
