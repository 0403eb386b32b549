"""Listeners' playlists in the admin: browse and read; delete, nothing else.

Curators look here to answer a listener's question or to take down a public playlist that
should not be public (an offensive name, say): they see every playlist with its owner, how it
was made, whether it is public and its totals, and its tracks in order. A playlist is the
listener's own work, and every change goes through ``playlists.services`` (the API and the
pages), which keep the order, the limits and the interactions right, so the admin adds and
changes nothing, whatever permissions a user holds — as the history's admin treats listening
data. Deleting stays possible with the model's ``delete`` permission (the whole playlist, never
one of its entries); seeing the pages needs its ``view`` permission (superusers have both;
give curators a group with them).

The list runs a constant number of queries whatever the page size (the owner joined, the
totals annotated); a playlist's page shows its entries in one query, numbered in rank order.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, F, Model, Prefetch, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, RowNumber
from django.http import HttpRequest

from catalog.models import TrackArtist
from playlists.models import Playlist, PlaylistTrack


def _duration(ms: int | None) -> str:
    seconds = (ms or 0) // 1000
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class PlaylistTrackInline(admin.TabularInline):
    """The playlist's tracks in order, read-only."""

    model = PlaylistTrack
    fields = ("position", "track", "track_artists", "added_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlaylistTrack]:
        credits = TrackArtist.objects.select_related("artist").order_by("position")
        return (
            super()
            .get_queryset(request)
            .select_related("track")
            .prefetch_related(Prefetch("track__track_artists", queryset=credits))
            .annotate(
                place=Window(RowNumber(), partition_by=[F("playlist_id")], order_by=F("rank").asc())
            )
            .order_by("rank")
        )

    @admin.display(description="#")
    def position(self, entry: PlaylistTrack) -> int:
        return int(getattr(entry, "place", 0))

    @admin.display(description="artists")
    def track_artists(self, entry: PlaylistTrack) -> str:
        return entry.track.artist_names

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # the entries are part of the playlist: whoever may view it sees them
        return request.user.has_perm("playlists.view_playlist")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "origin",
        "is_public",
        "tracks",
        "duration",
        "updated_at",
    )
    list_filter = ("origin", "is_public", ("updated_at", admin.DateFieldListFilter))
    list_select_related = ("owner",)
    search_fields = ("name", "owner__username")
    search_help_text = "Part of the playlist's name or of its owner's username."
    ordering = ("-updated_at", "-id")
    list_per_page = 50
    fields = (
        "name",
        "owner",
        "description",
        ("is_public", "origin"),
        "origin_parameters",
        ("tracks", "duration"),
        ("created_at", "updated_at"),
    )
    readonly_fields = (
        "name",
        "owner",
        "description",
        "is_public",
        "origin",
        "origin_parameters",
        "tracks",
        "duration",
        "created_at",
        "updated_at",
    )
    inlines = [PlaylistTrackInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Playlist]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                entry_count=Count("entries"),
                total_ms=Coalesce(Sum("entries__track__duration_ms"), 0),
            )
        )

    @admin.display(description="tracks", ordering="entry_count")
    def tracks(self, playlist: Any) -> int:
        return int(playlist.entry_count)

    @admin.display(description="duration", ordering="total_ms")
    def duration(self, playlist: Any) -> str:
        return _duration(playlist.total_ms)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
