from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from catalog.models import (
    FEATURE_RANGES,
    ID_MAX,
    MAX_DURATION_MS,
    POPULARITY_RANGE,
    RELEASE_YEAR_RANGE,
    Genre,
    Track,
)
from catalog.selectors import genres_resolve

MAX_GENRES = 50
# Each becomes ``<name>_min`` and ``<name>_max``: (model field, lowest, highest value).
RANGES: dict[str, tuple[str, float, float]] = {
    "year": ("release_year", *RELEASE_YEAR_RANGE),
    "popularity": ("popularity", *POPULARITY_RANGE),
    "duration_ms": ("duration_ms", 0, MAX_DURATION_MS),
    **{name: (name, low, high) for name, (low, high) in FEATURE_RANGES.items()},
}


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


class IntegerFilter(django_filters.Filter):
    """A whole number; ``min_value`` / ``max_value`` bound it (django-filter's NumberFilter
    takes any decimal, even 1e999, which the database then cannot compare)."""

    field_class = forms.IntegerField


class FloatFilter(django_filters.Filter):
    """A finite number (``inf`` and ``nan`` are refused by the form field), bounded."""

    field_class = forms.FloatField


def _range_filters(name: str, field: str, low: float, high: float) -> dict[str, Any]:
    """``<name>_min`` and ``<name>_max``: each its own parameter, so an error is keyed by it."""
    whole = isinstance(low, int) and isinstance(high, int)
    filter_class = IntegerFilter if whole else FloatFilter
    return {
        f"{name}_{end}": filter_class(
            field_name=field,
            lookup_expr=lookup,
            min_value=low,
            max_value=high,
            help_text=f"{'at least' if end == 'min' else 'at most'} this "
            f"({'whole number ' if whole else ''}{low}–{high})",
        )
        for end, lookup in (("min", "gte"), ("max", "lte"))
    }


class TrackFilter(django_filters.FilterSet):
    """Filters of ``/api/v1/tracks/``. Ranges are ``<name>_min`` / ``<name>_max``."""

    genre = GenreReferencesFilter(
        method="filter_genre", help_text="genre slugs or ids, comma-separated: any of them"
    )
    artist = IntegerFilter(
        field_name="track_artists__artist", min_value=1, max_value=ID_MAX, help_text="artist id"
    )
    album = IntegerFilter(field_name="album", min_value=1, max_value=ID_MAX, help_text="album id")
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


for _name, _range in RANGES.items():
    TrackFilter.base_filters.update(_range_filters(_name, *_range))
