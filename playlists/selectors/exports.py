"""The playlists app's part of a listener's data export (registered in
``PlaylistsConfig.ready``): every playlist of theirs, public or private, with its tracks in
order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection

from accounts.models import User
from catalog.models import TrackArtist
from playlists.models import Playlist, PlaylistTrack

# Playlists read at a time, each batch three queries (the playlists, their entries with the
# tracks' titles, the tracks' artists): a listener's 500 playlists of 500 tracks are streamed a
# batch at a time (~12,500 entries held at most), never built whole in memory.
EXPORT_BATCH_SIZE = 25


def _release_connection() -> None:
    """Between batches, hand the connection back (to the pool), as the history's export does:
    a client that reads slowly must not hold a connection for the whole download. Not inside a
    transaction (tests), which a close would break."""
    if not connection.in_atomic_block:
        connection.close()


def _artists(track_ids: set[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    credits = (
        TrackArtist.objects.filter(track_id__in=track_ids)
        .order_by("track_id", "position")
        .values_list("track_id", "artist__name")
    )
    for track_id, name in credits:
        names.setdefault(track_id, []).append(name)
    return names


def _playlists(user: User) -> Iterator[dict[str, Any]]:
    fields = (
        "id", "name", "description", "is_public", "origin", "origin_parameters", "created_at",
        "updated_at",
    )  # fmt: skip
    after = 0
    while True:
        batch = list(
            Playlist.objects.filter(owner=user, pk__gt=after)
            .order_by("pk")
            .values(*fields)[:EXPORT_BATCH_SIZE]
        )
        if not batch:
            return
        entries: dict[int, list[tuple[int, str, Any]]] = {}
        rows = (
            PlaylistTrack.objects.filter(playlist_id__in=[p["id"] for p in batch])
            .order_by("playlist_id", "rank")
            .values_list("playlist_id", "track_id", "track__title", "added_at")
        )
        for playlist_id, track_id, title, added_at in rows:
            entries.setdefault(playlist_id, []).append((track_id, title, added_at))
        artists = _artists({t for items in entries.values() for t, _, _ in items})
        _release_connection()
        for playlist in batch:
            yield {
                **playlist,
                "origin_parameters": dict(playlist["origin_parameters"] or {}),
                "created_at": playlist["created_at"].isoformat(),
                "updated_at": playlist["updated_at"].isoformat(),
                "tracks": [
                    {
                        "position": position,
                        "track_id": track_id,
                        "title": title,
                        "artists": artists.get(track_id, []),
                        "added_at": added_at.isoformat(),
                    }
                    for position, (track_id, title, added_at) in enumerate(
                        entries.get(playlist["id"], []), start=1
                    )
                ],
            }
        if len(batch) < EXPORT_BATCH_SIZE:
            return
        after = batch[-1]["id"]


def listener_playlists_export(user: User) -> dict[str, Any]:
    """``playlists``: every playlist of the listener's (oldest first), each with its tracks in
    order (position, id, title, artists, when added); streamed."""
    return {"playlists": _playlists(user)}
