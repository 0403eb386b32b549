from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from catalog.models import FEATURE_RANGES, Genre, Track
from catalog.selectors import genres_resolve

MAX_GENRES = 50


class GenreReferencesFormField(forms.CharField):
    """Comma-separated genre ids or slugs → the genres (an unknown one is an error)."""

    def clean(self, value: Any) -> list[Genre]:
        text = super().clean(value)
        if not text:
            return []
        references = [part for part in (p.strip() for p in text.split(",")) if part]
        if len(references) > MAX_GENRES:
            raise forms.ValidationError(f"At most {MAX_GENRES} genres.", code="too_many")
        resolved = genres_resolve(references=references)
        if resolved.unknown:
            raise forms.ValidationError(
                "Unknown genre(s): %(names)s. Use genre ids or slugs (see /api/v1/genres/).",
                code="unknown_genre",
                params={"names": ", ".join(resolved.unknown)},
            )
        return resolved.genres


class GenreReferencesFilter(django_filters.Filter):
    field_class = GenreReferencesFormField


class TrackFilter(django_filters.FilterSet):
    """Filters of ``/api/v1/tracks/``. Ranges are ``<name>_min`` / ``<name>_max``."""

    genre = GenreReferencesFilter(
        method="filter_genre", help_text="genre slugs or ids, comma-separated: any of them"
    )
    artist = django_filters.NumberFilter(field_name="track_artists__artist", help_text="artist id")
    album = django_filters.NumberFilter(field_name="album")
    year = django_filters.RangeFilter(field_name="release_year")
    popularity = django_filters.RangeFilter()
    duration_ms = django_filters.RangeFilter()
    explicit = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")],
        coerce=lambda value: value in ("true", "1"),
        help_text="true or false",
    )
    spotify_id = django_filters.CharFilter()

    class Meta:
        model = Track
        fields: list[str] = []

    def filter_genre(
        self, queryset: QuerySet[Track], name: str, value: list[Genre]
    ) -> QuerySet[Track]:
        return queryset.filter(genres__in=value).distinct() if value else queryset


for _name in FEATURE_RANGES:
    TrackFilter.base_filters[_name] = django_filters.RangeFilter(field_name=_name)
