"""Filters of ``GET /api/v1/tracks/``: each parameter accepts exactly what its schema says
(``musicrec.api.filters``), and states that schema for the API docs."""

from __future__ import annotations

import re
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
from catalog.selectors import GENRE_SLUG_MAX_LENGTH, genres_resolve
from musicrec.api.filters import (
    EnumFilter,
    IntegerFilter,
    NumberFilter,
    StrictFilterSet,
    TextFilter,
)
from musicrec.api.schema_params import PYTHON_WHITESPACE
from musicrec.errors import ApplicationError

MAX_GENRES = 50
# A genre reference: an id or a slug (slugs are ASCII letters, digits, - and _), with blanks
# around it if the client likes ("rock, 12"), at most as long as a slug.
GENRE_REFERENCE_PATTERN = f"^[{PYTHON_WHITESPACE}]*[-a-zA-Z0-9_]+[{PYTHON_WHITESPACE}]*$"
GENRE_REFERENCE = re.compile(GENRE_REFERENCE_PATTERN)


def genre_reference(text: str) -> str | None:
    """The id or slug a reference names (blanks around it dropped), or None when it cannot
    name a genre (the schema's pattern and maxLength)."""
    if len(text) > GENRE_SLUG_MAX_LENGTH or not GENRE_REFERENCE.fullmatch(text):
        return None
    return text.strip()


# Each becomes ``<name>_min`` and ``<name>_max``: (model field, lowest, highest value).
RANGES: dict[str, tuple[str, float, float]] = {
    "year": ("release_year", *RELEASE_YEAR_RANGE),
    "popularity": ("popularity", *POPULARITY_RANGE),
    "duration_ms": ("duration_ms", 0, MAX_DURATION_MS),
    **{name: (name, low, high) for name, (low, high) in FEATURE_RANGES.items()},
}


def genre_reference_schema() -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": GENRE_REFERENCE_PATTERN,
        "maxLength": GENRE_SLUG_MAX_LENGTH,
    }


class GenreReferencesFormField(forms.CharField):
    """Comma-separated genre ids or slugs (1–50) → the references, in order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strip=False, **kwargs)

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value)
        if not text:
            return []
        parts = text.split(",")
        if len(parts) > MAX_GENRES:
            raise forms.ValidationError(f"At most {MAX_GENRES} genres.", code="too_many")
        references = []
        for part in parts:
            reference = genre_reference(part)
            if reference is None:
                raise forms.ValidationError(
                    "%(part)r is not a genre id or slug: give genre ids or slugs, "
                    "comma-separated (see /api/v1/genres/).",
                    code="invalid_genre_reference",
                    params={"part": part[:GENRE_SLUG_MAX_LENGTH]},
                )
            references.append(reference)
        return references


class RepeatedAsCommaSeparated(forms.TextInput):
    """``?genre=rock&genre=12`` reads as ``?genre=rock,12`` (a client may send a list either
    way; the schema documents the comma-separated one)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if hasattr(data, "getlist") and name in data:
            return ",".join(data.getlist(name))
        return super().value_from_datadict(data, files, name)


class GenreReferencesFilter(django_filters.Filter):
    field_class = GenreReferencesFormField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", RepeatedAsCommaSeparated)
        super().__init__(*args, **kwargs)

    def openapi_schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": genre_reference_schema(),
            "minItems": 1,
            "maxItems": MAX_GENRES,
        }


def _range_filters(name: str, field: str, low: float, high: float) -> dict[str, Any]:
    """``<name>_min`` and ``<name>_max``: each its own parameter, so an error is keyed by it."""
    whole = isinstance(low, int) and isinstance(high, int)
    filter_class = IntegerFilter if whole else NumberFilter
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


class TrackFilter(StrictFilterSet):
    """Filters of ``/api/v1/tracks/``. Ranges are ``<name>_min`` / ``<name>_max``."""

    genre = GenreReferencesFilter(
        method="filter_genre",
        help_text="Genre ids or slugs, comma-separated: tracks of any of them. A genre that "
        "does not exist is a 404.",
    )
    artist = IntegerFilter(
        field_name="track_artists__artist", min_value=1, max_value=ID_MAX, help_text="artist id"
    )
    album = IntegerFilter(field_name="album", min_value=1, max_value=ID_MAX, help_text="album id")
    explicit = EnumFilter(
        choices=[("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")],
        coerce=lambda value: value in ("true", "1"),
        help_text="true (or 1): explicit tracks only; false (or 0): none of them",
    )
    spotify_id = TextFilter(help_text="the track's Spotify id (exact)")

    class Meta:
        model = Track
        fields: list[str] = []

    def filter_genre(
        self, queryset: QuerySet[Track], name: str, value: list[str]
    ) -> QuerySet[Track]:
        if not value:
            return queryset
        resolved = genres_resolve(references=value)
        if resolved.unknown:
            raise ApplicationError(
                f"Unknown genre(s): {', '.join(resolved.unknown)}. "
                "Use genre ids or slugs (see /api/v1/genres/).",
                code="unknown_genre",
                status=404,
                extra={"parameter": "genre", "unknown": resolved.unknown},
            )
        genres: list[Genre] = resolved.genres
        return queryset.filter(genres__in=genres).distinct()


for _name, _range in RANGES.items():
    TrackFilter.base_filters.update(_range_filters(_name, *_range))
