"""The catalog admin: what curators use to search, edit, import and export the catalog.

Kept thin: writes go through ``catalog.services`` (the CSV import is the same service as
``manage.py import_catalog``, see ``catalog.resources``), and every list runs a constant number
of queries whatever the page size.

A track's search document is derived from its title, credits, album and genres, so it is rebuilt
after a track is saved and after an artist, album or genre is renamed or deleted.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR
from django.contrib.postgres.fields import ArrayField
from django.core.files.uploadedfile import UploadedFile
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import Result

from catalog.models import KEY_NAMES, Album, Artist, Genre, Track, TrackArtist
from catalog.resources import CatalogImportResult, TrackResource
from catalog.selectors import search_words_corrected, track_search_ranked_ids
from catalog.services.search_documents import (
    track_search_index_update,
)
from catalog.tmp_storage import UploadMissingError
from musicrec import registry
from musicrec.errors import ApplicationError

IMPORT_FORMATS = [CSV]
SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}")


# --------------------------------------------------------------------------- helpers


def _count_of(model: type[Model], field: str) -> Coalesce:
    """A per-row count as a correlated subquery.

    Unlike ``annotate(Count(...))`` it needs no GROUP BY over the whole table, and PostgreSQL
    evaluates it only for the rows of the page (the autocomplete views share the queryset).
    """
    counts = (
        model._default_manager.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def format_duration(ms: int | None) -> str:
    """``215000`` → ``3:35`` (``1:02:03`` past an hour)."""
    if ms is None:
        return ""
    minutes, seconds = divmod(ms // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _tracks(count: int) -> str:
    return f"{count} track" if count == 1 else f"{count} tracks"


def _position_in(ids: list[int]) -> Func:
    """The 1-based position of the row's id in ``ids`` (NULL when absent)."""
    return Func(
        Value(ids, output_field=ArrayField(BigIntegerField())),
        F("pk"),
        function="array_position",
        output_field=IntegerField(),
    )


class ReleaseDecadeFilter(admin.SimpleListFilter):
    """Decades present in ``release_year`` (a list of single years would run to a hundred)."""

    title = "release decade"
    parameter_name = "decade"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        span = model_admin.model._default_manager.aggregate(
            first=Min("release_year"), last=Max("release_year")
        )
        if span["first"] is None:
            return []
        decades = range(span["first"] // 10 * 10, span["last"] // 10 * 10 + 1, 10)
        return [(str(decade), f"{decade}s") for decade in reversed(decades)] + [
            ("unknown", "unknown")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "unknown":
            return queryset.filter(release_year__isnull=True)
        if value and value.isdigit() and len(value) == 4:
            decade = int(value)
            return queryset.filter(release_year__gte=decade, release_year__lt=decade + 10)
        return queryset


class KeyFilter(admin.SimpleListFilter):
    """Keys by pitch name rather than the pitch class (0 to 11) stored."""

    title = "key"
    parameter_name = "key"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(pitch), name) for pitch, name in enumerate(KEY_NAMES)] + [
            ("-1", "no key detected")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value in {str(pitch) for pitch in range(-1, len(KEY_NAMES))}:
            return queryset.filter(key=int(value))
        return queryset


class TrackSearchRefreshMixin:
    """Rebuild the search documents of the tracks an artist, album or genre belongs to.

    The documents hold the artist, album and genre names, so a rename or a deletion here would
    otherwise leave search finding tracks under the old name.
    """

    track_relation: str  # the Track field that points at this admin's model

    def _track_ids(self, objects: QuerySet | list[Any]) -> list[int]:
        tracks = Track.objects.filter(**{f"{self.track_relation}__in": objects})
        return list(tracks.order_by().values_list("pk", flat=True).distinct())

    def save_model(
        self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        if change and "name" in form.changed_data:
            track_search_index_update(track_ids=self._track_ids([obj.pk]))

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        track_ids = self._track_ids([obj.pk])
        super().delete_model(request, obj)  # type: ignore[misc]
        track_search_index_update(track_ids=track_ids)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        track_ids = self._track_ids(queryset.values("pk"))
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        track_search_index_update(track_ids=track_ids)


# --------------------------------------------------------------------------- genre, artist, album


@admin.register(Genre)
class GenreAdmin(TrackSearchRefreshMixin, admin.ModelAdmin):
    track_relation = "genres"
    list_display = ("name", "slug", "track_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Genre]:
        return (
            super()
            .get_queryset(request)
            .annotate(track_count=_count_of(Track.genres.through, "genre"))
        )

    @admin.display(description="tracks", ordering="track_count")
    def track_count(self, obj: Genre) -> int:
        return obj.track_count  # type: ignore[attr-defined]


@admin.register(Artist)
class ArtistAdmin(TrackSearchRefreshMixin, admin.ModelAdmin):
    track_relation = "artists"
    list_display = ("name", "track_count", "created_at")
    search_fields = ("name",)
    search_help_text = "Part of the name; misspelt words are corrected (beatels → The Beatles)."
    ordering = ("name",)
    readonly_fields = ("created_at",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Artist]:
        return super().get_queryset(request).annotate(track_count=_count_of(TrackArtist, "artist"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Artist], search_term: str
    ) -> tuple[QuerySet[Artist], bool]:
        """Names containing the term (as before), or containing every word of it as the catalog
        search corrects it. Used by the changelist and by the artist autocompletes alike."""
        matches, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        words = search_words_corrected(query=search_term)
        if not words or " ".join(words) == " ".join(search_term.lower().split()):
            return matches, may_have_duplicates
        corrected = queryset.filter(*(Q(name__unaccent__icontains=word) for word in words))
        combined = queryset.filter(
            Q(pk__in=matches.values("pk")) | Q(pk__in=corrected.values("pk"))
        )
        return combined, False

    @admin.display(description="tracks", ordering="track_count")
    def track_count(self, obj: Artist) -> int:
        return obj.track_count  # type: ignore[attr-defined]


@admin.register(Album)
class AlbumAdmin(TrackSearchRefreshMixin, admin.ModelAdmin):
    track_relation = "album"
    list_display = ("name", "primary_artist", "release_year", "track_count")
    list_filter = (ReleaseDecadeFilter,)
    list_select_related = ("primary_artist",)
    search_fields = ("name", "primary_artist__name")
    search_help_text = "Album or primary artist name."
    autocomplete_fields = ("primary_artist",)
    ordering = ("name", "id")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Album]:
        # str(album) names the primary artist: the autocomplete list needs the join too.
        return (
            super()
            .get_queryset(request)
            .select_related("primary_artist")
            .annotate(track_count=_count_of(Track, "album"))
        )

    @admin.display(description="tracks", ordering="track_count")
    def track_count(self, obj: Album) -> int:
        return obj.track_count  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- track


class TrackArtistInline(admin.TabularInline):
    model = TrackArtist
    fields = ("position", "artist")
    autocomplete_fields = ("artist",)
    ordering = ("position",)
    min_num = 1
    extra = 0
    verbose_name = "artist credit"
    verbose_name_plural = "artists (position 0 is the primary artist)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrackArtist]:
        return super().get_queryset(request).select_related("artist")

    def get_formset(self, request: HttpRequest, obj: Track | None = None, **kwargs: Any) -> Any:
        # min_num alone only shows an empty form; a track must keep at least one credit.
        kwargs.setdefault("validate_min", True)
        return super().get_formset(request, obj, **kwargs)


class CatalogImportForm(ImportForm):
    """The upload form, refusing files larger than ``CATALOG_UPLOAD_MAX_BYTES``.

    The whole file is held in memory and in one database row while previewed; the catalog-sized
    files go through ``manage.py import_catalog``, which streams.
    """

    def clean_import_file(self) -> UploadedFile:
        upload = self.cleaned_data["import_file"]
        limit = settings.CATALOG_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the admin imports up to "
                f"{filesizeformat(limit)}. Use `manage.py import_catalog` for larger files."
            )
        return upload


class CatalogConfirmImportForm(ConfirmImportForm):
    """The confirm form, with its indexes checked so that a tampered value is a form error."""

    format = forms.ChoiceField(
        choices=[(str(index), fmt().get_title()) for index, fmt in enumerate(IMPORT_FORMATS)],
        widget=forms.HiddenInput(),
    )
    resource = forms.ChoiceField(
        choices=[("0", TrackResource.get_display_name())],
        required=False,
        widget=forms.HiddenInput(),
    )


@admin.register(Track)
class TrackAdmin(ImportExportModelAdmin):
    list_display = (
        "title",
        "artists_column",
        "album_column",
        "popularity",
        "explicit",
        "duration",
        "spotify_link",
    )
    list_select_related = ("album",)
    list_filter = ("explicit", "genres", ReleaseDecadeFilter, "mode", KeyFilter)
    search_fields = ("title", "=spotify_id", "artists__name", "album__name")
    search_help_text = (
        "Title, artist, album or genre, typo-tolerant and best match first (as the site's "
        "search), plus every title, artist or album name containing the text, or an exact "
        "Spotify id."
    )
    ordering = ("-popularity", "id")
    list_per_page = 50
    # The exact total of a filtered 100k-row table is a second full COUNT on every page.
    show_full_result_count = False
    autocomplete_fields = ("album", "genres")
    inlines = (TrackArtistInline,)
    readonly_fields = ("search_document", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("title", "spotify_id", "album", "genres")}),
        ("Details", {"fields": (("duration_ms", "popularity"), ("explicit", "release_year"))}),
        (
            "Audio features",
            {
                "description": "As measured by Spotify; empty when unknown. The unit features "
                "run from 0 to 1.",
                "fields": (
                    ("danceability", "energy", "valence"),
                    ("acousticness", "instrumentalness", "speechiness"),
                    "liveness",
                    ("tempo", "loudness"),
                    ("key", "mode", "time_signature"),
                ),
            },
        ),
        (
            "Search",
            {
                "classes": ("collapse",),
                "fields": ("search_document", "created_at", "updated_at"),
            },
        ),
    )
    actions = ("recompute_search_documents",)

    # CSV import / export (django-import-export), through the catalog import service.
    resource_classes = [TrackResource]
    formats = IMPORT_FORMATS
    import_form_class = CatalogImportForm
    confirm_form_class = CatalogConfirmImportForm
    # Every reason of every rejected row in plain view (the stock page lists them in a tooltip).
    import_template_name = "admin/catalog/track/import.html"
    # The service writes in bulk SQL; a LogEntry per row would cost as much as the import.
    skip_admin_log = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Track]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "track_artists",
                    queryset=TrackArtist.objects.select_related("artist").order_by("position"),
                )
            )
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Track], search_term: str
    ) -> tuple[QuerySet[Track], bool]:
        """The catalog search's ranked, typo-tolerant matches ("beatels" finds The Beatles) first,
        then the plain substring matches of ``search_fields`` (which also find part of a word
        and an exact Spotify id). A chosen column order (``?o=``) wins over the ranking. Used by
        the changelist, the export of a search and any autocomplete of tracks."""
        matches, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if SPOTIFY_ID.fullmatch(search_term.strip()):  # an exact id: that track, nothing fuzzy
            return matches, may_have_duplicates
        try:
            ranked = [track_id for track_id, _ in track_search_ranked_ids(query=search_term)]
        except ApplicationError:  # empty, one character or too long: substring search only
            return matches, may_have_duplicates
        if not ranked:
            return matches, may_have_duplicates
        ordering = queryset.query.order_by
        combined = queryset.filter(Q(pk__in=ranked) | Q(pk__in=matches.values("pk"))).annotate(
            search_rank=_position_in(ranked)
        )
        if ORDER_VAR not in request.GET:
            combined = combined.order_by(F("search_rank").asc(nulls_last=True), *ordering)
        return combined, False

    @admin.display(description="artists")
    def artists_column(self, obj: Track) -> str:
        return obj.artist_names

    @admin.display(description="album", ordering="album__name")
    def album_column(self, obj: Track) -> str | None:
        return obj.album.name if obj.album else None

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, obj: Track) -> str:
        return format_duration(obj.duration_ms)

    @admin.display(description="Spotify id", ordering="spotify_id")
    def spotify_link(self, obj: Track) -> str:
        if not obj.spotify_id:
            return ""
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
            obj.spotify_url,
            obj.spotify_id,
        )

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        """Credits and genres are saved here, after the track: only now is the document known."""
        super().save_related(request, form, formsets, change)
        track_search_index_update(track_ids=[form.instance.pk])

    @admin.action(
        description="Recompute search documents for the selected tracks", permissions=["change"]
    )
    def recompute_search_documents(self, request: HttpRequest, queryset: QuerySet[Track]) -> None:
        track_ids = list(queryset.prefetch_related(None).values_list("pk", flat=True))
        changed = track_search_index_update(track_ids=track_ids)
        self.message_user(
            request,
            f"Search documents recomputed for {len(track_ids)} tracks; {changed} had changed.",
            messages.SUCCESS,
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """The admin's own actions, then those higher layers add through
        ``musicrec.registry.track_admin_actions`` (the recommender's "Recompute embeddings"),
        each shown only to a curator with the permissions it declares."""
        actions = super().get_actions(request)
        if self.actions is None or "_popup" in request.GET:  # as Django hides its own
            return actions
        for name, action in registry.track_admin_actions.items():
            permissions = getattr(action, "allowed_permissions", ())
            if all(getattr(self, f"has_{p}_permission")(request) for p in permissions):
                description = getattr(action, "short_description", name.replace("_", " "))
                actions[name] = (action, name, description)
        return actions

    # ------------------------------------------------------------------ import steps

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        """An admin import is all or nothing: what the preview showed is what gets imported."""
        data_kwargs = super().get_import_data_kwargs(**kwargs)
        data_kwargs["rollback_on_validation_errors"] = True
        return data_kwargs

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """The preview step; adds a summary of the dry run above the per-row table."""
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result = context.get("result")
        if isinstance(result, CatalogImportResult) and result.summary is not None:
            self._preview_message(request, result)
        if not context.get("confirm_form"):
            # Nothing to confirm: the stored upload would only wait for the daily purge.
            upload = getattr(context.get("form"), "cleaned_data", {}).get("import_file")
            name = getattr(upload, "tmp_storage_name", None)
            if name:
                self.get_tmp_storage_class()(name=name).remove()
        return response

    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """The confirm step; a second click, or a preview older than a day, finds no upload."""
        try:
            return super().process_import(request, **kwargs)
        except UploadMissingError:
            messages.error(
                request,
                "This upload is no longer available: it was already imported, or its preview "
                "is more than a day old. Please upload the file again.",
            )
            return HttpResponseRedirect(reverse("admin:catalog_track_import"))

    def add_success_message(self, result: Result, request: HttpRequest) -> None:
        """Report in tracks, as the management command does, and never claim a failed import."""
        summary = getattr(result, "summary", None)
        if result.has_errors() or summary is None:
            problems = "; ".join(str(error.error) for error in result.base_errors)
            messages.error(request, f"Nothing was imported: {problems or 'the import failed'}.")
            return
        if summary.rejected:
            messages.error(
                request,
                f"Nothing was imported: {summary.rejected_count} rows were rejected "
                f"(first: row {summary.rejected[0].row}, {summary.rejected[0].reason}).",
            )
            return
        messages.success(
            request,
            f"Import finished: {_tracks(summary.created)} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged ({summary.genres_created} new genres, "
            f"{summary.artists_created} new artists, {summary.albums_created} new albums).",
        )

    def _preview_message(self, request: HttpRequest, result: CatalogImportResult) -> None:
        summary = result.summary
        assert summary is not None
        outcome = (
            f"{_tracks(summary.created)} to create, {summary.updated} to update and "
            f"{summary.unchanged} unchanged"
        )
        not_listed = (
            f" Only the first rows are listed below; {result.rows_not_listed} more are not."
            if result.rows_not_listed
            else ""
        )
        if summary.rejected:
            messages.warning(
                request,
                f"Nothing can be imported yet: {summary.rejected_count} of the "
                f"{summary.rows_read} rows cannot be imported (reasons below). Fix them and upload "
                f"the file again; the other rows would give {outcome}.{not_listed}",
            )
        else:
            messages.info(
                request,
                f"Preview: {outcome}, from {summary.rows_read} rows. Nothing is saved until you "
                f"confirm.{not_listed}",
            )
