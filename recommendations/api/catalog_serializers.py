"""Serializers of the recommender's catalog-side endpoints: trending, similar tracks, stats.

Query serializers parse exactly what the schema states (``n`` an ASCII whole number in its
bounds, ``genre`` an id or slug); response serializers are read-only and describe the body
(every key they always send is required; a key only staff get is not).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.api.filters import genre_reference
from catalog.api.serializers import GenreRefSerializer, TrackSerializer
from catalog.selectors import genres_resolve
from musicrec.api.filters import parse_integer


def _bounded(value: str, *, most: int) -> int:
    number = parse_integer(value.strip())
    if number is None or not 1 <= number <= most:
        raise serializers.ValidationError(f"A whole number from 1 to {most}.", code="invalid")
    return number


class QuerySerializer(serializers.Serializer):
    """Reads a query string as a plain dict: an empty value (``?n=``) is then refused as
    empty, not read as missing."""

    @classmethod
    def from_query(cls, query: Any) -> QuerySerializer:
        return cls(data={name: query[name] for name in cls().fields if name in query})


class TrendingQuerySerializer(QuerySerializer):
    n = serializers.CharField(required=False)
    genre = serializers.CharField(required=False, trim_whitespace=False)

    def __init__(self, *args: Any, most: int = 100, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.most = most

    def validate_n(self, value: str) -> int:
        return _bounded(value, most=self.most)

    def validate_genre(self, value: str) -> Any:
        reference = genre_reference(value)
        found = genres_resolve(references=[reference]).genres if reference else []
        if not found:
            raise serializers.ValidationError(
                f"Unknown genre: {value.strip()[:100]!r}. Use a genre id or slug "
                "(see /api/v1/genres/).",
                code="unknown_genre",
            )
        return found[0]


class SimilarQuerySerializer(QuerySerializer):
    n = serializers.CharField(required=False)

    def __init__(self, *args: Any, most: int = 50, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.most = most

    def validate_n(self, value: str) -> int:
        return _bounded(value, most=self.most)


# --- trending ---------------------------------------------------------------------------------


class TrendingItemSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, read_only=True)
    track = TrackSerializer(read_only=True)
    score = serializers.FloatField(
        source="trend.score",
        read_only=True,
        help_text="The trending score: plays and likes of the last weeks, each decayed by its "
        "age (14-day half-life), as of the views' last refresh. Comparable within one answer.",
    )
    plays = serializers.IntegerField(source="trend.plays", read_only=True)
    likes = serializers.IntegerField(source="trend.likes", read_only=True)
    listeners = serializers.IntegerField(source="trend.listeners", read_only=True)


class TrendingSerializer(serializers.Serializer):
    genre = GenreRefSerializer(allow_null=True, read_only=True)
    refreshed_at = serializers.DateTimeField(
        allow_null=True,
        read_only=True,
        help_text="When the trending figures were last computed (every 15 minutes).",
    )
    results = TrendingItemSerializer(many=True, read_only=True)


# --- similar tracks ---------------------------------------------------------------------------

#: The sources of similar tracks and the kinds of their reasons (named enums in the schema:
#: ``SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]``).
SIMILAR_SOURCES = ["content", "collaborative"]
SIMILAR_REASON_KINDS = ["sounds_alike", "played_together"]


class SimilarReasonSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SIMILAR_REASON_KINDS, read_only=True)
    source = serializers.ChoiceField(choices=SIMILAR_SOURCES, read_only=True)
    text = serializers.CharField(read_only=True)


class SimilarSourcesSerializer(serializers.Serializer):
    """Each answering source's score of the track, in [0, 1] (0: it did not propose it)."""

    content = serializers.FloatField(min_value=0, max_value=1, required=False)
    collaborative = serializers.FloatField(min_value=0, max_value=1, required=False)


class SimilarItemSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, read_only=True)
    track = TrackSerializer(read_only=True)
    score = serializers.FloatField(min_value=0, max_value=1, read_only=True)
    sources = SimilarSourcesSerializer(read_only=True)
    reasons = SimilarReasonSerializer(many=True, read_only=True)


class SimilarSerializer(serializers.Serializer):
    track = TrackSerializer(read_only=True)
    model_version = serializers.IntegerField(
        source="model_version_id",
        allow_null=True,
        read_only=True,
        help_text="The model the collaborative neighbours come from; null: content only "
        "(before the first training, or a track the model has no vector for).",
    )
    sources = serializers.ListField(
        child=serializers.ChoiceField(choices=SIMILAR_SOURCES), read_only=True
    )
    results = SimilarItemSerializer(source="items", many=True, read_only=True)


# --- stats ------------------------------------------------------------------------------------


class CatalogFiguresSerializer(serializers.Serializer):
    tracks = serializers.IntegerField(min_value=0, read_only=True)
    artists = serializers.IntegerField(min_value=0, read_only=True)
    genres = serializers.IntegerField(min_value=0, read_only=True)


class ListenerFiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField(min_value=0, read_only=True)
    signed_in_24h = serializers.IntegerField(min_value=0, read_only=True)


class InteractionFiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField(min_value=0, read_only=True)
    last_24h = serializers.IntegerField(min_value=0, read_only=True)


class TrainingFiguresSerializer(serializers.Serializer):
    snapshot_at = serializers.DateTimeField(allow_null=True, read_only=True)
    training_seconds = serializers.FloatField(allow_null=True, read_only=True)
    listeners = serializers.IntegerField(min_value=0, read_only=True)
    tracks = serializers.IntegerField(min_value=0, read_only=True)
    cells = serializers.IntegerField(min_value=0, read_only=True)
    parameters = serializers.DictField(read_only=True)
    figures = serializers.DictField(read_only=True, help_text="Holdout figures of the training.")


class ModelFiguresSerializer(serializers.Serializer):
    version = serializers.IntegerField(read_only=True)
    trained_at = serializers.DateTimeField(read_only=True)
    activated_at = serializers.DateTimeField(allow_null=True, read_only=True)
    age_seconds = serializers.FloatField(min_value=0, read_only=True)
    training = TrainingFiguresSerializer(required=False, help_text="Staff only.")


class PopularityFiguresSerializer(serializers.Serializer):
    refreshed_at = serializers.DateTimeField(read_only=True)
    age_seconds = serializers.FloatField(min_value=0, read_only=True)
    seconds = serializers.FloatField(min_value=0, read_only=True)
    trending_tracks = serializers.IntegerField(min_value=0, read_only=True)


class CacheFiguresSerializer(serializers.Serializer):
    hits = serializers.IntegerField(min_value=0, read_only=True)
    misses = serializers.IntegerField(min_value=0, read_only=True)
    requests = serializers.IntegerField(min_value=0, read_only=True)
    hit_rate = serializers.FloatField(
        min_value=0,
        max_value=1,
        allow_null=True,
        read_only=True,
        help_text="Share of recommendation requests answered from the cache; null before any.",
    )
    available = serializers.BooleanField(
        read_only=True, help_text="False when Redis did not answer (the counts are then 0)."
    )


class QueueFiguresSerializer(serializers.Serializer):
    celery = serializers.IntegerField(
        min_value=0, allow_null=True, read_only=True, help_text="null: the broker did not answer"
    )


class StatsSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField(
        read_only=True, help_text="When these figures were computed (kept up to a minute)."
    )
    catalog = CatalogFiguresSerializer(read_only=True)
    listeners = ListenerFiguresSerializer(read_only=True)
    interactions = InteractionFiguresSerializer(read_only=True)
    model = ModelFiguresSerializer(
        allow_null=True, read_only=True, help_text="The active model; null before the first."
    )
    popularity = PopularityFiguresSerializer(allow_null=True, read_only=True)
    cache = CacheFiguresSerializer(
        read_only=True, help_text="The recommendation cache's figures since its counters began."
    )
    weights = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="Staff only: the blend's weight parameters (RECOMMENDER['ensemble']).",
    )
    queue = QueueFiguresSerializer(required=False, help_text="Staff only: tasks waiting.")
