"""``GET /api/v1/me/insights/``: the figures of the listener's insights page, as JSON.

:func:`insights_payload` turns the one :class:`ListenerInsights` the page also reads into plain
data; :class:`ListenerInsightsSerializer` documents (and writes) it."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from insights.charts import Chart
from insights.selectors.listener import PROFILE_FEATURES, FeatureProfile, ListenerInsights


class TotalsSerializer(serializers.Serializer):
    plays = serializers.IntegerField(min_value=0, help_text="Plays in the window.")
    imported_plays = serializers.IntegerField(min_value=0, help_text="Of them, imported.")
    history = serializers.IntegerField(min_value=0, help_text="Tracks in the history now.")
    liked = serializers.IntegerField(min_value=0, help_text="Tracks liked now.")

    class Meta:
        ref_name = "InsightsTotals"


class GenreShareSerializer(serializers.Serializer):
    name = serializers.CharField()
    share = serializers.FloatField(min_value=0, max_value=1, help_text="0–1; all add up to 1.")
    tracks = serializers.FloatField(
        min_value=0, help_text="Tracks it stands for (a track with k genres gives 1/k to each)."
    )

    class Meta:
        ref_name = "InsightsGenreShare"


class GenresSerializer(serializers.Serializer):
    history = GenreShareSerializer(many=True, help_text="Genres of the history, most first.")
    liked = GenreShareSerializer(many=True, help_text="Genres of the liked tracks, most first.")
    history_tracks = serializers.IntegerField(min_value=0, help_text="History tracks with a genre.")
    liked_tracks = serializers.IntegerField(min_value=0, help_text="Liked tracks with a genre.")

    class Meta:
        ref_name = "InsightsGenres"


class GenrePlaysSerializer(serializers.Serializer):
    name = serializers.CharField()
    plays = serializers.FloatField(min_value=0, help_text="Plays (a play's genres share it).")

    class Meta:
        ref_name = "InsightsGenrePlays"


class GenrePeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Inclusive.")
    plays = serializers.IntegerField(min_value=0)
    genres = GenrePlaysSerializer(many=True, help_text="Most played first.")

    class Meta:
        ref_name = "InsightsGenrePeriod"


class FeaturesSerializer(serializers.Serializer):
    energy = serializers.FloatField(min_value=0, max_value=1, allow_null=True)
    valence = serializers.FloatField(min_value=0, max_value=1, allow_null=True)
    danceability = serializers.FloatField(min_value=0, max_value=1, allow_null=True)
    acousticness = serializers.FloatField(min_value=0, max_value=1, allow_null=True)
    instrumentalness = serializers.FloatField(min_value=0, max_value=1, allow_null=True)
    speechiness = serializers.FloatField(min_value=0, max_value=1, allow_null=True)
    liveness = serializers.FloatField(min_value=0, max_value=1, allow_null=True)
    tempo = serializers.FloatField(
        min_value=0, max_value=1, allow_null=True, help_text="40 BPM → 0, 220 BPM → 1, clipped."
    )

    class Meta:
        ref_name = "InsightsFeatures"


class FeatureProfileSerializer(serializers.Serializer):
    features = FeaturesSerializer(help_text="0–1 each; null when no track has it.")
    tempo_bpm = serializers.FloatField(allow_null=True, help_text="The mean tempo in BPM.")
    listeners = serializers.IntegerField(min_value=0, help_text="Listeners' profiles averaged.")

    class Meta:
        ref_name = "InsightsFeatureProfile"


class DayPlaysSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A day in the listener's time zone.")
    plays = serializers.IntegerField(min_value=0)

    class Meta:
        ref_name = "InsightsDayPlays"


class HourPlaysSerializer(serializers.Serializer):
    hour = serializers.IntegerField(min_value=0, max_value=23, help_text="Local hour.")
    plays = serializers.IntegerField(min_value=0)

    class Meta:
        ref_name = "InsightsHourPlays"


class TopArtistSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    plays = serializers.IntegerField(min_value=1)

    class Meta:
        ref_name = "InsightsTopArtist"


class TopTrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    artists = serializers.CharField(help_text="Its artists, comma-separated.")
    plays = serializers.IntegerField(min_value=1)

    class Meta:
        ref_name = "InsightsTopTrack"


class BroughtTrackSerializer(serializers.Serializer):
    track_id = serializers.IntegerField()
    title = serializers.CharField()
    artists = serializers.CharField()
    first_served = serializers.DateTimeField(help_text="When a recommendation first showed it.")
    liked = serializers.BooleanField()
    in_history = serializers.BooleanField()
    in_playlist = serializers.BooleanField()

    class Meta:
        ref_name = "InsightsBroughtTrack"


class BroughtSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        min_value=0, help_text="Tracks met through a recommendation, then liked or added."
    )
    liked = serializers.IntegerField(min_value=0, help_text="Of them, liked now.")
    liked_share = serializers.FloatField(
        min_value=0, max_value=1, allow_null=True, help_text="`liked` / all likes (null: none)."
    )
    tracks = BroughtTrackSerializer(many=True, help_text="The most recently met first (≤ 20).")

    class Meta:
        ref_name = "InsightsBrought"


class ReadingsSerializer(serializers.Serializer):
    """One plain sentence per chart ("" when it has nothing to show)."""

    genres = serializers.CharField(allow_blank=True)
    genre_trend = serializers.CharField(allow_blank=True)
    profile = serializers.CharField(allow_blank=True)
    days = serializers.CharField(allow_blank=True)
    hours = serializers.CharField(allow_blank=True)
    top_artists = serializers.CharField(allow_blank=True)
    top_tracks = serializers.CharField(allow_blank=True)
    brought = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "InsightsReadings"


class ListenerInsightsSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    time_zone = serializers.CharField(help_text="The listener's; days and hours are local.")
    window_days = serializers.IntegerField(min_value=1)
    window_start = serializers.DateField(help_text="The first day of the window (local).")
    totals = TotalsSerializer()
    genres = GenresSerializer()
    genre_periods = GenrePeriodSerializer(many=True, help_text="Oldest first.")
    profile = FeatureProfileSerializer(help_text="The listener's audio-feature profile.")
    platform = FeatureProfileSerializer(help_text="The average listener's (cached for an hour).")
    plays_per_day = DayPlaysSerializer(many=True, help_text="Every day of the window.")
    plays_per_hour = HourPlaysSerializer(many=True, help_text="Hours 0–23, local.")
    top_artists = TopArtistSerializer(many=True)
    top_tracks = TopTrackSerializer(many=True)
    brought = BroughtSerializer()
    readings = ReadingsSerializer()

    class Meta:
        ref_name = "ListenerInsights"


def _profile(profile: FeatureProfile) -> dict[str, Any]:
    return {
        "features": {name: profile.features.get(name) for name in PROFILE_FEATURES},
        "tempo_bpm": profile.tempo_bpm,
        "listeners": profile.listeners,
    }


def insights_payload(insights: ListenerInsights, charts: list[Chart]) -> dict[str, Any]:
    """The JSON of ``insights`` (the readings are those of the page's ``charts``)."""
    genres = insights.genres
    return {
        "generated_at": insights.generated_at,
        "time_zone": insights.time_zone,
        "window_days": insights.window_days,
        "window_start": insights.window_start,
        "totals": insights.totals,
        "genres": {
            "history": genres.history,
            "liked": genres.liked,
            "history_tracks": genres.history_tracks,
            "liked_tracks": genres.liked_tracks,
        },
        "genre_periods": [
            {
                "start": period.start,
                "end": period.end,
                "plays": period.plays,
                "genres": [
                    {"name": name, "plays": plays}
                    for name, plays in sorted(period.genres.items(), key=lambda i: (-i[1], i[0]))
                ],
            }
            for period in insights.genre_periods
        ],
        "profile": _profile(insights.profile),
        "platform": _profile(insights.platform),
        "plays_per_day": [{"date": day, "plays": plays} for day, plays in insights.plays_per_day],
        "plays_per_hour": [
            {"hour": hour, "plays": plays} for hour, plays in enumerate(insights.plays_per_hour)
        ],
        "top_artists": [
            {"id": count.id, "name": count.name, "plays": count.plays}
            for count in insights.top_artists
        ],
        "top_tracks": [
            {"id": c.id, "title": c.name, "artists": c.detail, "plays": c.plays}
            for c in insights.top_tracks
        ],
        "brought": {
            "count": insights.brought.count,
            "liked": insights.brought.liked,
            "liked_share": insights.liked_share_brought,
            "tracks": insights.brought.tracks,
        },
        "readings": {chart.key.replace("-", "_"): chart.reading for chart in charts},
    }
