from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import FEATURE_RANGES, Album, Artist, Genre, Track

AUDIO_FEATURES = tuple(FEATURE_RANGES)


class GenreSerializer(serializers.ModelSerializer):
    track_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Genre
        fields = ["id", "name", "slug", "track_count"]


class GenreRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Genre
        fields = ["id", "name", "slug"]


class ArtistRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Artist
        fields = ["id", "name"]


class AlbumSerializer(serializers.ModelSerializer):
    primary_artist = ArtistRefSerializer(read_only=True)

    class Meta:
        model = Album
        fields = ["id", "name", "primary_artist", "release_year"]
        read_only_fields = fields  # output only: the schema says every key is there


class AudioFeaturesSerializer(serializers.Serializer):
    danceability = serializers.FloatField(allow_null=True)
    energy = serializers.FloatField(allow_null=True)
    valence = serializers.FloatField(allow_null=True)
    acousticness = serializers.FloatField(allow_null=True)
    instrumentalness = serializers.FloatField(allow_null=True)
    speechiness = serializers.FloatField(allow_null=True)
    liveness = serializers.FloatField(allow_null=True)
    tempo = serializers.FloatField(allow_null=True, help_text="beats per minute")
    loudness = serializers.FloatField(allow_null=True, help_text="dB")
    key = serializers.IntegerField(allow_null=True, help_text="0 = C … 11 = B, -1 none")
    mode = serializers.IntegerField(allow_null=True, help_text="1 major, 0 minor")
    time_signature = serializers.IntegerField(allow_null=True)


class TrackSerializer(serializers.ModelSerializer):
    artists = serializers.SerializerMethodField()
    album = AlbumSerializer(read_only=True)
    genres = GenreRefSerializer(many=True, read_only=True)
    audio_features = serializers.SerializerMethodField()
    spotify_url = serializers.CharField(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Track
        fields = [
            "id",
            "spotify_id",
            "title",
            "artists",
            "album",
            "genres",
            "duration_ms",
            "popularity",
            "explicit",
            "release_year",
            "audio_features",
            "spotify_url",
            "url",
        ]
        read_only_fields = fields  # output only: the schema says every key is there

    @extend_schema_field(ArtistRefSerializer(many=True))
    def get_artists(self, track: Track) -> list[dict[str, Any]]:
        return ArtistRefSerializer(track.artist_list, many=True).data

    @extend_schema_field(AudioFeaturesSerializer)
    def get_audio_features(self, track: Track) -> dict[str, Any]:
        return {name: getattr(track, name) for name in AUDIO_FEATURES}


class ArtistSerializer(serializers.ModelSerializer):
    track_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Artist
        fields = ["id", "name", "track_count"]


class ArtistDetailSerializer(ArtistSerializer):
    top_tracks = serializers.SerializerMethodField()
    genres = serializers.SerializerMethodField()

    class Meta(ArtistSerializer.Meta):
        fields = [*ArtistSerializer.Meta.fields, "genres", "top_tracks"]

    @extend_schema_field(TrackSerializer(many=True))
    def get_top_tracks(self, artist: Artist) -> list[dict[str, Any]]:
        return TrackSerializer(self.context["top_tracks"], many=True).data

    @extend_schema_field(GenreRefSerializer(many=True))
    def get_genres(self, artist: Artist) -> list[dict[str, Any]]:
        return GenreRefSerializer(self.context["genres"], many=True).data


class SearchRecommendationSerializer(TrackSerializer):
    """The search result that fits the signed-in listener best: the track, and why."""

    reason = serializers.CharField(
        read_only=True,
        help_text='Why it fits the listener, a sentence to show as it is ("Because you '
        'listen to Daft Punk").',
    )

    class Meta(TrackSerializer.Meta):
        fields = [*TrackSerializer.Meta.fields, "reason"]


class SearchResponseSerializer(serializers.Serializer):
    """Shape of ``GET /api/v1/search/`` (for the schema)."""

    query = serializers.CharField()
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TrackSerializer(many=True)
    recommendation = SearchRecommendationSerializer(
        allow_null=True,
        help_text="The result of this page that fits the signed-in listener best (one of "
        "`results`), with its `reason`; null for an anonymous caller, when there is no result, "
        "or when the recommender has no pick.",
    )
