from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from catalog.models import FEATURE_RANGES, Track


class TrackFilter(django_filters.FilterSet):
    """Filters of ``/api/v1/tracks/``. Ranges are ``<name>_min`` / ``<name>_max``."""

    genre = django_filters.CharFilter(
        method="filter_genre", help_text="genre slug or id; repeat or comma-separate for any of"
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

    def filter_genre(self, queryset: QuerySet[Track], name: str, value: str) -> QuerySet[Track]:
        condition = Q()
        for part in (p.strip() for p in value.split(",")):
            if part.isdigit():
                condition |= Q(genres__id=int(part))
            elif part:
                condition |= Q(genres__slug=part)
        return queryset.filter(condition).distinct() if condition else queryset


for _name in FEATURE_RANGES:
    TrackFilter.base_filters[_name] = django_filters.RangeFilter(field_name=_name)
