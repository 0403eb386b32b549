"""Listening histories, interactions, opinions and listening-data imports in the admin: read-only.

Curators look here to answer a listener's question or to see what the recommender learns from;
every change goes through ``history`` services (the API and the pages), which keep the 50-slot
limit, the opinions and the import counts right, so the admin adds, changes and deletes nothing,
whatever permissions a user holds. Seeing these pages needs the model's ``view`` permission
(superusers have it; give curators a group with it): listening data is personal.

Every list runs a constant number of queries whatever the page size (``list_select_related``
plus one prefetch of the tracks' artists), and an import's uploaded bytes (``data``, up to 50 MB)
are never loaded, let alone shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, Prefetch, QuerySet
from django.http import HttpRequest

from catalog.models import Track, TrackArtist
from history.models import HistoryEntry, Interaction, ListenImport, Opinion


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete in the admin, for anyone; viewing needs the view permission."""

    list_per_page = 50
    show_full_result_count = False  # the interaction log is large: no second COUNT per page

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class TrackColumnsMixin:
    """The track's title and artists as list columns, the artists in one prefetch."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        credits = TrackArtist.objects.select_related("artist").order_by("position")
        return (
            super()  # type: ignore[misc]
            .get_queryset(request)
            .prefetch_related(Prefetch("track__track_artists", queryset=credits))
        )

    @admin.display(description="track", ordering="track__title")
    def track_title(self, obj: Any) -> str:
        track: Track = obj.track
        return track.title

    @admin.display(description="artists")
    def track_artists(self, obj: Any) -> str:
        track: Track = obj.track
        return track.artist_names


SEARCH_HELP = "Part of the listener's username or of the track title."


@admin.register(HistoryEntry)
class HistoryEntryAdmin(TrackColumnsMixin, ReadOnlyAdmin):
    list_display = ("user", "slot", "track_title", "track_artists", "added_at")
    list_filter = (("added_at", admin.DateFieldListFilter),)
    list_select_related = ("user", "track")
    search_fields = ("user__username", "track__title")
    search_help_text = SEARCH_HELP
    ordering = ("-added_at", "-id")
    fields = ("user", "slot", "track", "added_at")


@admin.register(Interaction)
class InteractionAdmin(TrackColumnsMixin, ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "user",
        "kind",
        "track_title",
        "track_artists",
        "listened_ms",
        "mood",
        "activity",
        "recorded_at",
        "listen_import",
    )
    list_filter = (
        "kind",
        ("occurred_at", admin.DateFieldListFilter),
        ("recorded_at", admin.DateFieldListFilter),
        "mood",
        "activity",
        ("listen_import", admin.EmptyFieldListFilter),
    )
    list_select_related = ("user", "track", "listen_import", "listen_import__user")
    search_fields = ("user__username", "track__title")
    search_help_text = SEARCH_HELP
    ordering = ("-occurred_at", "-id")
    fields = (
        "user",
        "track",
        "kind",
        ("occurred_at", "recorded_at"),
        "listened_ms",
        ("mood", "activity"),
        "listen_import",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Interaction]:
        # The import is shown by its name only: never load its uploaded bytes.
        return super().get_queryset(request).defer("listen_import__data")


@admin.register(Opinion)
class OpinionAdmin(TrackColumnsMixin, ReadOnlyAdmin):
    list_display = ("user", "value", "track_title", "track_artists", "updated_at")
    list_filter = ("value", ("updated_at", admin.DateFieldListFilter))
    list_select_related = ("user", "track")
    search_fields = ("user__username", "track__title")
    search_help_text = SEARCH_HELP
    ordering = ("-updated_at", "-id")
    fields = ("user", "track", "value", "updated_at")


@admin.register(ListenImport)
class ListenImportAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "user",
        "format",
        "file_name",
        "status",
        "progress",
        "listens",
        "matched",
        "unmatched",
        "created",
        "duplicates",
        "attempts",
        "finished_at",
    )
    list_filter = (
        "status",
        "format",
        ("created_at", admin.DateFieldListFilter),
        ("finished_at", admin.DateFieldListFilter),
    )
    list_select_related = ("user",)
    search_fields = ("user__username", "file_name")
    search_help_text = "Part of the listener's username or of the file name."
    ordering = ("-created_at", "-id")
    # Never ``data``: the uploaded file (personal listening data, up to 50 MB).
    fields = (
        "user",
        ("format", "file_name", "file_size"),
        ("status", "progress", "attempts"),
        ("listens", "skipped", "matched", "unmatched", "created", "duplicates"),
        "top_unmatched",
        "offered_track_ids",
        "error",
        ("created_at", "started_at", "finished_at"),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ListenImport]:
        return super().get_queryset(request).defer("data")
