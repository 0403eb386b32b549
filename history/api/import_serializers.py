"""Serialisers of the import API (output only, plus the upload and offer inputs)."""

from __future__ import annotations

from rest_framework import serializers

from history.models import ListenImport


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
