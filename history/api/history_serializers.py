"""Serializers of the history API: entries out, ``{"track_id": N}`` in."""

from __future__ import annotations

from rest_framework import serializers

from catalog.api.serializers import TrackSerializer
from catalog.models import ID_MAX
from history.models import HistoryEntry


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
