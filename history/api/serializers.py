"""Serializers of the history API: entries, interactions, imports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from catalog.api.serializers import ArtistRefSerializer, TrackSerializer
from catalog.models import ID_MAX
from history.models import HistoryEntry, Interaction, ListenImport


class HistoryEntrySerializer(serializers.ModelSerializer):
    track = TrackSerializer(read_only=True)

    class Meta:
        model = HistoryEntry
        fields = ["id", "track", "slot", "added_at"]


class HistoryAddSerializer(serializers.Serializer):
    track_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)


class HistorySummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    remaining = serializers.IntegerField()


class HistoryAddedSerializer(HistoryEntrySerializer):
    """The entry, the history's new size and, from the 45th entry on, the warning."""

    count = serializers.IntegerField(read_only=True)
    limit = serializers.IntegerField(read_only=True)
    remaining = serializers.IntegerField(read_only=True)
    warning = serializers.CharField(
        read_only=True, required=False, help_text='e.g. "5 slots remaining"; absent below 45'
    )

    class Meta(HistoryEntrySerializer.Meta):
        fields = [*HistoryEntrySerializer.Meta.fields, "count", "limit", "remaining", "warning"]


class InteractionInputSerializer(serializers.Serializer):
    track_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
    listened_ms = serializers.IntegerField(required=False, allow_null=True, max_value=ID_MAX)
    mood = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text='Missing or null: the listener\'s current mood; "": none.',
    )
    activity = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text='Missing or null: the listener\'s current activity; "": none.',
    )


class InteractionTrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    duration_ms = serializers.IntegerField()
    artists = ArtistRefSerializer(source="artist_list", many=True)


class InteractionSerializer(serializers.ModelSerializer):
    track = InteractionTrackSerializer(read_only=True)
    mood = serializers.SerializerMethodField()
    activity = serializers.SerializerMethodField()

    class Meta:
        model = Interaction
        fields = [
            "id",
            "track",
            "kind",
            "listened_ms",
            "mood",
            "activity",
            "occurred_at",
            "recorded_at",
        ]

    def get_mood(self, event: Interaction) -> str | None:
        return event.mood or None

    def get_activity(self, event: Interaction) -> str | None:
        return event.activity or None


def _bound(raw: str, *, end: bool) -> dt.datetime:
    """An ISO date (the whole day, in the site's time zone) or an ISO date-time."""
    raw = raw.strip()
    # A bare date first: parse_datetime would also read "2025-01-31" (as its midnight).
    try:
        day = parse_date(raw)
        moment = None if day else parse_datetime(raw)
    except ValueError:
        moment = day = None
    if day is not None:
        try:
            if end:
                day += dt.timedelta(days=1)
            return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        except OverflowError:
            raise serializers.ValidationError("This date is out of range.") from None
    if moment is None:
        raise serializers.ValidationError("An ISO date (2025-01-31) or date-time.")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class InteractionFilterSerializer(serializers.Serializer):
    """``?kind=play,skip`` · ``?since=2025-01-01`` (from that day on) · ``?until=2025-01-31``
    (to the end of that day; a date-time is an exclusive bound)."""

    kind = serializers.CharField(required=False)
    since = serializers.CharField(required=False)
    until = serializers.CharField(required=False)

    def validate_kind(self, value: str) -> list[str]:
        kinds = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [kind for kind in kinds if kind not in Interaction.Kind.values]
        if unknown or not kinds:
            raise serializers.ValidationError(
                f"Unknown kind(s): {', '.join(unknown) or value!r}; "
                f"use {', '.join(Interaction.Kind.values)}."
            )
        return kinds

    def validate_since(self, value: str) -> dt.datetime:
        return _bound(value, end=False)

    def validate_until(self, value: str) -> dt.datetime:
        return _bound(value, end=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and since >= until:
            raise serializers.ValidationError({"until": ["Must be after since."]})
        return attrs


class ListenImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)


class OfferedTrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    spotify_id = serializers.CharField()
    title = serializers.CharField()
    artists = serializers.ListField(child=serializers.CharField())
    in_history = serializers.BooleanField()


class ListenImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = ListenImport
        fields = [
            "id",
            "format",
            "file_name",
            "file_size",
            "status",
            "progress",
            "listens",
            "skipped",
            "matched",
            "unmatched",
            "created",
            "duplicates",
            "over_limit",
            "top_unmatched",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ListenImportDetailSerializer(ListenImportSerializer):
    offered_tracks = OfferedTrackSerializer(many=True, read_only=True)

    class Meta(ListenImportSerializer.Meta):
        fields = [*ListenImportSerializer.Meta.fields, "offered_tracks"]
        read_only_fields = fields


class OfferAcceptSerializer(serializers.Serializer):
    track_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=50
    )
