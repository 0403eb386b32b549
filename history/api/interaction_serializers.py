"""Interaction API serializers.

Input serializers only parse JSON types; what a value may be (a known kind, listened_ms within
the track's duration, a known mood) is decided by ``history.interactions.interaction_record``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from catalog.api.serializers import ArtistRefSerializer
from catalog.models import ID_MAX
from history.models import Interaction


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
